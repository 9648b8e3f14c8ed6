// Mean ± std over seeds, per group of runs that differ only in their seed. Pure (no files): give it
// one row per run with a group label and a figure. The error bar, its formatting and the missing
// placeholder are util/meanStd's, the ones the study table prints too.
import { formatFigure, formatMeanStd, meanStd } from '../util/meanStd';

export interface SeedRow {
  group: string;
  seed: number;
  /** The run's state (completed, running, failed, pending, …). */
  state: string;
  /** The figure aggregated (test accuracy in [0, 1]); null until the run completed. */
  value: number | null;
}

export interface GroupRow {
  group: string;
  runs: number;
  completed: number;
  /** Over completed runs only; null when none completed. */
  mean: number | null;
  /** Sample standard deviation (n - 1); null below two completed runs. */
  std: number | null;
  values: (number | null)[];
  states: Record<string, number>;
}

/** Groups in order of first appearance; values in seed order within a group. */
export function aggregateBySeed(rows: readonly SeedRow[]): GroupRow[] {
  const groups = new Map<string, SeedRow[]>();
  for (const r of rows) {
    const g = groups.get(r.group);
    if (g) g.push(r);
    else groups.set(r.group, [r]);
  }
  return [...groups.entries()].map(([group, rs]) => {
    const sorted = [...rs].sort((a, b) => a.seed - b.seed);
    const done = sorted.filter((r) => r.value !== null && Number.isFinite(r.value)).map((r) => r.value as number);
    const states: Record<string, number> = {};
    for (const r of sorted) states[r.state] = (states[r.state] ?? 0) + 1;
    const { mean, std } = meanStd(done);
    return { group, runs: rs.length, completed: done.length, mean, std, values: sorted.map((r) => r.value), states };
  });
}

const pct = (x: number | null): string => formatFigure(x, { scale: 100, digits: 2 });

/** A plain-text table: group, completed/runs, accuracy mean ± std (%), per-seed values, states. */
export function formatGroupTable(rows: readonly GroupRow[], figure = 'test acc %'): string[] {
  const body = rows.map((r) => [
    r.group,
    `${r.completed}/${r.runs}`,
    formatMeanStd({ n: r.completed, mean: r.mean, std: r.std }, { scale: 100, digits: 2 }),
    r.values.map(pct).join(' '),
    Object.entries(r.states).map(([s, n]) => `${n} ${s}`).join(', '),
  ]);
  const head = ['group', 'done', `${figure} (mean ± std)`, 'per seed', 'states'];
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)];
}
