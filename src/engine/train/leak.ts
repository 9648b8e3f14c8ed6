// Label-leak detector. With batch statistics shared between the attack and the adversarial pass,
// the network can "cheat" and classify adversarial images better than clean ones (paper Fig. 2:
// 88.0% adv vs 73.3% clean). A perturbation that is a function of the label leaks the same way
// under any BN grouping (docs/leak.md: 86.0% adv vs 78.6% clean on the default data), which is
// why the check is on the symptom, not on the config: over the last `window` logged intervals,
// mean adv train accuracy above mean clean accuracy by more than `margin`. Pure, so it is
// testable on synthetic streams and its state fits in a checkpoint.

import type { LeakFlag } from '../../shared/runFormat';

export interface LeakSample {
  step: number;
  clean: number;
  adv: number;
}

export interface LeakState {
  history: LeakSample[];
  /** Whether the flag has been raised before (the 'event' record is written once). */
  everFlagged: boolean;
}

export function newLeakState(): LeakState {
  return { history: [], everFlagged: false };
}

export interface LeakUpdate {
  flag: LeakFlag | undefined;
  /** True exactly once: the first interval at which the detector flags. */
  firstFlag: boolean;
  state: LeakState;
}

/**
 * Adds one logged interval and re-evaluates. Returns no flag until `window` intervals exist (a
 * verdict from fewer would mostly reflect the first noisy steps).
 */
export function updateLeak(state: LeakState, sample: LeakSample, opts: { window: number; margin: number }): LeakUpdate {
  const history = [...state.history, sample].slice(-opts.window);
  const next: LeakState = { history, everFlagged: state.everFlagged };
  if (history.length < opts.window) return { flag: undefined, firstFlag: false, state: next };
  const clean = history.reduce((a, s) => a + s.clean, 0) / history.length;
  const adv = history.reduce((a, s) => a + s.adv, 0) / history.length;
  const flagged = adv - clean > opts.margin;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const message = flagged
    ? `possible label leaking: adversarial train accuracy ${pct(adv)} exceeds clean ${pct(clean)} by more than ${pct(opts.margin)} over the last ${opts.window} intervals; shuffle BN (bnGroups ≥ 2) stops a leak through shared BN statistics, not one carried by the perturbation itself (an attack target that depends on the label, docs/leak.md)`
    : `no leak: adversarial ${pct(adv)} vs clean ${pct(clean)} train accuracy over the last ${opts.window} intervals`;
  const firstFlag = flagged && !state.everFlagged;
  if (flagged) next.everFlagged = true;
  return { flag: { flagged, clean, adv, step: sample.step, message }, firstFlag, state: next };
}
