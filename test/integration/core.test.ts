// The extension host core inside a real VS Code: commands, a tiny run to completion, a bad config
// refused before anything is created, the queue, and Stop ending a longer run as "stopped".
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import * as vscode from 'vscode';
import type { Services } from '../../src/extension/services';
import { runConfigTemplate } from '../../src/extension/configTemplate';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const TINY = {
  method: 'fast-advprop', model: { arch: 'resnet8', width: 4 }, maxSteps: 3, batchSize: 16,
  dataset: { name: 'fashion-mnist-subset', trainLimit: 200, testLimit: 100 },
};
// Long enough that it is still training when Stop arrives.
const LONG = { ...TINY, maxSteps: 0, epochs: 50, logEvery: 1 };

function readJson(file: string): Record<string, any> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function stateOf(runDir: string): string | undefined {
  return readJson(path.join(runDir, 'status.json'))?.state;
}

function describeRun(runDir: string): string {
  if (!fs.existsSync(runDir)) return `${runDir} does not exist`;
  const parts = [`files: ${fs.readdirSync(runDir).join(', ')}`];
  for (const f of ['status.json', 'console.log', 'engine.log']) {
    const p = path.join(runDir, f);
    if (fs.existsSync(p)) parts.push(`--- ${f}\n${fs.readFileSync(p, 'utf8').slice(-1500)}`);
  }
  return parts.join('\n');
}

async function waitFor(what: string, ms: number, cond: () => boolean, detail: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (cond()) return;
    await sleep(250);
  }
  assert.fail(`${what} not reached within ${ms / 1000}s\n${detail()}`);
}

suite('Fast AdvProp extension host core', () => {
  let services: Services;
  let ws: string;
  const started: string[] = [];
  let stoppedRun: string | undefined;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not loaded`);
    services = await ext.activate();
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    fs.writeFileSync(path.join(ws, 'core-tiny.advprop.json'), JSON.stringify(TINY, null, 2));
    fs.writeFileSync(path.join(ws, 'core-long.advprop.json'), JSON.stringify(LONG, null, 2));
    fs.writeFileSync(path.join(ws, 'core-bad.advprop.json'), JSON.stringify({ ...TINY, attack: { steps: 0 } }, null, 2));
  });

  suiteTeardown(async function () {
    this.timeout(90_000);
    // Leave no engine running for the suites after this one (the queue allows one run at a time).
    for (const dir of started) {
      if (services.runs.get(dir)?.alive || stateOf(dir) === 'queued') {
        await services.jobs.stop(dir).catch(() => undefined);
      }
    }
    for (const dir of started) {
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline && services.runs.get(dir)?.alive) await sleep(250);
      if (services.runs.get(dir)?.alive) await services.jobs.stop(dir).catch(() => undefined); // second stop kills
    }
  });

  test('activation exposes the services and registers every command', async () => {
    assert.equal(typeof services.runs.list, 'function');
    assert.equal(typeof services.jobs.start, 'function');
    assert.equal(services.runs.runsFolder, path.join(ws, '.advprop-runs'));
    const all = await vscode.commands.getCommands(true);
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string; category: string }[] } };
    const mine = ['startTraining', 'stopTraining', 'resumeTraining', 'evaluateRobustness', 'runBenchmark', 'newRunConfig', 'showLog', 'revealRun', 'deleteRun', 'refreshRuns'];
    for (const c of mine) assert.ok(all.includes(`fastAdvprop.${c}`), `fastAdvprop.${c} is not registered`);
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'Fast AdvProp', `${c.command} has no category`);
  });

  test('a bad config is refused naming the field, and creates no run folder', async () => {
    const before = fs.existsSync(services.runs.runsFolder) ? fs.readdirSync(services.runs.runsFolder) : [];
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('fastAdvprop.startTraining', { configPath: path.join(ws, 'core-bad.advprop.json'), runName: 'core-bad' })),
      (e: Error) => {
        assert.match(e.message, /attack\.steps/);
        assert.match(e.message, /≥ 1/);
        return true;
      },
    );
    const after = fs.existsSync(services.runs.runsFolder) ? fs.readdirSync(services.runs.runsFolder) : [];
    assert.deepEqual(after, before);
  });

  test('a run name that escapes the runs folder is refused', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('fastAdvprop.startTraining', { configPath: path.join(ws, 'core-tiny.advprop.json'), runName: '../escaped' })),
      /not allowed/,
    );
    assert.equal(fs.existsSync(path.join(ws, 'escaped')), false);
  });

  test('startTraining with { configPath } trains the tiny config to completed', async function () {
    this.timeout(300_000);
    const result = await vscode.commands.executeCommand<{ runDir: string }>('fastAdvprop.startTraining', {
      configPath: path.join(ws, 'core-tiny.advprop.json'), runName: `core-tiny-${Date.now()}`,
    });
    assert.ok(result?.runDir, `startTraining resolved to ${JSON.stringify(result)}`);
    started.push(result.runDir);
    assert.equal(path.dirname(result.runDir), services.runs.runsFolder);
    await waitFor('status "completed"', 240_000, () => {
      const s = stateOf(result.runDir);
      if (s === 'failed' || s === 'stopped') assert.fail(`run ended as ${s}\n${describeRun(result.runDir)}`);
      return s === 'completed';
    }, () => describeRun(result.runDir));
    // The model follows the folder: the snapshot catches up within a poll or two.
    await waitFor('the Runs model to show it completed', 5_000, () => services.runs.get(result.runDir)?.status?.state === 'completed', () => JSON.stringify(services.runs.get(result.runDir)?.status));
    const snap = services.runs.get(result.runDir)!;
    assert.equal(snap.alive, false);
    assert.equal(snap.crashed, false);
    assert.ok(snap.metrics.length > 0, 'no metrics records were read');
    assert.ok(snap.config?.config, 'config.json was not read');
  });

  test('a run on a streamed JPEG folder decodes its crops with our libjpeg-turbo addon in the editor\'s own runtime', async function () {
    this.timeout(300_000);
    // The engine runs on the extension host's executable (ELECTRON_RUN_AS_NODE; here code-server's
    // Node, Electron in desktop VS Code), not the node the unit tests use: the addon and the
    // libjpeg.so.62 beside it must load there too ("turbo" refuses to start when they do not).
    const data = path.join(ws, 'core-jpegs');
    for (const [split, per] of [['train', 12], ['val', 4]] as const) {
      for (const cls of ['cat', 'dog']) {
        fs.mkdirSync(path.join(data, split, cls), { recursive: true });
        for (let i = 0; i < per; i++) {
          const w = 40 + i * 3, h = 30 + i * 2;
          const px = Buffer.alloc(w * h * 4, 255).map((v, k) => (k % 4 === 3 ? 255 : (k * (cls === 'cat' ? 7 : 13) + i) & 255));
          fs.writeFileSync(path.join(data, split, cls, `${i}.jpg`), jpeg.encode({ data: px, width: w, height: h }, 90).data);
        }
      }
    }
    const cfg = { ...TINY, maxSteps: 2, batchSize: 8, dataset: { name: 'image-folder', path: data, loader: 'stream', size: 32, workers: 1, prefetch: 1, decoder: 'turbo' } };
    fs.writeFileSync(path.join(ws, 'core-jpegs.advprop.json'), JSON.stringify(cfg, null, 2));
    const result = await vscode.commands.executeCommand<{ runDir: string }>('fastAdvprop.startTraining', {
      configPath: path.join(ws, 'core-jpegs.advprop.json'), runName: `core-jpegs-${Date.now()}`,
    });
    started.push(result.runDir);
    await waitFor('status "completed"', 240_000, () => {
      const s = stateOf(result.runDir);
      if (s === 'failed' || s === 'stopped') assert.fail(`run ended as ${s}\n${describeRun(result.runDir)}`);
      return s === 'completed';
    }, () => describeRun(result.runDir));
    const log = fs.readFileSync(path.join(result.runDir, 'console.log'), 'utf8');
    assert.match(log, /decode thread \(libjpeg-turbo \d+\.\d+\.\d+ \(crops decoded in part\) for JPEG/, log.slice(-1500));
  });

  test('a second start waits in the queue; Stop removes it; Stop ends the running one as "stopped"', async function () {
    this.timeout(300_000);
    const first = await services.jobs.start({ configPath: path.join(ws, 'core-long.advprop.json'), runName: `core-long-${Date.now()}` });
    started.push(first.runDir);
    const second = await services.jobs.start({ configPath: path.join(ws, 'core-tiny.advprop.json'), runName: `core-queued-${Date.now()}` });
    started.push(second.runDir);
    assert.equal(stateOf(second.runDir), 'queued', `with maxConcurrentRuns 1 the second run must queue\n${describeRun(second.runDir)}`);
    await services.jobs.stop(second.runDir);
    assert.equal(stateOf(second.runDir), 'stopped');
    assert.equal(fs.existsSync(path.join(second.runDir, 'config.json')), false, 'the queued run never started');

    // Stop once the engine is really training (it has written a running status).
    await waitFor('status "running"', 120_000, () => stateOf(first.runDir) === 'running', () => describeRun(first.runDir));
    await vscode.commands.executeCommand('fastAdvprop.stopTraining', first.runDir);
    await waitFor('status "stopped"', 120_000, () => {
      const s = stateOf(first.runDir);
      if (s === 'failed' || s === 'completed') assert.fail(`run ended as ${s}, not stopped\n${describeRun(first.runDir)}`);
      return s === 'stopped';
    }, () => describeRun(first.runDir));
    await waitFor('the process to exit', 30_000, () => !services.runs.get(first.runDir)?.alive, () => describeRun(first.runDir));
    assert.equal(fs.existsSync(path.join(first.runDir, 'stop.request')), false, 'a leftover stop.request would stop the next resume at once');
    stoppedRun = first.runDir;
  });

  test('Resume continues the stopped run from its checkpoint, and Stop ends it again', async function () {
    this.timeout(300_000);
    assert.ok(stoppedRun, 'no stopped run (the previous test failed)');
    const stepBefore = readJson(path.join(stoppedRun, 'status.json'))?.progress?.step as number;
    await vscode.commands.executeCommand('fastAdvprop.resumeTraining', stoppedRun);
    await waitFor('status "running" with a live pid', 120_000, () => stateOf(stoppedRun!) === 'running' && !!services.runs.get(stoppedRun!)?.alive, () => describeRun(stoppedRun!));
    await waitFor('a step past the checkpoint', 120_000, () => (readJson(path.join(stoppedRun!, 'status.json'))?.progress?.step ?? 0) > stepBefore, () => describeRun(stoppedRun!));
    await services.jobs.stop(stoppedRun);
    await waitFor('status "stopped"', 120_000, () => stateOf(stoppedRun!) === 'stopped', () => describeRun(stoppedRun!));
    const config = readJson(path.join(stoppedRun, 'config.json'));
    assert.ok(Array.isArray(config?.resumedFrom) && config!.resumedFrom.length >= 1, `config.json records no resume\n${describeRun(stoppedRun)}`);
  });

  test('a run started from a terminal shows up in the Runs model', async function () {
    this.timeout(300_000);
    const runDir = path.join(services.runs.runsFolder, `terminal-${Date.now()}`);
    started.push(runDir);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const child = spawn(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), 'train', '--config', path.join(ws, 'core-tiny.advprop.json'), '--run-dir', runDir], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor('the terminal run in the model, completed', 240_000, () => services.runs.get(runDir)?.status?.state === 'completed', () => describeRun(runDir));
    assert.equal(await exited, 0);
    assert.ok(services.runs.list().some((s) => s.runDir === runDir));
  });

  test('Stop ends a run started from a terminal (by its recorded pid)', async function () {
    this.timeout(300_000);
    const runDir = path.join(services.runs.runsFolder, `terminal-long-${Date.now()}`);
    started.push(runDir);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const child = spawn(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), 'train', '--config', path.join(ws, 'core-long.advprop.json'), '--run-dir', runDir], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor('the terminal run to be live in the model', 120_000, () => !!services.runs.get(runDir)?.alive && stateOf(runDir) === 'running', () => describeRun(runDir));
    await vscode.commands.executeCommand('fastAdvprop.stopTraining', runDir);
    await waitFor('status "stopped"', 120_000, () => stateOf(runDir) === 'stopped', () => describeRun(runDir));
    assert.equal(await exited, 0, 'a polite stop exits 0');
  });

  test('*.advprop.json files are checked against the schema by jsonValidation alone (no $schema key)', async function () {
    this.timeout(60_000);
    const good = path.join(ws, 'schema-good.advprop.json');
    const bad = path.join(ws, 'schema-bad.advprop.json');
    fs.writeFileSync(good, runConfigTemplate('schema-good'));
    fs.writeFileSync(bad, JSON.stringify({ method: 'fastest', attack: { steps: 0 } }, null, 2));
    const diagnostics = async (file: string, want: (d: readonly vscode.Diagnostic[]) => boolean, waitMs: number): Promise<readonly vscode.Diagnostic[]> => {
      const doc = await vscode.workspace.openTextDocument(file);
      await vscode.window.showTextDocument(doc);
      assert.equal(doc.languageId, 'jsonc', 'the languages contribution makes comments legal');
      const deadline = Date.now() + waitMs;
      let got = vscode.languages.getDiagnostics(doc.uri);
      while (!want(got) && Date.now() < deadline) {
        await sleep(250);
        got = vscode.languages.getDiagnostics(doc.uri);
      }
      return got;
    };
    const badDiags = await diagnostics(bad, (d) => d.length >= 2, 30_000);
    const messages = badDiags.map((d) => d.message).join(' | ');
    assert.match(messages, /fast-advprop/, `the method enum is offered: ${messages}`);
    assert.match(messages, /minimum/i, `attack.steps below its minimum: ${messages}`);
    // The template opens clean: its comments are legal and every value is in the schema's range.
    // (The language server is known to be up by now, so a few seconds of silence mean no errors.)
    const goodDiags = await diagnostics(good, (d) => d.length > 0, 4_000);
    assert.deepEqual(goodDiags.map((d) => d.message), []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Run Benchmark measures this machine with the engine and returns its JSON report (global storage, not the workspace)', async function () {
    this.timeout(180_000);
    const before = fs.readdirSync(ws).sort();
    const report = await vscode.commands.executeCommand<string>('fastAdvprop.runBenchmark', { quick: true });
    assert.ok(report && fs.existsSync(report), `no report at ${report}`);
    assert.ok(!report.startsWith(ws), 'the report must not land in the workspace');
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    assert.ok(r.trainImagesPerSecond['wasm-1'] > 0, JSON.stringify(r.trainImagesPerSecond));
    assert.equal(r.machine.quick, true);
    assert.ok(r.stockKernels.ratio > 0);
    assert.match(fs.readFileSync(path.join(path.dirname(report), 'bench.log'), 'utf8'), /target: ResNet-20/);
    assert.deepEqual(fs.readdirSync(ws).sort(), before);
  });

  test('deleteRun refuses folders that are not runs inside the runs folder', async () => {
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.deleteRun', ws), false);
    assert.equal(await vscode.commands.executeCommand('fastAdvprop.deleteRun', path.join(services.runs.runsFolder, '..')), false);
    assert.ok(fs.existsSync(path.join(ws, 'core-tiny.advprop.json')), 'the workspace is intact');
  });
});
