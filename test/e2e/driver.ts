// UI steps over a real VS Code workbench (code-server in headless Chromium): what a person does,
// with the waits and retries the workbench needs. Each public method is one logged step; a failed
// step leaves FAIL-<scenario>-step-N.png next to the other screenshots.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { secs } from '../runner/codeServer';

// The callbacks passed to evaluate() run in the browser; the project compiles without the DOM lib
// (on purpose: Node code must not see browser globals), so declare the little they touch here.
declare const document: { body: { innerText: string } | null };

// Monaco renders spaces as U+00A0 in editors and the Output panel.
export const norm = (s: string | null | undefined): string => (s || '').replace(/\u00a0/g, ' ');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface StepRecord { index: number; step: string; ok: boolean; ms: number; info?: string; error?: string; screenshot?: string }

export interface StepOptions { timeout?: number }

export class Driver {
  readonly steps: StepRecord[] = [];

  constructor(
    readonly page: Page,
    /** The fresh workspace folder the workbench has open (on this machine's disk). */
    readonly workspace: string,
    /** Where screenshots go (test-artifacts/e2e). */
    readonly screenshotsDir: string,
    readonly scenario: string,
    readonly defaultTimeout = 30_000,
  ) {}

  /** Runs fn as one named step: logs PASS/FAIL with its time and screenshots a failure. */
  async step<T>(description: string, fn: () => Promise<T>): Promise<T> {
    // Recorded up front so a step made of steps is numbered before its parts.
    const rec: StepRecord = { index: this.steps.length + 1, step: description, ok: false, ms: 0 };
    this.steps.push(rec);
    const t = Date.now();
    try {
      const result = await fn();
      const info = typeof result === 'string' && result ? result : undefined;
      Object.assign(rec, { ok: true, ms: Date.now() - t, info });
      console.log(`    PASS ${rec.index}. ${description} (${secs(t)}s)${info ? ` -> ${info}` : ''}`);
      return result;
    } catch (e) {
      const error = String((e as Error).message || e);
      // An enclosing step failing because its inner step did already has that step's picture.
      const inner = this.steps.find((x) => x.index > rec.index && !x.ok && x.screenshot);
      const shot = inner?.screenshot ?? path.join(this.screenshotsDir, `FAIL-${this.scenario}-step-${rec.index}.png`);
      if (!inner) await this.page.screenshot({ path: shot }).catch(() => undefined);
      Object.assign(rec, { ok: false, ms: Date.now() - t, error, screenshot: shot });
      console.log(`    FAIL ${rec.index}. ${description} (${secs(t)}s): ${error.split('\n')[0]}\n         screenshot: ${shot}`);
      throw e;
    }
  }

  /** Polls fn until it returns a truthy value. */
  async poll<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeout: number, what: string, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeout;
    let last: unknown;
    while (Date.now() < deadline) {
      try { const r = await fn(); if (r) return r; } catch (e) {
        if ((e as { fatal?: boolean }).fatal) throw e; // waiting longer cannot help
        last = e;
      }
      await sleep(intervalMs);
    }
    throw new Error(`timeout after ${timeout}ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
  }

  private quickInput() {
    return this.page.locator('.quick-input-widget .quick-input-box input');
  }

  private async quickPickRows(): Promise<{ index: string; label: string; description: string }[]> {
    return this.page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rows) => rows.map((r) => ({
      index: r.getAttribute('data-index') || '',
      label: (r.querySelector('.label-name')?.textContent || '').replace(/\u00a0/g, ' ').trim(),
      description: (r.querySelector('.label-description')?.textContent || '').replace(/\u00a0/g, ' ').trim(),
    })));
  }

  /**
   * Runs a command by its palette title: F1, type it, click the row whose label is exactly the
   * title. Early in startup a focus change can close the palette, hence the retries.
   */
  command(title: string, opts: StepOptions = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`command "${title}"`, async () => {
      const deadline = Date.now() + timeout;
      let attempt = 0, lastErr: unknown;
      while (Date.now() < deadline) {
        attempt++;
        try {
          await this.page.keyboard.press('Escape');
          await this.page.keyboard.press('F1');
          const input = this.quickInput();
          await input.waitFor({ state: 'visible', timeout: 5000 });
          await input.fill('>' + title);
          const idx = await this.poll(async () => {
            if (!(await input.isVisible())) throw new Error('command palette closed');
            return (await this.quickPickRows()).find((r) => r.label === title)?.index;
          }, Math.min(10_000, Math.max(1000, deadline - Date.now())), `palette entry "${title}"`);
          await this.page.click(`.quick-input-widget .quick-input-list .monaco-list-row[data-index="${idx}"]`);
          return attempt > 1 ? `after ${attempt} attempts` : '';
        } catch (e) {
          lastErr = e;
          await sleep(500);
        }
      }
      throw new Error(`could not run "${title}" from the command palette: ${(lastErr as Error)?.message}`);
    });
  }

  /**
   * Picks an item in the quick pick an extension opened: waits for a row whose label equals
   * `label` (or, failing that, contains it) and clicks it. `filter` types into the box first,
   * which keeps long lists short enough to be fully rendered.
   */
  pick(label: string, opts: StepOptions & { filter?: boolean } = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`pick "${label}"`, async () => {
      const input = this.quickInput();
      await this.poll(async () => (await input.isVisible()) && !(await input.inputValue()).startsWith('>'), timeout,
        'a quick pick (not the command palette) to open');
      if (opts.filter ?? true) await input.fill(label);
      let seen: string[] = [];
      const row = await this.poll(async () => {
        const rows = await this.quickPickRows();
        seen = rows.map((r) => r.label);
        return rows.find((r) => r.label === label) || rows.find((r) => r.label.includes(label));
      }, timeout, `quick pick row "${label}"`).catch((e: Error) => {
        throw new Error(`${e.message}; rows: ${JSON.stringify(seen)}`);
      });
      await this.page.click(`.quick-input-widget .quick-input-list .monaco-list-row[data-index="${row.index}"]`);
      return row.label === label ? '' : `matched "${row.label}"`;
    });
  }

  /** Label and description of the quick pick rows shown right now (empty if none is open). */
  async visibleQuickPickRows(): Promise<{ label: string; description: string }[]> {
    if (!(await this.quickInput().isVisible().catch(() => false))) return [];
    return (await this.quickPickRows()).map((r) => ({ label: r.label, description: r.description }));
  }

  /** Labels of the quick pick rows shown right now (empty if none is open). */
  async visibleQuickPickLabels(): Promise<string[]> {
    if (!(await this.quickInput().isVisible().catch(() => false))) return [];
    return (await this.quickPickRows()).map((r) => r.label);
  }

  // Webviews are <iframe class="webview"> (…/pre/index.html) holding <iframe id="active-frame">
  // (fake.html) with the extension's HTML. contentFrame() on the outer iframe can be null just
  // after the panel opens, so every frame is checked instead.
  async findWebviewFrame(query: { text?: string | RegExp; selector?: string }): Promise<Frame | undefined> {
    for (const f of this.page.frames()) {
      if (!f.parentFrame() || !/\/webview\/browser\/pre\/fake\.html/.test(f.url())) continue;
      try {
        if (query.text !== undefined) {
          const body = norm(await f.evaluate(() => (document.body ? document.body.innerText : '')));
          if (typeof query.text === 'string' ? !body.includes(query.text) : !query.text.test(body)) continue;
        }
        if (query.selector && !(await f.$(query.selector))) continue;
        return f;
      } catch { /* frame detached or navigating */ }
    }
    return undefined;
  }

  /** The texts of all webviews now (for diagnostics and custom waits). */
  async webviewTexts(): Promise<string[]> {
    const out: string[] = [];
    for (const f of this.page.frames()) {
      if (!f.parentFrame() || !/\/webview\/browser\/pre\/fake\.html/.test(f.url())) continue;
      try { out.push(norm(await f.evaluate(() => (document.body ? document.body.innerText : '')))); } catch { /* detached */ }
    }
    return out;
  }

  /**
   * Waits until a webview's text contains `text`. `failIf` is polled alongside and ends the wait
   * early with its message (e.g. a run that failed will never show "completed").
   */
  waitForWebview(text: string | RegExp, opts: StepOptions & { failIf?: () => Promise<string | undefined> | string | undefined } = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`webview shows ${JSON.stringify(String(text))}`, async () => {
      const f = await this.poll(async () => {
        if (opts.failIf) { const why = await opts.failIf(); if (why) throw Object.assign(new Error(why), { fatal: true }); }
        return this.findWebviewFrame({ text });
      }, timeout, `a webview containing ${JSON.stringify(String(text))}`, 500).catch(async (e: Error) => {
        const texts = (await this.webviewTexts()).map((t) => t.slice(0, 200));
        throw new Error(`${e.message}; webviews now: ${JSON.stringify(texts)}`);
      });
      const body = norm(await f.evaluate(() => document.body?.innerText ?? '')).replace(/\s+/g, ' ');
      return JSON.stringify(body.length > 160 ? body.slice(0, 160) + '…' : body);
    });
  }

  webviewClick(selector: string, opts: StepOptions & { webview?: string } = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`click ${selector} in webview`, async () => {
      const f = await this.poll(() => this.findWebviewFrame({ text: opts.webview, selector }), timeout, `a webview with ${selector}`);
      await f.click(selector, { timeout });
      return '';
    });
  }

  webviewFill(selector: string, value: string, opts: StepOptions & { webview?: string } = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`fill ${selector} in webview`, async () => {
      const f = await this.poll(() => this.findWebviewFrame({ text: opts.webview, selector }), timeout, `a webview with ${selector}`);
      await f.fill(selector, value, { timeout });
      return '';
    });
  }

  /** Text anywhere in the workbench: notifications, Output panel, editors, status bar. */
  waitForText(text: string, opts: StepOptions = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`workbench shows "${text}"`, async () => {
      await this.poll(async () => norm(await this.page.evaluate(() => document.body?.innerText ?? '')).includes(text), timeout, `workbench text "${text}"`);
      return '';
    });
  }

  waitForSelector(selector: string, opts: StepOptions = {}): Promise<string> {
    return this.step(`selector ${selector}`, async () => { await this.page.waitForSelector(selector, { timeout: opts.timeout ?? this.defaultTimeout }); return ''; });
  }

  click(selector: string, opts: StepOptions = {}): Promise<string> {
    return this.step(`click ${selector}`, async () => { await this.page.click(selector, { timeout: opts.timeout ?? this.defaultTimeout }); return ''; });
  }

  press(keys: string): Promise<string> {
    return this.step(`press ${keys}`, async () => { await this.page.keyboard.press(keys); return ''; });
  }

  type(text: string): Promise<string> {
    return this.step(`type ${JSON.stringify(text)}`, async () => { await this.page.keyboard.type(text, { delay: 10 }); return ''; });
  }

  sleep(ms: number): Promise<string> {
    return this.step(`sleep ${ms}ms`, async () => { await sleep(ms); return ''; });
  }

  /** Quick Open (Ctrl+P) a workspace-relative file and wait for its tab. */
  openFile(rel: string, opts: StepOptions = {}): Promise<string> {
    const timeout = opts.timeout ?? this.defaultTimeout;
    return this.step(`open file ${rel}`, async () => {
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('Control+P');
      const input = this.quickInput();
      await input.waitFor({ state: 'visible', timeout });
      await input.fill(rel);
      await this.page.waitForSelector('.quick-input-widget .quick-input-list .monaco-list-row', { timeout });
      await sleep(300);
      await this.page.keyboard.press('Enter');
      await this.page.waitForSelector(`.tabs-container .tab[aria-label*="${path.basename(rel)}"]`, { timeout });
      return '';
    });
  }

  /**
   * Full-window PNG into test-artifacts/e2e/ (a name, or an absolute path); with `selector`, only
   * that workbench element (e.g. '.part.editor' for the open panel, '.part.sidebar' for a view).
   */
  screenshot(name: string, opts: { settleMs?: number; selector?: string } = {}): Promise<string> {
    return this.step(`screenshot ${name}`, async () => {
      const file = path.isAbsolute(name) ? name : path.join(this.screenshotsDir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await sleep(opts.settleMs ?? 300);
      if (opts.selector) await this.page.locator(opts.selector).first().screenshot({ path: file });
      else await this.page.screenshot({ path: file });
      return file;
    });
  }

  /**
   * Reloads the window the way a person does: "Developer: Reload Window" from the palette (or,
   * with `via: 'page'`, the browser's reload), then waits for a new document and the same
   * readiness as a fresh session (test/runner/codeServer.ts: .monaco-workbench, then the
   * LifecyclePhase/Eventually mark, so the palette is not closed by a late focus change).
   * The extension host restarts with the window; the URL keeps the extension-development payload.
   */
  reload(opts: StepOptions & { via?: 'palette' | 'page' } = {}): Promise<string> {
    const timeout = opts.timeout ?? 90_000;
    return this.step(`reload the window (${opts.via === 'page' ? 'page.reload()' : '"Developer: Reload Window"'})`, async () => {
      const t = Date.now();
      const origin = await this.page.evaluate(() => performance.timeOrigin);
      if (opts.via === 'page') await this.page.reload({ waitUntil: 'domcontentloaded', timeout });
      else await this.command('Developer: Reload Window');
      // A new document has a new timeOrigin; evaluate() throws while the page navigates (poll retries).
      await this.poll(async () => (await this.page.evaluate(() => performance.timeOrigin)) !== origin, timeout, 'the window to reload (a new document)');
      await this.page.waitForSelector('.monaco-workbench', { timeout });
      await this.page.waitForFunction(() => performance.getEntriesByName('code/LifecyclePhase/Eventually').length > 0, null, { timeout });
      await sleep(500);
      return `workbench ready again after ${((Date.now() - t) / 1000).toFixed(1)}s`;
    });
  }

  /** A check on this machine's disk (run folders, written files) recorded as a step. */
  check(description: string, fn: () => Promise<string | void> | string | void): Promise<string> {
    return this.step(description, async () => (await fn()) || '');
  }
}
