// The fastAdvprop.* commands this part of the extension owns (the panel commands are registered
// by src/extension/panels). Arguments come from the palette (none), tree items, editor lenses and
// tests ({ configPath } / run folder strings).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { calibrate } from '../engine/budget/costModel';
import { DEFAULT_CONFIG, type RunConfig } from '../shared/config';
import { epochsText } from '../shared/epochs';
import { RUN_FILES } from '../shared/runFormat';
import { RUN_FILE_CAPS, readSmallFile } from './readSmall';
import { runConfigTemplate, validateConfigName } from './configTemplate';
import { pickEvaluationSubset } from './jobs/evaluateSubsets';
import { ShownError, type EngineJobManager } from './jobManager';
import { UnsafePathError, checkRunDir } from './paths';
import { runDescription, runGroupOf, type RunGroup } from './runGroups';
import { CONSOLE_FILE } from './runFolderWrites';
import { foreignRefusal } from './foreign/foreignLabels';
import { MANAGE_TRUST, trustRefusal } from './runs/trust';
import type { FolderRunsModel } from './runsModel';
import type { EvaluateOptions, Services, StartOptions } from './services';

type RunArg = string | vscode.Uri | { runDir?: string } | undefined;

function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === 'object' && typeof (arg as { runDir?: unknown }).runDir === 'string') return (arg as { runDir: string }).runDir;
  return undefined;
}

async function pickRun(runs: FolderRunsModel, groups: RunGroup[], placeHolder: string): Promise<string | undefined> {
  // A run that a terminal finished a moment ago may not have reached the 1 s poll yet (or the
  // host was busy): a user-invoked pick reads the runs folder once more, which is cheap.
  runs.refresh();
  const candidates = runs.list().filter((s) => groups.includes(runGroupOf(s)));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Fast AdvProp: no run to choose (${groups.join(', ')}).`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((s) => ({ label: s.name, description: runDescription(s), detail: s.runDir, runDir: s.runDir })),
    { placeHolder, matchOnDescription: true },
  );
  return picked?.runDir;
}

/** Interactive callers already saw the message; programmatic callers need the rejection. */
/** One line from a bench report: images/s per configuration and what our kernels are worth. */
export function benchmarkSummary(reportFile: string): string {
  try {
    const text = readSmallFile(reportFile, RUN_FILE_CAPS.report);
    if (text === undefined) return `Fast AdvProp: the benchmark finished but its report ${reportFile} is missing, not a regular file, or over 16 MiB.`;
    const r = JSON.parse(text) as { trainImagesPerSecond?: Record<string, number>; stockKernels?: { ratio?: number }; target?: { met?: boolean } };
    const rows = Object.entries(r.trainImagesPerSecond ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
    const ratio = typeof r.stockKernels?.ratio === 'number' ? `; our wasm kernels ×${r.stockKernels.ratio.toFixed(2)} over the stock ones` : '';
    return `Fast AdvProp: ResNet-20 training on this machine, images/s: ${rows}${ratio}.`;
  } catch (e) {
    return `Fast AdvProp: the benchmark finished but its report could not be read (${(e as Error).message}).`;
  }
}

function settle<T>(p: Promise<T>, interactive: boolean): Promise<T | undefined> {
  return p.catch((e: unknown) => {
    if (interactive && e instanceof ShownError) return undefined;
    if (interactive) {
      void vscode.window.showErrorMessage(`Fast AdvProp: ${(e as Error).message ?? String(e)}`);
      return undefined;
    }
    throw e;
  });
}

/**
 * `resnet8, split 4:1, 5 epochs (6 vanilla-equivalent, same budget)`: the epochs the run will
 * show ("epoch 1/5"), from the engine's own calibration, with the configured budget next to it.
 */
export function defaultConfigDescription(c: RunConfig = DEFAULT_CONFIG): string {
  let trained = c.epochs;
  try {
    trained = calibrate({ method: c.method, split: c.split, pAdv: c.pAdv, k: c.attack.steps, epochs: c.epochs, sameBudget: c.sameBudget }).epochs;
  } catch {
    // A config the cost model refuses is refused again, with its reason, when it starts.
  }
  const split = c.method === 'fast-advprop' && c.split ? `, split ${c.split}` : '';
  return `${c.model.arch}${split}, ${epochsText(trained, c.sameBudget ? c.epochs : undefined)}`;
}

async function pickConfig(): Promise<StartOptions | undefined> {
  const files = await vscode.workspace.findFiles('**/*.advprop.json', '**/node_modules/**', 200);
  const items: (vscode.QuickPickItem & { opts: StartOptions })[] = [
    { label: '$(beaker) Built-in default (Fast AdvProp on Fashion-MNIST subset)', description: defaultConfigDescription(), opts: {} },
    ...files
      .map((f) => ({ label: vscode.workspace.asRelativePath(f), opts: { configPath: f.fsPath } as StartOptions }))
      .sort((a, b) => a.label.localeCompare(b.label)),
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Run config to train' });
  return picked?.opts;
}

export function registerCommands(context: vscode.ExtensionContext, services: Services, jobs: EngineJobManager, runs: FolderRunsModel): void {
  const reg = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const openDashboard = (runDir: string) =>
    void vscode.commands.executeCommand('fastAdvprop.openDashboard', runDir).then(undefined, () => undefined);

  reg('fastAdvprop.startTraining', async (arg?: vscode.Uri | StartOptions) => {
    let opts: StartOptions | undefined;
    const interactive = !(arg && !(arg instanceof vscode.Uri) && typeof arg === 'object');
    if (arg instanceof vscode.Uri) {
      // The file on disk is what trains: save pending edits first.
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === arg.toString());
      if (doc?.isDirty) await doc.save();
      opts = { configPath: arg.fsPath };
    } else if (arg && typeof arg === 'object') {
      opts = arg;
    } else {
      opts = await pickConfig();
      if (!opts) return undefined;
    }
    const result = await settle(jobs.start(opts), interactive);
    if (result && interactive) openDashboard(result.runDir);
    return result;
  });

  /** True (and says why) when runDir is another trainer's run, which none of these commands may touch. */
  const refusedForeign = (what: string, runDir: string): boolean => {
    const why = foreignRefusal(what, runs.get(runDir));
    if (why) void vscode.window.showErrorMessage(why);
    return why !== undefined;
  };

  reg('fastAdvprop.stopTraining', async (arg?: RunArg) => {
    const runDir = runDirOf(arg) ?? (await pickRun(runs, ['running', 'queued'], 'Run to stop'));
    if (runDir && refusedForeign('Stop Training', runDir)) return undefined;
    if (runDir) return settle(jobs.stop(runDir), runDirOf(arg) === undefined || typeof arg !== 'string');
    return undefined;
  });

  reg('fastAdvprop.resumeTraining', async (arg?: RunArg) => {
    const runDir = runDirOf(arg) ?? (await pickRun(runs, ['stopped', 'failed', 'crashed'], 'Run to resume from its last checkpoint'));
    if (runDir && refusedForeign('Resume Training', runDir)) return undefined;
    if (runDir) return settle(jobs.resume(runDir), typeof arg !== 'string');
    return undefined;
  });

  reg('fastAdvprop.evaluateRobustness', async (arg?: RunArg | ({ runDir: string } & EvaluateOptions)) => {
    const runDir = runDirOf(arg) ?? (await pickRun(runs, ['completed', 'stopped'], 'Run to evaluate (corruptions and PGD)'));
    if (!runDir || refusedForeign('Evaluate Robustness', runDir)) return undefined;
    const given = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && ('corruptions' in arg || 'severities' in arg || 'pgd' in arg);
    const interactive = typeof arg !== 'string' && !given;
    let opts: EvaluateOptions = given ? (arg as EvaluateOptions) : {};
    // People choose the cells; callers passing a folder or options (tests, other extensions) get
    // exactly what they asked for. Untrusted: no question, the job manager refuses straight away.
    if (interactive && vscode.workspace.isTrusted) {
      const picked = await pickEvaluationSubset(context.workspaceState, path.basename(runDir));
      if (!picked) return undefined;
      opts = picked;
    }
    return settle(jobs.evaluate(runDir, { corruptions: opts.corruptions, severities: opts.severities, pgd: opts.pgd }), interactive);
  });

  reg('fastAdvprop.runBenchmark', async (arg?: { quick?: boolean }) => {
    const interactive = !(arg && typeof arg === 'object' && 'quick' in arg);
    const report = await settle(jobs.benchmark({ quick: arg?.quick === true }), interactive);
    if (!report) return undefined;
    void vscode.window.showInformationMessage(benchmarkSummary(report), 'Open Report').then((choice) => {
      if (choice) void vscode.window.showTextDocument(vscode.Uri.file(report));
    });
    return report;
  });

  reg('fastAdvprop.newRunConfig', async (arg?: vscode.Uri) => {
    let folder = arg instanceof vscode.Uri ? arg.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (folder && fs.existsSync(folder) && !fs.statSync(folder).isDirectory()) folder = path.dirname(folder);
    if (!folder) {
      void vscode.window.showErrorMessage('Fast AdvProp: open a folder first; the run config is written into it.');
      return undefined;
    }
    const name = await vscode.window.showInputBox({ prompt: 'Name of the run config', value: 'my-run', validateInput: validateConfigName });
    if (!name) return undefined;
    const file = path.join(folder, `${name}.advprop.json`);
    if (fs.existsSync(file)) {
      void vscode.window.showErrorMessage(`Fast AdvProp: ${vscode.workspace.asRelativePath(file)} already exists; choose another name.`);
      return undefined;
    }
    fs.writeFileSync(file, runConfigTemplate(name));
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    return file;
  });

  reg('fastAdvprop.showLog', async (arg?: RunArg) => {
    const runDir = runDirOf(arg);
    if (!runDir) {
      services.output.show(true);
      return;
    }
    const log = [RUN_FILES.log, CONSOLE_FILE].map((f) => path.join(runDir, f)).find((f) => fs.existsSync(f));
    if (!log) {
      services.output.show(true);
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
  });

  reg('fastAdvprop.revealRun', async (arg?: RunArg) => {
    const runDir = runDirOf(arg) ?? (await pickRun(runs, ['running', 'queued', 'completed', 'stopped', 'failed', 'crashed', 'reference', 'timm', 'tensorboard', 'unknown'], 'Run folder to reveal'));
    if (!runDir) return;
    const uri = vscode.Uri.file(runDir);
    const inWorkspace = !!vscode.workspace.getWorkspaceFolder(uri);
    // Over Remote-SSH the OS file manager is on the other machine; the explorer is the only view.
    if (vscode.env.remoteName || inWorkspace) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.commands.executeCommand('revealFileInOS', uri);
  });

  reg('fastAdvprop.deleteRun', async (arg?: RunArg) => {
    const refusal = trustRefusal('Delete Run', 'delete runs', 'deleting changes this workspace\'s files, and its run folders are not vetted');
    if (refusal) {
      void vscode.window.showErrorMessage(refusal, MANAGE_TRUST.title).then((picked) => picked && MANAGE_TRUST.run());
      return false;
    }
    const given = runDirOf(arg) ?? (await pickRun(runs, ['completed', 'stopped', 'failed', 'crashed', 'unknown'], 'Run to delete'));
    if (!given || refusedForeign('Delete Run', given)) return false;
    let runDir: string;
    try {
      runDir = checkRunDir(runs.runsFolder, given);
    } catch (e) {
      if (e instanceof UnsafePathError) void vscode.window.showErrorMessage(`Fast AdvProp: ${e.message}`);
      return false;
    }
    const snap = runs.get(runDir);
    const group = snap ? runGroupOf(snap) : undefined;
    if (jobs.isOwnLive(runDir) || snap?.alive || group === 'running' || group === 'queued') {
      void vscode.window.showErrorMessage(`Fast AdvProp: ${path.basename(runDir)} is ${group ?? 'running'}; stop it before deleting it.`);
      return false;
    }
    const answer = await vscode.window.showWarningMessage(
      `Delete the run "${path.basename(runDir)}" and all its files (checkpoints, metrics, results)?`,
      { modal: true, detail: runDir },
      'Delete',
    );
    if (answer !== 'Delete') return false;
    fs.rmSync(runDir, { recursive: true, force: true });
    services.comparison.remove(runDir);
    runs.refresh();
    return true;
  });

  reg('fastAdvprop.refreshRuns', () => runs.refresh());
}
