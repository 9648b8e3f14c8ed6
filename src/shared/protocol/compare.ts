// Compare Runs panel protocol. The host owns the run list and the baseline (so export from the
// palette sees the same table); the webview owns view-only choices (sort, changed-only).

import { EXPORT_FORMATS, type CompareRunData, type ExportFormat, type SortDir } from './resultsTable';
import { ProtocolError, bare, oneOf, onlyKeys, stateField, str, strList, validateWith, type Validated } from './common';

export const COMPARE_VIEW_TYPE = 'fastAdvprop.compare';

export type CompareToWebview = {
  type: 'snapshot';
  runs: CompareRunData[];
  baseline: string;
  /** Run folders that were asked for but are not (or no longer) in the runs folder. */
  missing: string[];
};

export type CompareFromWebview =
  | { type: 'ready' }
  | { type: 'setBaseline'; runDir: string }
  | { type: 'export'; format: ExportFormat; destination: 'clipboard' | 'file'; sortKey?: string; sortDir?: SortDir }
  | { type: 'removeRun'; runDir: string }
  | { type: 'addRuns' }
  | { type: 'openDashboard'; runDir: string };

export interface CompareState {
  runDirs: string[];
  baseline?: string;
}

const W = 'compare message';

function runDirMsg<T extends 'setBaseline' | 'removeRun' | 'openDashboard'>(type: T) {
  return (o: Record<string, unknown>): Validated<CompareFromWebview> => {
    const bad = onlyKeys(o, ['type', 'runDir'], `${W} ${type}`);
    if (bad) return bad;
    const runDir = str(o.runDir, `${W} ${type}.runDir`);
    return runDir instanceof ProtocolError ? runDir : ({ type, runDir } as CompareFromWebview);
  };
}

export function validateCompareMessage(raw: unknown): Validated<CompareFromWebview> {
  return validateWith<CompareFromWebview>(raw, W, {
    ready: bare('ready', W),
    addRuns: bare('addRuns', W),
    setBaseline: runDirMsg('setBaseline'),
    removeRun: runDirMsg('removeRun'),
    openDashboard: runDirMsg('openDashboard'),
    export: (o) => {
      const bad = onlyKeys(o, ['type', 'format', 'destination', 'sortKey', 'sortDir'], `${W} export`);
      if (bad) return bad;
      const format = oneOf(o.format, EXPORT_FORMATS, `${W} export.format`);
      if (format instanceof ProtocolError) return format;
      const destination = oneOf(o.destination, ['clipboard', 'file'] as const, `${W} export.destination`);
      if (destination instanceof ProtocolError) return destination;
      const msg: CompareFromWebview = { type: 'export', format, destination };
      if (o.sortKey !== undefined) {
        const k = str(o.sortKey, `${W} export.sortKey`, { max: 128 });
        if (k instanceof ProtocolError) return k;
        msg.sortKey = k;
      }
      if (o.sortDir !== undefined) {
        const d = oneOf(o.sortDir, ['asc', 'desc'] as const, `${W} export.sortDir`);
        if (d instanceof ProtocolError) return d;
        msg.sortDir = d;
      }
      return msg;
    },
  });
}

export function validateCompareState(raw: unknown): CompareState | ProtocolError {
  return stateField(raw, (o) => {
    const runDirs = strList(o.runDirs, 'compare state runDirs', { min: 1 });
    if (runDirs instanceof ProtocolError) return runDirs;
    const state: CompareState = { runDirs };
    if (o.baseline !== undefined) {
      const b = str(o.baseline, 'compare state baseline');
      if (b instanceof ProtocolError) return b;
      state.baseline = b;
    }
    return state;
  }, 'compare state');
}
