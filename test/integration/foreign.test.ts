// Runs another trainer wrote (#18), inside a real extension host: fastAdvprop.extraRunFolders and
// Open Run Folder… list the real-writer fixtures, the dashboard, robustness panel and Compare open
// on them beside one of ours, Stop / Resume / Evaluate / Delete refuse them, a growing event file
// is followed, and nothing in their folders changes (bytes, sizes, mtimes) through all of it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { maskedCrc32c } from '../../src/shared/foreign/crc32c';
import { EventType } from '../../src/shared/foreign/eventProto';
import { writeFakeRun } from '../fixtures/runFolder';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const FIXTURES = path.join(__dirname, '../../../test/fixtures/foreign');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Snap { name: string; foreign?: { origin: string }; metrics: unknown[]; results?: { clean: { accuracy: number } }; robustness?: unknown }
interface ServicesLike {
  runs: { runsFolder: string; refresh(): void; get(runDir: string): Snap | undefined; list(): Snap[] };
  comparison: { get(): string[] };
}

/** Name, size, mtime and bytes of everything under a folder. */
function fingerprint(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort().map((n) => {
    const f = path.join(dir, n);
    const st = fs.statSync(f);
    return `${n}:${st.size}:${st.mtimeMs}:${st.isFile() ? fs.readFileSync(f).toString('base64') : 'dir'}`;
  });
}

async function until<T>(what: string, get: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function webviewTab(label: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label === label);
}

suite('Fast AdvProp: runs of other trainers', () => {
  let services: ServicesLike;
  let parent = '';
  let opened = '';
  let ours = '';
  let ref = '';
  let leak = '';

  suiteSetup(async function () {
    this.timeout(60_000);
    const ext = vscode.extensions.getExtension<ServicesLike>(EXTENSION_ID);
    assert.ok(ext);
    services = await ext.activate();
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-it-'));
    for (const name of ['reference-run', 'reference-leak', 'tensorboard-run']) fs.cpSync(path.join(FIXTURES, name), path.join(parent, name), { recursive: true, preserveTimestamps: true });
    opened = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-open-'));
    fs.cpSync(path.join(FIXTURES, 'timm-run'), path.join(opened, 'timm-run'), { recursive: true });
    ref = path.join(parent, 'reference-run');
    leak = path.join(parent, 'reference-leak');
    ours = path.join(services.runs.runsFolder, `foreign-it-ours-${Date.now()}`);
    writeFakeRun(ours, {
      name: path.basename(ours), writtenBy: 'the foreign-runs test', epochs: 2, stepsPerEpoch: 2, milestones: [], costFactor: 1, logEvery: 1,
      step: (step) => ({ epoch: Math.floor(step / 2) }),
      epochRecords: [{ epoch: 1, step: 4, test: { loss: 1, acc: 0.6 }, train: { loss: 1, acc: 0.55 }, seconds: 1 }],
    });
    await vscode.workspace.getConfiguration('fastAdvprop').update('extraRunFolders', [parent], vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('fastAdvprop').update('extraRunFolders', undefined, vscode.ConfigurationTarget.Global);
    for (const d of [parent, opened, ours]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  test('the setting lists every run in the folder, with its origin, beside ours', async () => {
    const r = await until('the reference run in the runs model', () => services.runs.get(ref));
    assert.equal(r.name, 'reference-run (PyTorch reference)');
    assert.equal(r.foreign?.origin, 'PyTorch reference');
    assert.equal(services.runs.get(path.join(parent, 'tensorboard-run'))?.name, 'tensorboard-run (TensorBoard)');
    assert.ok(r.results && r.robustness, 'the reference run has a result and its ImageNet-C log');
    await until('our run', () => services.runs.get(ours));
  });

  test('dashboard, robustness panel and Compare open on it; nothing in its folder changes', async function () {
    this.timeout(60_000);
    const before = fingerprint(parent);
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', ref);
    await until('the dashboard tab', () => webviewTab('Fast AdvProp: reference-run (PyTorch reference)'));
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', leak);
    await until('the leaky run\'s dashboard tab', () => webviewTab('Fast AdvProp: reference-leak (PyTorch reference)'));
    await vscode.commands.executeCommand('fastAdvprop.openRobustness', ref);
    await until('the robustness tab', () => webviewTab('Robustness: reference-run (PyTorch reference)'));
    await vscode.commands.executeCommand('fastAdvprop.compareRuns', [ref, ours]);
    await until('the compare tab', () => webviewTab('Fast AdvProp: Compare Runs'));
    // Its notification waits for a click; the comparison set is what matters.
    void vscode.commands.executeCommand('fastAdvprop.addToComparison', ref);
    await until('the run in the comparison', () => services.comparison.get().includes(ref));
    await sleep(2500); // a few polls of the runs model with every panel open
    assert.deepEqual(fingerprint(parent), before, 'a foreign folder was written to');
  });

  test('Stop, Resume, Evaluate and Delete refuse a foreign run and touch nothing', async () => {
    const before = fingerprint(parent);
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.stopTraining', ref), undefined);
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.resumeTraining', ref), undefined);
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.evaluateRobustness', ref), undefined);
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.deleteRun', ref), false);
    await sleep(500);
    assert.deepEqual(fingerprint(parent), before);
    assert.ok(fs.existsSync(ref));
  });

  test('a growing event file is followed: a new epoch shows up', async () => {
    const before = services.runs.get(ref)!.metrics.length;
    const events = path.join(ref, fs.readdirSync(ref).find((n) => n.startsWith('events.out'))!);
    // The next epoch's record, framed as a TF writer frames it.
    const payload = EventType.encode(EventType.create({ wall_time: 1.8e9, step: 8, summary: { value: [{ tag: 'Test/acc', simple_value: 71.5 }] } })).finish();
    const rec = Buffer.alloc(16 + payload.length);
    rec.writeUInt32LE(payload.length, 0);
    rec.writeUInt32LE(maskedCrc32c(rec, 0, 8), 8);
    Buffer.from(payload).copy(rec, 12);
    rec.writeUInt32LE(maskedCrc32c(payload), 12 + payload.length);
    fs.appendFileSync(events, rec);
    const grown = await until('the new epoch', () => {
      const s = services.runs.get(ref);
      return s && s.metrics.length > before ? s : undefined;
    });
    assert.equal(grown.results?.clean.accuracy, 0.715);
  });

  test('Open Run Folder… with a folder lists its run and opens its dashboard', async () => {
    const found = await vscode.commands.executeCommand<string[]>('fastAdvprop.openRunFolder', opened);
    assert.deepEqual(found, [path.join(opened, 'timm-run')]);
    const s = await until('the timm run', () => services.runs.get(path.join(opened, 'timm-run')));
    assert.equal(s.name, 'timm-run (timm)');
    await until('its dashboard', () => webviewTab('Fast AdvProp: timm-run (timm)'));
    const none = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-none-'));
    try {
      assert.equal(await vscode.commands.executeCommand('fastAdvprop.openRunFolder', none), undefined);
    } finally {
      fs.rmSync(none, { recursive: true, force: true });
    }
  });
});
