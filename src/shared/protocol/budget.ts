// Budget calculator protocol. The arithmetic runs in the webview (src/engine/budget/costModel.ts
// has no node imports); the host only supplies runs to check planned against measured passes.

import type { RunConfig } from '../config';
import type { RunConfigRecord } from '../runFormat';
import { ProtocolError, bare, onlyKeys, stateField, str, validateWith, type Validated } from './common';

export const BUDGET_VIEW_TYPE = 'fastAdvprop.budget';

export interface BudgetRunInfo {
  runDir: string;
  name: string;
  config: RunConfig;
  schedule?: RunConfigRecord['schedule'];
  batch?: RunConfigRecord['batch'];
  trainImages?: number;
  plannedPasses?: number;
  measured: { clean: number; attack: number; adv: number; total: number };
  stepsDone: number;
  finished: boolean;
}

export type BudgetToWebview =
  | { type: 'snapshot'; runs: { runDir: string; name: string }[]; selected?: BudgetRunInfo }
  | { type: 'run'; selected?: BudgetRunInfo };

export type BudgetFromWebview =
  | { type: 'ready' }
  /** '' clears the selection. */
  | { type: 'selectRun'; runDir: string };

export interface BudgetState {
  runDir?: string;
}

const W = 'budget message';

export function validateBudgetMessage(raw: unknown): Validated<BudgetFromWebview> {
  return validateWith<BudgetFromWebview>(raw, W, {
    ready: bare('ready', W),
    selectRun: (o) => {
      const bad = onlyKeys(o, ['type', 'runDir'], `${W} selectRun`);
      if (bad) return bad;
      const runDir = str(o.runDir, `${W} selectRun.runDir`, { allowEmpty: true });
      return runDir instanceof ProtocolError ? runDir : { type: 'selectRun', runDir };
    },
  });
}

export function validateBudgetState(raw: unknown): BudgetState | ProtocolError {
  if (raw === undefined || raw === null) return {};
  return stateField(raw, (o) => {
    if (o.runDir === undefined || o.runDir === '') return {};
    const runDir = str(o.runDir, 'budget state runDir');
    return runDir instanceof ProtocolError ? runDir : { runDir };
  }, 'budget state');
}
