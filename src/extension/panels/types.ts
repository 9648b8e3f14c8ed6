// The parts of the extension core the panels use. Declared structurally here so the panels build
// and test on their own; the core's Services satisfies this interface.

import type * as vscode from 'vscode';
import type { RunConfig } from '../../shared/config';
import type { MetricsRecord, RunConfigRecord, RunResults, RunStatus } from '../../shared/runFormat';

export interface RunSnapshot {
  runDir: string;
  name: string;
  config?: RunConfigRecord;
  status?: RunStatus;
  metrics: MetricsRecord[];
  results?: RunResults;
  robustness?: unknown;
  alive: boolean;
  crashed: boolean;
}

export interface PanelRuns {
  readonly onDidChange: vscode.Event<string>;
  list(): RunSnapshot[];
  get(runDir: string): RunSnapshot | undefined;
  refresh(): void;
  readonly runsFolder: string;
}

export interface PanelJobs {
  start(opts: { configPath?: string; config?: RunConfig; overrides?: Partial<RunConfig>; runName?: string }): Promise<{ runDir: string }>;
  stop(runDir: string): Promise<void>;
}

export interface PanelServices {
  runs: PanelRuns;
  jobs: PanelJobs;
  output: vscode.OutputChannel;
  comparison: { get(): string[]; add(runDir: string): void; remove(runDir: string): void; onDidChange: vscode.Event<void> };
}
