// What the robustness view draws, derived from robustness.json records.

import { CORRUPTION_FAMILIES, type CorruptionFamily, type RobustnessRecord } from '../robustness';

export const FAMILY_ORDER: readonly CorruptionFamily[] = ['noise', 'blur', 'weather', 'digital'];

export interface CorruptionRow {
  name: string;
  family: CorruptionFamily;
  /** Error rate per severity, in [0, 1]; null where not evaluated. */
  errors: (number | null)[];
  /** Mean error over evaluated severities, percent. */
  mean: number | undefined;
}

function meanPercent(errors: readonly (number | null)[]): number | undefined {
  const xs = errors.filter((e): e is number => typeof e === 'number' && Number.isFinite(e));
  return xs.length ? (100 * xs.reduce((a, b) => a + b, 0)) / xs.length : undefined;
}

/** Corruptions grouped by family, in the reference order within each family; absent ones skipped. */
export function groupedCorruptions(record: RobustnessRecord): { family: CorruptionFamily; rows: CorruptionRow[] }[] {
  const seen = new Set<string>();
  const groups = FAMILY_ORDER.map((family) => ({
    family,
    rows: CORRUPTION_FAMILIES[family].filter((n) => record.corruptions[n]).map((name): CorruptionRow => {
      seen.add(name);
      const c = record.corruptions[name];
      return { name, family: c.family, errors: [...c.errors], mean: meanPercent(c.errors) };
    }),
  }));
  // A record may file a corruption under another family than ours; keep it, under its own.
  for (const [name, c] of Object.entries(record.corruptions)) {
    if (seen.has(name)) continue;
    groups.find((g) => g.family === c.family)?.rows.push({ name, family: c.family, errors: [...c.errors], mean: meanPercent(c.errors) });
  }
  return groups.filter((g) => g.rows.length > 0);
}

/**
 * Corruption error normalised by a baseline run, as ALGORITHM.md allows in place of AlexNet:
 * CE_c = 100 · Σ_s err_c,s / Σ_s base_c,s over severities both evaluated. 100 = as robust as the
 * baseline, lower is better. The mean runs over corruptions both records have.
 */
export function baselineCE(record: RobustnessRecord, base: RobustnessRecord): { perCorruption: Record<string, number>; mean: number | undefined } {
  const perCorruption: Record<string, number> = {};
  for (const [name, c] of Object.entries(record.corruptions)) {
    const b = base.corruptions[name];
    if (!b) continue;
    let num = 0;
    let den = 0;
    for (let s = 0; s < 5; s++) {
      const e = c.errors[s];
      const be = b.errors[s];
      if (typeof e === 'number' && typeof be === 'number') {
        num += e;
        den += be;
      }
    }
    if (den > 0) perCorruption[name] = (100 * num) / den;
  }
  const vals = Object.values(perCorruption);
  return { perCorruption, mean: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : undefined };
}

/**
 * Heatmap intensity (0–85 %, leaving text readable) for an error rate relative to the worst cell,
 * so a robust model's 5–30 % errors still span the scale; undefined for a missing cell.
 */
export function heatPercent(err: number | null | undefined, maxErr: number): number | undefined {
  if (typeof err !== 'number' || !Number.isFinite(err)) return undefined;
  if (!(maxErr > 0)) return 0;
  return Math.round(Math.min(1, Math.max(0, err / maxErr)) * 85);
}

/**
 * A heatmap cell's colours for its heatPercent. Light cells get a translucent red tint under the
 * theme's own text colour; the hot half becomes a solid red darkened with black, under white
 * text: a strong tint under the theme's text printed dark figures on dark red (#16). The darkening
 * keeps white text at a contrast ratio of 4.5 or more for both themes' chart reds (#E51400 light,
 * #F14C4C dark).
 */
export function heatCellStyle(p: number | undefined): { background: string; color?: string; hot: boolean } | undefined {
  if (p === undefined) return undefined;
  if (p < HOT_FROM) return { background: `color-mix(in srgb, var(--vscode-charts-red) ${Math.round(p * 0.8)}%, transparent)`, hot: false };
  const black = Math.round(25 + ((Math.min(p, 85) - HOT_FROM) / (85 - HOT_FROM)) * 20);
  return { background: `color-mix(in srgb, var(--vscode-charts-red) ${100 - black}%, black)`, color: '#ffffff', hot: true };
}
const HOT_FROM = 50;

export function maxError(record: RobustnessRecord): number {
  let m = 0;
  for (const c of Object.values(record.corruptions)) for (const e of c.errors) if (typeof e === 'number' && e > m) m = e;
  return m;
}
