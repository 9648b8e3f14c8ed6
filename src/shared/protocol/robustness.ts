// Robustness panel protocol: one run's robustness.json, optionally against a baseline run's.

import type { RobustnessRecord } from '../robustness';
import { ProtocolError, bare, onlyKeys, stateField, str, validateWith, type Validated } from './common';

export const ROBUSTNESS_VIEW_TYPE = 'fastAdvprop.robustness';

export interface Thumbnail {
  corruption: string;
  severity: number;
  /** data:image/png;base64,… (checked by the host; the CSP allows data: images only). */
  src: string;
}

export interface RobustnessView {
  runDir: string;
  name: string;
  record?: RobustnessRecord;
  thumbnails?: Thumbnail[];
  /** Why there is no record: missing file, or the reader's field-named error. */
  error?: string;
}

export type RobustnessToWebview = {
  type: 'snapshot';
  run: RobustnessView;
  baseline?: RobustnessView;
  /** Other runs that have robustness.json, for the baseline picker. */
  candidates: { runDir: string; name: string }[];
};

export type RobustnessFromWebview =
  | { type: 'ready' }
  /** '' clears the baseline. */
  | { type: 'setBaseline'; runDir: string }
  | { type: 'openDashboard' };

export interface RobustnessState {
  runDir: string;
  baseline?: string;
}

const W = 'robustness message';

export function validateRobustnessMessage(raw: unknown): Validated<RobustnessFromWebview> {
  return validateWith<RobustnessFromWebview>(raw, W, {
    ready: bare('ready', W),
    openDashboard: bare('openDashboard', W),
    setBaseline: (o) => {
      const bad = onlyKeys(o, ['type', 'runDir'], `${W} setBaseline`);
      if (bad) return bad;
      const runDir = str(o.runDir, `${W} setBaseline.runDir`, { allowEmpty: true });
      return runDir instanceof ProtocolError ? runDir : { type: 'setBaseline', runDir };
    },
  });
}

export function validateRobustnessState(raw: unknown): RobustnessState | ProtocolError {
  return stateField(raw, (o) => {
    const runDir = str(o.runDir, 'robustness state runDir');
    if (runDir instanceof ProtocolError) return runDir;
    if (o.baseline === undefined || o.baseline === '') return { runDir };
    const baseline = str(o.baseline, 'robustness state baseline');
    return baseline instanceof ProtocolError ? baseline : { runDir, baseline };
  }, 'robustness state');
}
