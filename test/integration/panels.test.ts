// The four panels inside a real extension host, against run folders written by hand (so no
// training is needed): each command opens its panel, the tab carries the panel's title, and a
// closed panel opens again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFakeRun } from '../fixtures/runFolder';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ServicesLike {
  runs: { runsFolder: string; refresh(): void; get(runDir: string): unknown };
}

function writeRun(runDir: string, name: string, opts: { leak: boolean; robustness: boolean }): void {
  writeFakeRun(runDir, {
    name, writtenBy: 'the panels test', epochs: 5, stepsPerEpoch: 4, milestones: [3], costFactor: 1.2000000000000002, logEvery: 2,
    config: { shuffleBN: !opts.leak, bnGroups: opts.leak ? 1 : 2 },
    step: (step) => ({
      epoch: Math.floor(step / 4),
      adv: { loss: 0.8, acc: opts.leak ? 0.85 : 0.4, images: 32 },
      leak: { flagged: opts.leak && step >= 10, clean: 0.6, adv: opts.leak ? 0.85 : 0.4, step, message: opts.leak ? 'adversarial above clean' : '' },
    }),
    epochRecords: [{ epoch: 4, step: 20, test: { loss: 1, acc: 0.7 }, train: { loss: 1, acc: 0.6 }, seconds: 2 }],
    robustness: opts.robustness ? {
      schema: 1, createdAt: new Date().toISOString(), source: 'in-memory', images: 64, clean: { accuracy: 0.7, error: 0.3 },
      corruptions: { fog: { family: 'weather', errors: [0.3, 0.35, 0.4, 0.5, 0.6] }, gaussian_noise: { family: 'noise', errors: [0.4, 0.5, 0.6, 0.7, 0.8] } },
      summary: { meanCorruptionError: 51, mCE: 60, relativeMCE: 40, perCorruptionCE: {} },
    } : undefined,
  });
}

function webviewTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);
}

async function waitForTab(label: string, present = true, ms = 10_000): Promise<vscode.Tab | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const tab = webviewTabs().find((t) => t.label === label);
    if (present ? tab : !tab) return tab;
    await sleep(100);
  }
  assert.fail(`${present ? 'no' : 'still a'} webview tab "${label}"; open: ${JSON.stringify(webviewTabs().map((t) => t.label))}`);
}

async function closeTab(label: string): Promise<void> {
  const tab = await waitForTab(label);
  await vscode.window.tabGroups.close(tab!);
  await waitForTab(label, false);
}

suite('Fast AdvProp panels', () => {
  const stamp = Date.now();
  const nameA = `panels-it-a-${stamp}`;
  const nameB = `panels-it-b-${stamp}`;
  let runA = '';
  let runB = '';

  suiteSetup(async function () {
    this.timeout(60_000);
    const ext = vscode.extensions.getExtension<ServicesLike>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    const services = await ext.activate();
    assert.ok(services?.runs?.runsFolder, 'activate() did not return the services');
    runA = path.join(services.runs.runsFolder, nameA);
    runB = path.join(services.runs.runsFolder, nameB);
    writeRun(runA, nameA, { leak: false, robustness: true });
    writeRun(runB, nameB, { leak: true, robustness: true });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(services.runs.get(runA) && services.runs.get(runB))) {
      services.runs.refresh();
      await sleep(200);
    }
    assert.ok(services.runs.get(runA) && services.runs.get(runB), 'the runs model did not pick up the hand-written run folders');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const d of [runA, runB]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('every panel command is registered', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['openDashboard', 'openBudgetCalculator', 'compareRuns', 'exportResultsTable', 'addToComparison', 'openRobustness']) {
      assert.ok(commands.includes(`fastAdvprop.${c}`), `fastAdvprop.${c} is not registered`);
    }
  });

  test('dashboard opens for a run folder, reveals instead of duplicating, and reopens after close', async () => {
    const title = `Fast AdvProp: ${nameB}`;
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', runB);
    const tab = await waitForTab(title);
    assert.ok((tab!.input as vscode.TabInputWebview).viewType.endsWith('fastAdvprop.dashboard'));
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', { runDir: runB });
    await sleep(300);
    assert.equal(webviewTabs().filter((t) => t.label === title).length, 1, 'a second dashboard for the same run');
    await closeTab(title);
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', runB);
    await waitForTab(title);
  });

  test('budget calculator opens (for a run) and reopens', async () => {
    const title = 'Fast AdvProp: Budget Calculator';
    await vscode.commands.executeCommand('fastAdvprop.openBudgetCalculator', runA);
    await waitForTab(title);
    await closeTab(title);
    await vscode.commands.executeCommand('fastAdvprop.openBudgetCalculator');
    await waitForTab(title);
  });

  test('compare runs opens for two runs and reopens', async () => {
    const title = 'Fast AdvProp: Compare Runs';
    await vscode.commands.executeCommand('fastAdvprop.compareRuns', [runA, runB]);
    const tab = await waitForTab(title);
    assert.ok((tab!.input as vscode.TabInputWebview).viewType.endsWith('fastAdvprop.compare'));
    await closeTab(title);
    await vscode.commands.executeCommand('fastAdvprop.compareRuns', [{ runDir: runA }, { runDir: runB }]);
    await waitForTab(title);
  });

  test('robustness opens for a run with robustness.json and reopens', async () => {
    const title = `Robustness: ${nameA}`;
    await vscode.commands.executeCommand('fastAdvprop.openRobustness', runA);
    await waitForTab(title);
    await closeTab(title);
    await vscode.commands.executeCommand('fastAdvprop.openRobustness', runA);
    await waitForTab(title);
  });

  // Issue #12: the page each panel actually hands to its webview must carry the policy; a unit test
  // of the policy string alone passes with the <meta> deleted from the template.
  test('every panel\'s page, as set on its webview, carries the Content-Security-Policy meta with its script\'s nonce', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const created: vscode.WebviewPanel[] = [];
    const win = vscode.window as { createWebviewPanel: typeof vscode.window.createWebviewPanel };
    const original = win.createWebviewPanel;
    // The extension and its tests share one vscode API object (same extension folder), so this sees
    // the panels the extension creates and reads back exactly the html it set.
    win.createWebviewPanel = ((...args: Parameters<typeof original>) => {
      const panel = original.apply(vscode.window, args);
      created.push(panel);
      return panel;
    }) as typeof original;
    try {
      await vscode.commands.executeCommand('fastAdvprop.openDashboard', runA);
      await vscode.commands.executeCommand('fastAdvprop.openBudgetCalculator', runA);
      await vscode.commands.executeCommand('fastAdvprop.compareRuns', [runA, runB]);
      await vscode.commands.executeCommand('fastAdvprop.openRobustness', runA);
    } finally {
      win.createWebviewPanel = original;
    }
    const types = created.map((p) => p.viewType).sort();
    assert.deepEqual(types, ['fastAdvprop.budget', 'fastAdvprop.compare', 'fastAdvprop.dashboard', 'fastAdvprop.robustness'], 'did not see each panel created once');
    for (const panel of created) {
      const html = panel.webview.html;
      const head = /<head>([^]*?)<\/head>/.exec(html)?.[1] ?? '';
      const metas = [...head.matchAll(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"\s*>/gi)];
      assert.equal(metas.length, 1, `${panel.viewType}: expected one CSP <meta> in <head>:\n${html.slice(0, 800)}`);
      // It must come before anything the page loads, or those load unrestricted.
      assert.ok(head.indexOf(metas[0][0]) < head.search(/<link|<script|<style/i), `${panel.viewType}: the CSP <meta> is not first`);
      const policy = metas[0][1].replace(/&#39;|&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      const directives = new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v] as const));
      assert.deepEqual(directives.get('default-src'), ["'none'"], `${panel.viewType}: ${policy}`);
      const scripts = [...html.matchAll(/<script\b([^>]*)>/gi)];
      assert.ok(scripts.length > 0, `${panel.viewType}: no script`);
      const scriptSrc = directives.get('script-src') ?? [];
      assert.equal(scriptSrc.length, 1, `${panel.viewType}: script-src must be the nonce alone: ${policy}`);
      for (const [, attrs] of scripts) {
        const nonce = /nonce="([^"]+)"/.exec(attrs)?.[1];
        assert.ok(nonce && scriptSrc[0] === `'nonce-${nonce}'`, `${panel.viewType}: a script without the policy's nonce: <script${attrs}>`);
      }
      // cspSource may be several sources ("'self' https://…"), so compared as text.
      const styleSrc = policy.split(';').map((d) => d.trim()).find((d) => d.startsWith('style-src ')) ?? '';
      assert.ok(styleSrc.includes(` ${panel.webview.cspSource} `) || styleSrc.endsWith(` ${panel.webview.cspSource}`), `${panel.viewType}: style-src lacks the webview's cspSource ${panel.webview.cspSource}: ${policy}`);
    }
  });
});
