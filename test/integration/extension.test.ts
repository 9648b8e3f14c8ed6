// The extension end to end inside a real extension host: activate, train the tiny config to
// completion through the public command, and open its dashboard.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const TRAINING_TIMEOUT_MS = 240_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace folder is not open');
  return folder.uri.fsPath;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}

/** The run folder's files (status, config, any logs) to make a failure message self-explanatory. */
function describeRun(runDir: string): string {
  if (!fs.existsSync(runDir)) return `${runDir} does not exist`;
  const parts = [`files: ${fs.readdirSync(runDir).join(', ')}`];
  for (const f of fs.readdirSync(runDir)) {
    if (!/\.(json|log|txt)$/.test(f)) continue;
    const text = fs.readFileSync(path.join(runDir, f), 'utf8');
    parts.push(`--- ${f}\n${text.length > 2000 ? '…' + text.slice(-2000) : text}`);
  }
  return parts.join('\n');
}

suite('Fast AdvProp extension', () => {
  let runDir: string | undefined;

  test('activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
    await ext.activate();
    assert.equal(ext.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['fastAdvprop.startTraining', 'fastAdvprop.stopTraining', 'fastAdvprop.openDashboard']) {
      assert.ok(commands.includes(c), `command ${c} is not registered`);
    }
  });

  test('startTraining runs the tiny config to completion', async function () {
    this.timeout(TRAINING_TIMEOUT_MS + 60_000);
    const configPath = path.join(workspaceRoot(), 'tiny.advprop.json');
    assert.ok(fs.existsSync(configPath), `${configPath} missing from the test workspace`);
    const result = await vscode.commands.executeCommand<{ runDir: string } | undefined>('fastAdvprop.startTraining', {
      configPath, runName: `it-${Date.now()}`,
    });
    assert.ok(result && typeof result.runDir === 'string', `startTraining resolved to ${JSON.stringify(result)}, not { runDir }`);
    runDir = result.runDir;

    const deadline = Date.now() + TRAINING_TIMEOUT_MS;
    let state: unknown;
    while (Date.now() < deadline) {
      state = readJson(path.join(runDir, 'status.json'))?.state;
      if (state === 'completed') break;
      if (state === 'failed' || state === 'stopped') assert.fail(`run ended as "${state}"\n${describeRun(runDir)}`);
      await sleep(500);
    }
    assert.equal(state, 'completed', `run not completed after ${TRAINING_TIMEOUT_MS / 1000}s (state ${String(state)})\n${describeRun(runDir)}`);
  });

  test('metrics.jsonl records a numeric loss', () => {
    assert.ok(runDir, 'no run folder (startTraining failed)');
    const file = path.join(runDir, 'metrics.jsonl');
    assert.ok(fs.existsSync(file), `${file} missing\n${describeRun(runDir)}`);
    const records = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(records.length >= 1, 'metrics.jsonl is empty');
    assert.ok(records.some((r) => typeof r.loss === 'number' && Number.isFinite(r.loss)),
      `no record with a finite numeric "loss": ${JSON.stringify(records.slice(0, 3))}`);
  });

  test('openDashboard opens a webview panel for the run', async () => {
    assert.ok(runDir, 'no run folder (startTraining failed)');
    await vscode.commands.executeCommand('fastAdvprop.openDashboard', runDir);
    // The panel is titled "Fast AdvProp: <run name>"; its tab shows up a moment after the command.
    const deadline = Date.now() + 10_000;
    let labels: string[] = [];
    while (Date.now() < deadline) {
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      labels = tabs.map((t) => t.label);
      if (tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Fast AdvProp'))) return;
      await sleep(200);
    }
    assert.fail(`no "Fast AdvProp: …" webview tab; open tabs: ${JSON.stringify(labels)}`);
  });
});
