// What the extension's parts share: the panels (src/extension/panels) get these from
// registerPanels(context, services) and never reach into the implementations.
import type * as vscode from 'vscode';
import type { RunConfig } from '../shared/config';
import type { RunSnapshot } from './runSnapshot';

export type { RunSnapshot } from './runSnapshot';

export interface RunsModel extends vscode.Disposable {
  /** Fires with the run folder whose snapshot changed (or the runs folder itself when the list changed). */
  readonly onDidChange: vscode.Event<string>;
  list(): RunSnapshot[];
  get(runDir: string): RunSnapshot | undefined;
  refresh(): void;
  readonly runsFolder: string;
}

export interface StartOptions {
  configPath?: string;
  config?: RunConfig;
  overrides?: Partial<RunConfig>;
  runName?: string;
}

export interface EvaluateOptions {
  corruptions?: string[];
  severities?: number[];
  /** "K,eps", e.g. "10,8". */
  pgd?: string;
}

export interface JobManager extends vscode.Disposable {
  start(opts: StartOptions): Promise<{ runDir: string }>;
  stop(runDir: string): Promise<void>;
  resume(runDir: string): Promise<{ runDir: string }>;
  evaluate(runDir: string, opts?: EvaluateOptions): Promise<void>;
  /** Takes a sweep's queued points (`sweep --enqueue-only`) into the run queue; returns how many. */
  adoptSweep(sweepDir: string): number;
  /** Measures this machine's training throughput (`fast-advprop bench`); resolves to the JSON report's path. */
  benchmark(opts?: { quick?: boolean }): Promise<string>;
  readonly onDidChange: vscode.Event<string>;
}

export interface ComparisonSet {
  get(): string[];
  add(runDir: string): void;
  remove(runDir: string): void;
  onDidChange: vscode.Event<void>;
}

export interface Services {
  runs: RunsModel;
  jobs: JobManager;
  output: vscode.OutputChannel;
  context: vscode.ExtensionContext;
  comparison: ComparisonSet;
}
