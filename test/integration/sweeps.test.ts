// Sweeps in a real VS Code: Start Sweep (local executor, the default setting) trains a 2-point
// grid into one sweep folder whose runs the Runs model follows; Open Sweep Results opens Compare
// with them and prints mean ± std; a Slurm sweep whose scheduler cannot be reached fails Stop with
// one clear line instead of a stack. The Slurm path itself runs against a real cluster in
// test/unit/sweep/slurm.test.ts.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/extension/services';
import { RunsTreeProvider, type RunsTreeNode } from '../../src/extension/runsTree';
import { SweepsModel } from '../../src/extension/sweeps/sweepsModel';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TINY = { method: 'fast-advprop', model: { arch: 'resnet8', width: 4 }, maxSteps: 3, batchSize: 16, workers: 1, dataset: { name: 'fashion-mnist-subset', trainLimit: 200, testLimit: 100 } };

function stateOf(runDir: string): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, 'status.json'), 'utf8')).state;
  } catch {
    return undefined;
  }
}

if (process.env.FAST_ADVPROP_UNTRUSTED !== '1') {
  suite('Fast AdvProp sweeps', () => {
    let services: Services;
    let ws = '';

    suiteSetup(async () => {
      services = (await vscode.extensions.getExtension<Services>(EXTENSION_ID)!.activate());
      ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
      fs.writeFileSync(path.join(ws, 'sweep-tiny.advprop.json'), JSON.stringify(TINY, null, 2));
    });

    suiteTeardown(async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    });

    test('Start Sweep trains a 2-point grid; the Runs model follows its runs; Open Sweep Results compares them with mean ± std', async function () {
      this.timeout(240_000);
      const name = `sweep-it-${Date.now()}`;
      const r = (await vscode.commands.executeCommand('fastAdvprop.startSweep', { configPath: path.join(ws, 'sweep-tiny.advprop.json'), set: ['split=4:1,1:1'], name })) as { dir: string };
      assert.equal(r.dir, path.join(services.runs.runsFolder, name));
      const m = JSON.parse(fs.readFileSync(path.join(r.dir, 'sweep.json'), 'utf8')) as { executor: string; points: { runDir: string }[] };
      assert.equal(m.executor, 'local');
      const runDirs = m.points.map((p) => path.join(r.dir, p.runDir));
      assert.equal(runDirs.length, 2);
      const deadline = Date.now() + 200_000;
      while (Date.now() < deadline && !runDirs.every((d) => stateOf(d) === 'completed')) await sleep(500);
      assert.deepEqual(runDirs.map(stateOf), ['completed', 'completed']);
      services.runs.refresh();
      for (const d of runDirs) assert.ok(services.runs.get(d), `the Runs model does not follow ${d}`);
      const res = (await vscode.commands.executeCommand('fastAdvprop.openSweepResults', r.dir)) as { table: string[]; runDirs: string[] };
      assert.deepEqual(res.runDirs, runDirs);
      assert.match(res.table[2], /^split=4:1\s+1\/1\s+\d+\.\d\d/);
      assert.match(res.table[3], /^split=1:1\s+1\/1\s+\d+\.\d\d/);
      const tabs = (): string[] => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label);
      const t0 = Date.now();
      while (!tabs().includes('Fast AdvProp: Compare Runs') && Date.now() - t0 < 15_000) await sleep(200);
      assert.ok(tabs().includes('Fast AdvProp: Compare Runs'), `no Compare tab among ${tabs().join(', ')}`);
    });

    test('a local sweep waits in the run queue behind a running job (maxConcurrentRuns 1), then completes one run at a time; Stop Sweep takes a queued sweep out', async function () {
      this.timeout(300_000);
      assert.equal(vscode.workspace.getConfiguration('fastAdvprop').get('maxConcurrentRuns'), 1);
      fs.writeFileSync(path.join(ws, 'sweep-blocker.advprop.json'), JSON.stringify({ ...TINY, maxSteps: 0, epochs: 50 }, null, 2));
      const blocker = await services.jobs.start({ configPath: path.join(ws, 'sweep-blocker.advprop.json'), runName: `sweep-blocker-${Date.now()}` });
      const until = async (what: string, ms: number, cond: () => boolean): Promise<void> => {
        const end = Date.now() + ms;
        while (!cond()) {
          if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
          await sleep(200);
        }
      };
      await until('the blocking run to train', 120_000, () => stateOf(blocker.runDir) === 'running');
      const start = async (name: string) => (await vscode.commands.executeCommand('fastAdvprop.startSweep', { configPath: path.join(ws, 'sweep-tiny.advprop.json'), set: ['split=4:1,1:1'], name })) as { dir: string };
      const a = await start(`sweep-wait-${Date.now()}`);
      const b = await start(`sweep-cancel-${Date.now()}`);
      const points = (dir: string): string[] => (JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as { points: { runDir: string }[] }).points.map((p) => path.join(dir, p.runDir));
      const pa = points(a.dir);
      const pb = points(b.dir);
      // Nothing of either sweep starts while the blocking run holds the one slot.
      const t0 = Date.now();
      while (Date.now() - t0 < 4000) {
        assert.deepEqual([...pa, ...pb].map(stateOf), ['queued', 'queued', 'queued', 'queued'], 'a sweep point started beside the running job');
        await sleep(250);
      }
      assert.equal(stateOf(blocker.runDir), 'running');
      const lines = (await vscode.commands.executeCommand('fastAdvprop.stopSweep', b.dir)) as string[];
      assert.ok(lines.filter((l) => /removed from the queue/.test(l)).length === 2, lines.join('\n'));
      await services.jobs.stop(blocker.runDir);
      let most = 0;
      await until('sweep A to complete', 240_000, () => {
        const running = [blocker.runDir, ...pa, ...pb].filter((d) => stateOf(d) === 'running').length;
        most = Math.max(most, running);
        const s = pa.map(stateOf);
        if (s.some((x) => x === 'failed')) assert.fail(`a point failed: ${s.join(', ')}`);
        return s.every((x) => x === 'completed');
      });
      assert.equal(most, 1, 'more runs trained at once than maxConcurrentRuns');
      for (const d of pb) {
        assert.equal(stateOf(d), 'stopped');
        assert.equal(fs.existsSync(path.join(d, 'config.json')), false, `${d} trained after Stop Sweep`);
      }
      const sweeps = new SweepsModel(services.runs, () => undefined);
      try {
        assert.deepEqual(sweeps.get(b.dir)?.states.map((s) => s.run), ['cancelled', 'cancelled']);
        assert.deepEqual(sweeps.get(a.dir)?.states.map((s) => s.run), ['completed', 'completed']);
      } finally {
        sweeps.dispose();
      }
    });

    test('with maxConcurrentRuns 2 a sweep (sweep.parallel 1) trains one point at a time and leaves the other slot to an ordinary run', async function () {
      this.timeout(300_000);
      const conf = vscode.workspace.getConfiguration('fastAdvprop');
      await conf.update('maxConcurrentRuns', 2, vscode.ConfigurationTarget.Workspace);
      try {
        assert.equal(vscode.workspace.getConfiguration('fastAdvprop').get('sweep.parallel'), 1);
        fs.writeFileSync(path.join(ws, 'sweep-slow.advprop.json'), JSON.stringify({ ...TINY, maxSteps: 40, logEvery: 1 }, null, 2));
        const r = (await vscode.commands.executeCommand('fastAdvprop.startSweep', { configPath: path.join(ws, 'sweep-slow.advprop.json'), set: ['split=4:1,2:1,1:1'], name: `sweep-limit-${Date.now()}` })) as { dir: string };
        const pts = (JSON.parse(fs.readFileSync(path.join(r.dir, 'sweep.json'), 'utf8')) as { points: { runDir: string }[] }).points.map((p) => path.join(r.dir, p.runDir));
        const other = await services.jobs.start({ configPath: path.join(ws, 'sweep-slow.advprop.json'), runName: `beside-sweep-${Date.now()}` });
        let mostSweep = 0;
        let both = false;
        const end = Date.now() + 240_000;
        for (;;) {
          const s = pts.map(stateOf);
          const n = s.filter((x) => x === 'running').length;
          mostSweep = Math.max(mostSweep, n);
          if (n === 1 && stateOf(other.runDir) === 'running') both = true;
          if (s.some((x) => x === 'failed') || stateOf(other.runDir) === 'failed') assert.fail(`a run failed: ${s.join(', ')}, ${stateOf(other.runDir)}`);
          if (s.every((x) => x === 'completed') && stateOf(other.runDir) === 'completed') break;
          if (Date.now() > end) assert.fail(`timed out: ${s.join(', ')}, ${stateOf(other.runDir)}`);
          await sleep(100);
        }
        assert.equal(mostSweep, 1, 'two points of a sweep with parallel 1 trained at once');
        assert.ok(both, 'the ordinary run never trained beside a sweep point, though maxConcurrentRuns is 2');
      } finally {
        await conf.update('maxConcurrentRuns', undefined, vscode.ConfigurationTarget.Workspace);
      }
    });

    test('a study folder is a sweep: the Runs view shows its runs under it (not in the state groups) and Open Sweep Results compares them', async function () {
      this.timeout(240_000);
      const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
      const dir = path.join(services.runs.runsFolder, `study-it-${Date.now()}`);
      const base = path.join(ws, 'study-tiny.advprop.json');
      fs.writeFileSync(base, JSON.stringify({ model: TINY.model, dataset: TINY.dataset, batchSize: 16, workers: 1 }));
      // Not spawnSync: the extension host (which follows the runs meanwhile) must not be blocked.
      const child = spawn(process.execPath, [cli, 'study', '--config-base', base, '--variants', 'vanilla,fast-advprop', '--max-steps', '2', '--no-robustness', '--out', dir],
        { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, `study failed:\n${output}`);
      const runDirs = ['vanilla', 'fast-advprop'].map((v) => path.join(dir, 'runs', v));
      services.runs.refresh();
      for (const d of runDirs) assert.ok(services.runs.get(d), `the Runs model does not follow ${d}`);
      const sweeps = new SweepsModel(services.runs, () => undefined);
      const tree = new RunsTreeProvider(services.runs, sweeps);
      try {
        sweeps.refresh();
        const roots = tree.getChildren();
        assert.ok(roots.some((n) => n.kind === 'sweep' && n.dir === dir), `no sweep node for the study among ${JSON.stringify(roots)}`);
        // Its runs sit under the study's node, not among the state groups.
        for (const d of runDirs) assert.equal(sweeps.sweepOf(d), dir);
        const inGroups = roots.filter((n) => n.kind === 'group').flatMap((g) => tree.getChildren(g)).filter((n) => n.kind === 'run' && runDirs.includes(n.runDir));
        assert.deepEqual(inGroups, []);
        const points = tree.getChildren({ kind: 'sweep', dir });
        assert.deepEqual(points.map((n) => tree.getTreeItem(n).label), ['vanilla', 'fast-advprop']);
        assert.match(String(tree.getTreeItem({ kind: 'sweep', dir }).description), /^local · 2 completed$/);
        for (const n of points) assert.equal(tree.getTreeItem(n).contextValue, 'sweepPoint.done.hasRun');
      } finally {
        tree.dispose();
        sweeps.dispose();
      }
      const res = (await vscode.commands.executeCommand('fastAdvprop.openSweepResults', dir)) as { table: string[]; runDirs: string[] };
      assert.deepEqual(res.runDirs, runDirs);
      assert.match(res.table[2], /^vanilla\s+1\/1\s+\d+\.\d\d/);
      assert.match(res.table[3], /^fast-advprop\s+1\/1\s+\d+\.\d\d/);
    });

    test('a bad grid value is refused with the field named and creates no sweep folder', async () => {
      const name = `sweep-bad-${Date.now()}`;
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('fastAdvprop.startSweep', { set: ['attack.steps=1,0'], seeds: 1, name })),
        (e: Error) => /^attack\.steps: .*from attack\.steps=0/.test(e.message),
      );
      assert.equal(fs.existsSync(path.join(services.runs.runsFolder, name)), false);
    });

    test('a 100-point sweep: one Runs view update (sweep states + every tree item) is timed and printed', async function () {
      this.timeout(120_000);
      const dir = path.join(services.runs.runsFolder, `sweep-100-${Date.now()}`);
      const points = Array.from({ length: 100 }, (_, i) => ({ index: i, name: `p${i}`, group: `g${i >> 2}`, seed: i & 3, overrides: {}, runDir: `runs/p${i}`, config: `configs/p${i}.json` }));
      fs.mkdirSync(dir, { recursive: true });
      for (const p of points) {
        fs.mkdirSync(path.join(dir, p.runDir), { recursive: true });
        fs.writeFileSync(path.join(dir, p.runDir, 'status.json'), JSON.stringify({ schema: 1, state: p.index % 2 ? 'completed' : 'stopped', pid: null, startedAt: null, updatedAt: new Date().toISOString(), progress: { epoch: 0, epochs: 5, step: 10, totalSteps: 100 } }));
      }
      fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ schema: 1, kind: 'fast-advprop-sweep', name: 'hundred', createdAt: new Date().toISOString(), executor: 'local', points }));
      services.runs.refresh();
      const sweeps = new SweepsModel(services.runs, () => undefined);
      const tree = new RunsTreeProvider(services.runs, sweeps);
      try {
        const update = (): number => {
          sweeps.refresh();
          let items = 0;
          const walk = (n?: RunsTreeNode): void => {
            for (const c of tree.getChildren(n)) {
              tree.getTreeItem(c);
              items++;
              walk(c);
            }
          };
          walk();
          return items;
        };
        const items = update();
        assert.ok(items >= 101, `only ${items} tree items`);
        const n = 20;
        const t0 = Date.now();
        for (let i = 0; i < n; i++) update();
        const ms = (Date.now() - t0) / n;
        console.log(`      one Runs view update with a 100-point sweep (${items} items): ${ms.toFixed(1)} ms (mean of ${n}; rendering not included)`);
      } finally {
        tree.dispose();
        sweeps.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('Stop on a Slurm sweep whose scheduler cannot be reached fails with one clear line', async function () {
      this.timeout(60_000);
      const dir = path.join(services.runs.runsFolder, `sweep-noslurm-${Date.now()}`);
      fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ schema: 1, kind: 'fast-advprop-sweep', name: 'noslurm', createdAt: new Date().toISOString(), executor: 'slurm', jobId: '424242',
        points: [{ index: 0, name: 'p0', group: 'g', seed: 0, overrides: {}, runDir: 'runs/p0', config: 'configs/p0.advprop.json', jobId: '424242_0' }] }));
      // No cluster here (or no Slurm at all): scancel is missing or cannot reach a controller.
      await assert.rejects(Promise.resolve(vscode.commands.executeCommand('fastAdvprop.stopSweep', dir)), (e: Error) => {
        assert.match(e.message, /scancel/);
        assert.equal(e.message.split('\n').length, 1, e.message);
        return true;
      });
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
}
