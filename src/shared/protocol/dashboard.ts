// Dashboard panel protocol. The webview posts `ready` whenever it (re)starts; the host answers
// with a full snapshot and afterwards sends only what changed: new metrics records from the
// index the webview already has, or a new run header (status/results/config).

import type { MetricsRecord, RunConfigRecord, RunResults, RunStatus } from '../runFormat';
import { ProtocolError, bare, stateField, str, validateWith, type Validated } from './common';

export const DASHBOARD_VIEW_TYPE = 'fastAdvprop.dashboard';

/** What the header, the budget bar and the leak banner need; metrics travel separately. */
export interface DashboardRun {
  runDir: string;
  name: string;
  config?: RunConfigRecord;
  status?: RunStatus;
  results?: RunResults;
  alive: boolean;
  crashed: boolean;
  hasRobustness: boolean;
  /** Set for a run another trainer wrote ("PyTorch reference", "timm", "TensorBoard"): read-only, one record per epoch. */
  origin?: string;
}

export type DashboardToWebview =
  | { type: 'snapshot'; run: DashboardRun; metrics: MetricsRecord[] }
  /** Records `from`, `from+1`, … of metrics.jsonl; a webview holding a different count asks for a snapshot. */
  | { type: 'metrics'; from: number; records: MetricsRecord[] }
  | { type: 'run'; run: DashboardRun }
  | { type: 'missing'; runDir: string };

export type DashboardFromWebview =
  | { type: 'ready' }
  /** Open a new run config copied from this run with shuffle BN switched on. */
  | { type: 'applyLeakFix' }
  | { type: 'stopRun' }
  /** Continue a stopped or crashed run from its last checkpoint (the host's trust-gated Resume Training). */
  | { type: 'resumeRun' }
  | { type: 'openRobustness' }
  | { type: 'openBudget' }
  | { type: 'addToComparison' };

/** Webview state kept by VS Code across reloads; the serializer reopens the panel from it. */
export interface DashboardState {
  runDir: string;
}

const W = 'dashboard message';

export function validateDashboardMessage(raw: unknown): Validated<DashboardFromWebview> {
  return validateWith<DashboardFromWebview>(raw, W, {
    ready: bare('ready', W),
    applyLeakFix: bare('applyLeakFix', W),
    stopRun: bare('stopRun', W),
    resumeRun: bare('resumeRun', W),
    openRobustness: bare('openRobustness', W),
    openBudget: bare('openBudget', W),
    addToComparison: bare('addToComparison', W),
  });
}

export function validateDashboardState(raw: unknown): DashboardState | ProtocolError {
  return stateField(raw, (o) => {
    const runDir = str(o.runDir, 'dashboard state runDir');
    return runDir instanceof ProtocolError ? runDir : { runDir };
  }, 'dashboard state');
}
