// Start Sweep, Stop Sweep and Open Sweep Results. A sweep is created by the engine's
// `fast-advprop sweep` run as a child process: on Slurm it submits the array and returns; locally
// it only queues the points (`--enqueue-only`) and the job manager starts them from the run queue,
// under fastAdvprop.maxConcurrentRuns together with every other run. Stop goes through the sweep's
// executor (scancel on Slurm; locally queued points leave the queue, running ones get
// stop.request), never through the job manager's pid signals: on a cluster the engine is on another node.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cancelSweep } from '../../engine/cli/sweep';
import { aggregateBySeed, formatGroupTable } from '../../engine/sweep/aggregate';
import { readManifest } from '../../engine/sweep/manifest';
import { isSettled, seedRows } from '../../engine/sweep/state';
import { cliPath, engineEnv } from '../engineCommand';
import { MANAGE_TRUST, trustRefusal } from '../runs/trust';
import type { Services } from '../services';
import { executorFlags, readSweepSettings } from './settings';
import type { SweepsModel } from './sweepsModel';
import { folderStamp } from '../../shared/folderStamp';

export interface StartSweepOptions {
  configPath?: string;
  gridPath?: string;
  /** `key=v1,v2` axes, as --set. */
  set?: string[];
  seeds?: number;
  name?: string;
}

/** The refusal shown (and returned) in an untrusted workspace; undefined when trusted. */
function refuse(what: string, toWhat: string, why: string): string | undefined {
  const r = trustRefusal(what, toWhat, why);
  if (r) void vscode.window.showErrorMessage(r, MANAGE_TRUST.title).then((p) => p && MANAGE_TRUST.run());
  return r;
}

async function askStart(): Promise<StartSweepOptions | undefined> {
  const configs = await vscode.workspace.findFiles('**/*.advprop.json', '**/node_modules/**', 200);
  const base = await vscode.window.showQuickPick(
    [{ label: '$(beaker) Built-in default', path: undefined as string | undefined }, ...configs.map((f) => ({ label: vscode.workspace.asRelativePath(f), path: f.fsPath }))],
    { placeHolder: 'Base run config of the sweep' },
  );
  if (!base) return undefined;
  const grids = await vscode.workspace.findFiles('**/*.grid.json', '**/node_modules/**', 200);
  const grid = await vscode.window.showQuickPick(
    [{ label: '$(edit) Type the axes…', path: undefined as string | undefined }, ...grids.map((f) => ({ label: vscode.workspace.asRelativePath(f), path: f.fsPath }))],
    { placeHolder: 'Grid: a *.grid.json file, or axes typed as key=v1,v2' },
  );
  if (!grid) return undefined;
  const opts: StartSweepOptions = { ...(base.path ? { configPath: base.path } : {}) };
  if (grid.path) opts.gridPath = grid.path;
  else {
    const text = await vscode.window.showInputBox({ prompt: 'Axes, separated by ";" (e.g. split=8:1,4:1,2:1,1:1; attack.steps=1,2)', value: 'split=8:1,4:1,2:1,1:1' });
    if (!text) return undefined;
    opts.set = text.split(';').map((s) => s.trim()).filter(Boolean);
  }
  const seeds = await vscode.window.showInputBox({ prompt: 'Seeds per point (empty: the grid file\'s, else one)', value: '', validateInput: (v) => (v === '' || /^[1-9]\d{0,2}$/.test(v) ? undefined : 'a whole number from 1 to 999') });
  if (seeds === undefined) return undefined;
  if (seeds) opts.seeds = Number(seeds);
  return opts;
}

/** Runs `fast-advprop sweep …`; resolves with the sweep folder once it is submitted (Slurm) or its points are queued (local). */
function startSweepProcess(services: Services, opts: StartSweepOptions): Promise<{ dir: string }> {
  const dir = path.join(services.runs.runsFolder, opts.name ?? `sweep-${folderStamp()}`);
  const local = readSweepSettings().executor === 'local';
  const args = [cliPath(services.context.extensionPath), 'sweep', '--out', dir, ...executorFlags(readSweepSettings()), ...(local ? ['--enqueue-only'] : [])];
  if (opts.configPath) args.push('--config', opts.configPath);
  if (opts.gridPath) args.push('--grid', opts.gridPath);
  for (const s of opts.set ?? []) args.push(`--set=${s}`);
  if (opts.seeds !== undefined) args.push('--seeds', String(opts.seeds));
  const out = services.output;
  out.appendLine(`sweep: ${args.slice(1).join(' ')}`);
  return new Promise((resolve, reject) => {
    const parent = path.dirname(services.runs.runsFolder);
    const child = spawn(process.execPath, args, { env: engineEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(fs.existsSync(parent) ? { cwd: parent } : {}) });
    let err = '';
    let settled = false;
    const submitted = (): boolean => fs.existsSync(path.join(dir, 'sweep.json'));
    child.stdout!.on('data', (d: Buffer) => {
      out.append(d.toString());
      if (!settled && !local && submitted() && /submitted array job/.test(d.toString())) {
        settled = true;
        resolve({ dir });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      out.append(d.toString());
    });
    child.on('error', (e) => !settled && ((settled = true), reject(e)));
    child.on('close', (code) => {
      services.runs.refresh();
      if (settled) return;
      settled = true;
      if (code === 0 && submitted()) resolve({ dir });
      else reject(new Error(err.trim().split('\n').filter((l) => l.startsWith('error:')).pop()?.replace(/^error: /, '') ?? `sweep exited ${code}`));
    });
  });
}

function sweepTarget(arg: unknown): { dir: string; indices?: number[] } | undefined {
  if (typeof arg === 'string') return { dir: arg };
  if (arg && typeof arg === 'object') {
    const a = arg as { kind?: string; dir?: unknown; index?: unknown };
    if (typeof a.dir !== 'string') return undefined;
    if (a.kind === 'point' && typeof a.index === 'number') return { dir: a.dir, indices: [a.index] };
    return { dir: a.dir };
  }
  return undefined;
}

async function pickSweep(sweeps: SweepsModel, placeHolder: string): Promise<string | undefined> {
  sweeps.refresh();
  const list = sweeps.list().filter((v) => v.manifest);
  if (list.length === 0) {
    void vscode.window.showInformationMessage('Fast AdvProp: no sweep in the runs folder.');
    return undefined;
  }
  const p = await vscode.window.showQuickPick(list.map((v) => ({ label: v.manifest!.name, description: `${v.manifest!.executor}${v.manifest!.jobId ? ` job ${v.manifest!.jobId}` : ''}`, detail: v.dir })), { placeHolder });
  return p?.detail;
}

export function registerSweepCommands(context: vscode.ExtensionContext, services: Services, sweeps: SweepsModel): void {
  const reg = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  // Local sweeps started here: no sweep process prints the table at the end any more (the job
  // manager runs the points), so the window says when the last point settled.
  const following = new Set<string>();
  context.subscriptions.push(sweeps.onDidChange(() => {
    for (const dir of [...following]) {
      const v = sweeps.get(dir);
      if (!v?.manifest || v.states.length === 0 || !v.states.every(isSettled)) continue;
      following.delete(dir);
      const table = formatGroupTable(aggregateBySeed(seedRows(v.states)));
      services.output.appendLine(`sweep ${v.manifest.name} finished: test accuracy over seeds`);
      for (const l of table) services.output.appendLine(`  ${l}`);
      const done = v.states.filter((st) => st.run === 'completed').length;
      const text = `Fast AdvProp: sweep ${v.manifest.name} finished: ${done}/${v.states.length} points completed.`;
      const show = done === v.states.length ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(text, 'Open Sweep Results').then((picked) => picked && vscode.commands.executeCommand('fastAdvprop.openSweepResults', dir));
    }
  }));

  reg('fastAdvprop.startSweep', async (arg?: StartSweepOptions) => {
    const interactive = !(arg && typeof arg === 'object' && !(arg instanceof vscode.Uri));
    const refusal = refuse('Start Sweep', 'start sweeps', 'a sweep runs the engine (locally or through sbatch) on this workspace\'s configs');
    if (refusal) {
      if (!interactive) throw new Error(refusal);
      return undefined;
    }
    const opts = interactive ? await askStart() : arg;
    if (!opts) return undefined;
    try {
      const r = await startSweepProcess(services, opts);
      if (readManifest(r.dir).executor === 'local') {
        services.jobs.adoptSweep(r.dir);
        following.add(path.resolve(r.dir));
      }
      sweeps.refresh();
      void sweeps.query();
      return r;
    } catch (e) {
      if (!interactive) throw e;
      void vscode.window.showErrorMessage(`Fast AdvProp: Start Sweep: ${(e as Error).message}`);
      return undefined;
    }
  });

  reg('fastAdvprop.stopSweep', async (arg?: unknown) => {
    const interactive = typeof arg !== 'string';
    const refusal = refuse('Stop Sweep', 'stop sweeps', 'stopping runs scancel or writes into this workspace\'s run folders, which are not vetted');
    if (refusal) {
      if (!interactive) throw new Error(refusal);
      return undefined;
    }
    let t = sweepTarget(arg);
    if (!t) {
      const dir = await pickSweep(sweeps, 'Sweep to stop (every point not yet ended)');
      if (!dir) return undefined;
      t = { dir };
    }
    try {
      // Only sweeps inside the runs folder: a forged argument cannot aim scancel elsewhere.
      const dir = path.resolve(t.dir);
      if (path.dirname(dir) !== path.resolve(services.runs.runsFolder)) throw new Error(`${t.dir} is not a sweep in the runs folder`);
      const m = readManifest(dir);
      const lines = await cancelSweep(dir, m, t.indices, cliPath(services.context.extensionPath));
      for (const l of lines) services.output.appendLine(`stop sweep ${m.name}: ${l}`);
      sweeps.refresh();
      void sweeps.query();
      return lines;
    } catch (e) {
      const msg = (e as Error).message.replace(/^slurm: /, '');
      if (!interactive) throw e;
      void vscode.window.showErrorMessage(`Fast AdvProp: Stop Sweep: ${msg}`);
      return undefined;
    }
  });

  reg('fastAdvprop.openSweepResults', async (arg?: unknown) => {
    const dir = sweepTarget(arg)?.dir ?? (await pickSweep(sweeps, 'Sweep whose results to compare'));
    if (!dir) return undefined;
    sweeps.refresh();
    const v = sweeps.get(dir);
    if (!v?.manifest) {
      void vscode.window.showErrorMessage(`Fast AdvProp: ${dir} is not a readable sweep${v?.problem ? `: ${v.problem}` : ''}.`);
      return undefined;
    }
    const table = formatGroupTable(aggregateBySeed(seedRows(v.states)));
    services.output.appendLine(`sweep ${v.manifest.name}: test accuracy over seeds`);
    for (const l of table) services.output.appendLine(`  ${l}`);
    const runDirs = v.states.filter((s) => services.runs.get(s.runDir)).map((s) => s.runDir);
    if (runDirs.length < 2) {
      void vscode.window.showInformationMessage(`Fast AdvProp: sweep ${v.manifest.name} has ${runDirs.length} run folder(s) so far; Compare needs two.`);
      return { table, runDirs };
    }
    await vscode.commands.executeCommand('fastAdvprop.compareRuns', runDirs);
    return { table, runDirs };
  });
}
