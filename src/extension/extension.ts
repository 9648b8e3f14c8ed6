// Entry point. Activation stays cheap: no TensorFlow.js, no engine code, only the watchers and
// UI the window needs; training happens in engine processes (see jobManager.ts).
import * as vscode from 'vscode';
import { RunConfigCodeLens } from './codeLens';
import { registerCommands } from './commands';
import { WorkspaceComparisonSet } from './comparison';
import { EngineJobManager } from './jobManager';
import { registerPanels } from './panels';
import { RunsTreeProvider } from './runsTree';
import { registerForeignRuns } from './foreign/openRunFolder';
import { FolderRunsModel } from './runsModel';
import type { Services } from './services';
import { readSettings } from './settings';
import { TrainingStatusBar } from './statusBar';
import { registerSweepCommands } from './sweeps/commands';
import { SweepsModel } from './sweeps/sweepsModel';

export function activate(context: vscode.ExtensionContext): Services {
  const t0 = Date.now();
  const output = vscode.window.createOutputChannel('Fast AdvProp');
  context.subscriptions.push(output);
  const settings = () => readSettings(context);

  const jobs = new EngineJobManager(context, output, settings);
  const runs = new FolderRunsModel(settings().runsFolder, (dir) => jobs.isOwnLive(dir));
  jobs.attach(runs);
  const comparison = new WorkspaceComparisonSet(context.workspaceState);
  // Disposed in reverse: the job manager lets go of its children before the model stops polling.
  context.subscriptions.push(comparison, runs, jobs);
  const services: Services = { runs, jobs, output, context, comparison };

  const sweeps = new SweepsModel(runs, (message) => void vscode.window.showWarningMessage(message));
  context.subscriptions.push(sweeps);
  const tree = new RunsTreeProvider(runs, sweeps);
  context.subscriptions.push(tree, vscode.window.createTreeView('fastAdvprop.runs', { treeDataProvider: tree, showCollapseAll: true }));

  let hasLive: boolean | undefined;
  const statusBar = new TrainingStatusBar(runs, (live) => {
    if (live === hasLive) return;
    hasLive = live;
    void vscode.commands.executeCommand('setContext', 'fastAdvprop.hasLiveRun', live);
  });
  context.subscriptions.push(statusBar);

  registerCommands(context, services, jobs, runs);
  registerSweepCommands(context, services, sweeps);
  context.subscriptions.push(vscode.languages.registerCodeLensProvider({ pattern: '**/*.advprop.json' }, new RunConfigCodeLens()));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('fastAdvprop.runsFolder')) runs.setRunsFolder(settings().runsFolder);
    }),
  );
  registerForeignRuns(context, runs);

  try {
    registerPanels(context, services);
  } catch (e) {
    // The runs view, status bar and training commands must keep working if a panel fails to set up.
    output.appendLine(`panels failed to register: ${(e as Error).stack ?? String(e)}`);
  }

  output.appendLine(`Fast AdvProp activated in ${Date.now() - t0} ms; runs folder ${runs.runsFolder}`);
  return services;
}

export function deactivate(): void {
  // Nothing beyond context.subscriptions: running trainings continue and are re-attached on the next activation.
}
