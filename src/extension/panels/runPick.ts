// Choosing runs from the palette, and reading a run folder out of a command argument (a string,
// a tree item with `.runDir`, or a URI from the explorer).

import * as vscode from 'vscode';
import { stateWord } from '../../shared/protocol/dashboardModel';
import type { PanelRuns, RunSnapshot } from './types';

export function runDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg.length > 0) return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'object' && arg !== null) {
    const dir = (arg as { runDir?: unknown }).runDir;
    if (typeof dir === 'string' && dir.length > 0) return dir;
  }
  return undefined;
}

export function runTime(r: RunSnapshot): string {
  return r.config?.createdAt ?? r.status?.startedAt ?? r.status?.updatedAt ?? '';
}

export function newestFirst(runs: readonly RunSnapshot[]): RunSnapshot[] {
  return [...runs].sort((a, b) => runTime(b).localeCompare(runTime(a)) || b.name.localeCompare(a.name));
}

interface RunItem extends vscode.QuickPickItem {
  runDir: string;
}

function item(r: RunSnapshot, picked = false): RunItem {
  const cfg = r.config?.config;
  const acc = r.results ? ` · ${(r.results.clean.accuracy * 100).toFixed(1)} %` : '';
  return {
    label: r.name,
    description: `${stateWord(r)}${cfg ? ` · ${cfg.method}` : ''}${acc}`,
    detail: r.runDir,
    runDir: r.runDir,
    picked,
  };
}

export async function pickRun(runs: PanelRuns, title: string, filter?: (r: RunSnapshot) => boolean): Promise<string | undefined> {
  runs.refresh();
  const list = newestFirst(runs.list()).filter((r) => !filter || filter(r));
  if (list.length === 0) {
    void vscode.window.showInformationMessage(`Fast AdvProp: no runs found in ${runs.runsFolder}. Start one with "Fast AdvProp: Start Training".`);
    return undefined;
  }
  const choice = await vscode.window.showQuickPick(list.map((r) => item(r)), { title, matchOnDetail: true, placeHolder: 'Run (newest first)' });
  return choice?.runDir;
}

export async function pickRuns(runs: PanelRuns, title: string, preselected: readonly string[], min = 2): Promise<string[] | undefined> {
  runs.refresh();
  const list = newestFirst(runs.list());
  if (list.length < min) {
    void vscode.window.showInformationMessage(`Fast AdvProp: comparing needs at least ${min} runs; ${list.length} found in ${runs.runsFolder}.`);
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(list.map((r) => item(r, preselected.includes(r.runDir))), { title, canPickMany: true, matchOnDetail: true });
  if (!chosen) return undefined;
  if (chosen.length < min) {
    void vscode.window.showWarningMessage(`Fast AdvProp: pick at least ${min} runs to compare.`);
    return undefined;
  }
  return chosen.map((c) => c.runDir);
}
