// Summary numbers from an error table errors[corruption][severity-1] (rates in [0, 1], null = not
// evaluated). Missing cells are skipped, never treated as 0, and reported by name.

import { ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, ALL_CORRUPTIONS, CORRUPTIONS, type RobustnessSummary } from '../../shared/robustness';

export type ErrorTable = Record<string, readonly (number | null)[]>;

// AlexNet's figures live in shared/ since foreign ImageNet-C logs are normalised by them too.
export { ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS };

function present(row: readonly (number | null)[] | undefined): number[] {
  return (row ?? []).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

/** Names of cells not evaluated among `names` × severities 1..5: "fog" when all five are missing, else "fog@3". */
export function missingCells(errors: ErrorTable, names: readonly string[] = CORRUPTIONS): string[] {
  const out: string[] = [];
  for (const n of names) {
    const row = errors[n];
    const gaps = [0, 1, 2, 3, 4].filter((s) => row?.[s] === null || row?.[s] === undefined);
    if (gaps.length === 5) out.push(n);
    else for (const s of gaps) out.push(`${n}@${s + 1}`);
  }
  return out;
}

/** Mean error over the evaluated severities of each corruption (absent when none was evaluated). */
export function perCorruptionMeanError(errors: ErrorTable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, row] of Object.entries(errors)) {
    const v = present(row);
    if (v.length) out[name] = mean(v);
  }
  return out;
}

/** CIFAR-10-C convention: 100 − mean accuracy (percent) over the evaluated cells of `names`. */
export function meanCorruptionError(errors: ErrorTable, names: readonly string[] = CORRUPTIONS): number | null {
  const cells = names.flatMap((n) => present(errors[n]));
  return cells.length ? 100 - 100 * mean(cells.map((e) => 1 - e)) : null;
}

/** CE_c = 100 · mean_s(err_c,s) / AlexNet_err_c, for each of the 15 with at least one cell. */
export function corruptionErrors(errors: ErrorTable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of CORRUPTIONS) {
    const v = present(errors[c]);
    if (v.length) out[c] = (100 * mean(v)) / ALEXNET_ERRORS[c];
  }
  return out;
}

/**
 * Relative CE_c = 100 · (mean_s err_c,s − clean) / (AlexNet_err_c − AlexNet clean). Only AlexNet's
 * per-corruption mean is published, so this is the mean form of Hendrycks' sum formula.
 */
export function relativeCorruptionErrors(errors: ErrorTable, cleanError: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of CORRUPTIONS) {
    const v = present(errors[c]);
    if (v.length) out[c] = (100 * (mean(v) - cleanError)) / (ALEXNET_ERRORS[c] - ALEXNET_CLEAN_ERROR);
  }
  return out;
}

/**
 * CE against a baseline run: 100 · Σ_s err_c,s / Σ_s baseline_c,s over severities both evaluated.
 * Any corruption name is allowed (the extras too); a zero baseline sum gives no entry.
 */
export function baselineCorruptionErrors(errors: ErrorTable, baseline: ErrorTable): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, row] of Object.entries(errors)) {
    const base = baseline[c];
    if (!base) continue;
    let num = 0;
    let den = 0;
    for (let s = 0; s < 5; s++) {
      const a = row[s];
      const b = base[s];
      if (typeof a === 'number' && typeof b === 'number') {
        num += a;
        den += b;
      }
    }
    if (den > 0) out[c] = (100 * num) / den;
  }
  return out;
}

function meanOf(rec: Record<string, number>, names: readonly string[]): number | null {
  const v = names.filter((n) => n in rec).map((n) => rec[n]);
  return v.length ? mean(v) : null;
}

/** Which of the 15 were evaluated: corruptions with a cell, the severities seen, the cell count. */
export function coverageOf(errors: ErrorTable): { corruptions: number; severities: number[]; cells: number } {
  const sev = new Set<number>();
  let corruptions = 0;
  let cells = 0;
  for (const c of CORRUPTIONS) {
    const row = errors[c] ?? [];
    let any = false;
    for (let s = 0; s < 5; s++) {
      if (typeof row[s] === 'number' && Number.isFinite(row[s])) {
        sev.add(s + 1);
        cells++;
        any = true;
      }
    }
    if (any) corruptions++;
  }
  return { corruptions, severities: [...sev].sort((a, b) => a - b), cells };
}

/**
 * The figure the reference's ImageNet-C script prints: np.mean over the 19 distortions of each
 * one's error averaged over severities 1–5, unnormalised, in percent. Null unless all 19 × 5 exist.
 */
export function meanError19(errors: ErrorTable): number | null {
  const per: number[] = [];
  for (const c of ALL_CORRUPTIONS) {
    const v = present(errors[c]);
    if (v.length !== 5) return null;
    per.push(mean(v));
  }
  return 100 * mean(per);
}

export function summarize(errors: ErrorTable, cleanError: number, baseline?: ErrorTable): RobustnessSummary {
  const ce = corruptionErrors(errors);
  const rel = relativeCorruptionErrors(errors, cleanError);
  const coverage = coverageOf(errors);
  // AlexNet's errors are over all five severities of each of the 15: a subset is not an mCE.
  const complete = coverage.cells === CORRUPTIONS.length * 5;
  const summary: RobustnessSummary = {
    meanCorruptionError: meanCorruptionError(errors),
    mCE: complete ? meanOf(ce, CORRUPTIONS) : null,
    relativeMCE: complete ? meanOf(rel, CORRUPTIONS) : null,
    coverage,
    meanError19: meanError19(errors),
    perCorruptionCE: ce,
    perCorruptionRelativeCE: rel,
    missing: missingCells(errors),
  };
  if (baseline) {
    summary.baselineCE = baselineCorruptionErrors(errors, baseline);
    summary.baselineMCE = meanOf(summary.baselineCE, CORRUPTIONS);
  }
  return summary;
}
