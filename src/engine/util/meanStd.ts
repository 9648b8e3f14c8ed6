// Mean ± sample standard deviation over repeated runs (seeds), and grouping of per-run rows into
// one row per setting. Pure and generic so that `study` and `sweep` (src/engine/sweep/) print the
// same error bars the same way; nothing here knows what a run is.

export interface MeanStd {
  /** How many finite values went in (missing ones — a failed seed — are not counted). */
  n: number;
  /** null when n = 0. */
  mean: number | null;
  /**
   * Sample standard deviation (divisor n − 1), the usual error bar for a handful of seeds;
   * null when n < 2, because one seed says nothing about the spread and 0 would claim it does.
   */
  std: number | null;
}

/** Mean and sample standard deviation of the finite numbers among `values`; null/undefined/NaN are skipped. */
export function meanStd(values: readonly (number | null | undefined)[]): MeanStd {
  const xs = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const n = xs.length;
  if (n === 0) return { n, mean: null, std: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, std: null };
  // Two-pass sum of squared deviations: stable for accuracies that agree to many digits.
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { n, mean, std: Math.sqrt(ss / (n - 1)) };
}

/**
 * What every table prints where a figure is missing (a failed seed, a run without that stream):
 * one placeholder for `study` and `sweep` alike, so their tables read the same.
 */
export const MISSING = '–';

/** One figure × scale with fixed digits, or MISSING. */
export function formatFigure(x: number | null | undefined, opts: { scale?: number; digits?: number; suffix?: string } = {}): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return MISSING;
  return `${((opts.scale ?? 1) * x).toFixed(opts.digits ?? 2)}${opts.suffix ?? ''}`;
}

/**
 * "87.10 ± 0.42" (× scale, fixed digits); "87.10" with one value; MISSING ("–") with none. With `expectedN`
 * the count follows when fewer values than that went in, e.g. "87.10 ± 0.42 (n=2)".
 */
export function formatMeanStd(s: MeanStd, opts: { scale?: number; digits?: number; suffix?: string; expectedN?: number } = {}): string {
  if (s.mean === null) return MISSING;
  const k = opts.scale ?? 1;
  const d = opts.digits ?? 2;
  const suffix = opts.suffix ?? '';
  const core = s.std === null ? `${(k * s.mean).toFixed(d)}${suffix}` : `${(k * s.mean).toFixed(d)} ± ${(k * s.std).toFixed(d)}${suffix}`;
  return opts.expectedN !== undefined && s.n !== opts.expectedN ? `${core} (n=${s.n})` : core;
}

/**
 * Groups rows by `key` (first-seen order) and summarises each named numeric field with meanStd.
 * `pick` returns the figure of a row for a field, or null/undefined when the row has none.
 */
export function aggregateBy<Row, F extends string>(
  rows: readonly Row[],
  key: (row: Row) => string,
  fields: Record<F, (row: Row) => number | null | undefined>,
): { key: string; rows: Row[]; stats: Record<F, MeanStd> }[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups].map(([k, rs]) => {
    const stats = {} as Record<F, MeanStd>;
    for (const f of Object.keys(fields) as F[]) stats[f] = meanStd(rs.map(fields[f]));
    return { key: k, rows: rs, stats };
  });
}
