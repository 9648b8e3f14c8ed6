// The results table of Compare Runs and of "Export Results Table": which numbers, which way is
// better, deltas against a baseline run, sorting, and the Markdown / CSV / LaTeX renderings.
// Pure, so the host, the webview and the unit tests share one implementation.

import type { RunConfig } from '../config';
import { epochsText } from '../epochs';
import { CORRUPTIONS, EXTRA_CORRUPTIONS, type RobustnessRecord } from '../robustness';
import type { RunResults } from '../runFormat';

/** What the table needs from one run; the host assembles it from the run folder. */
export interface CompareRunData {
  runDir: string;
  name: string;
  config?: RunConfig;
  costFactor?: number;
  /** Epochs the engine trains (config.json's schedule); with sameBudget fewer than config.epochs. */
  trainedEpochs?: number;
  results?: RunResults;
  robustness?: RobustnessRecord;
}

export type Better = 'higher' | 'lower';

export interface Column {
  key: string;
  label: string;
  better: Better;
  /** How values are shown: '%' values are already in percent; deltas are then percentage points. */
  unit: '%' | '×' | 's' | '';
  digits: number;
  group: 'summary' | 'corruption';
}

export interface TableRow {
  runDir: string;
  name: string;
  values: Record<string, number | undefined>;
}

export interface ResultsTable {
  columns: Column[];
  rows: TableRow[];
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

function meanErrorPercent(errors: readonly (number | null)[]): number | undefined {
  const xs = errors.filter(finite);
  return xs.length ? (100 * xs.reduce((a, b) => a + b, 0)) / xs.length : undefined;
}

export function corruptionLabel(name: string): string {
  return name.replace(/_/g, ' ');
}

export function buildResultsTable(runs: readonly CompareRunData[]): ResultsTable {
  const columns: Column[] = [
    { key: 'clean', label: 'Clean acc.', better: 'higher', unit: '%', digits: 2, group: 'summary' },
    { key: 'meanCorruptionError', label: 'Mean corr. error', better: 'lower', unit: '%', digits: 2, group: 'summary' },
    { key: 'mCE', label: 'mCE', better: 'lower', unit: '%', digits: 2, group: 'summary' },
    { key: 'pgd', label: 'PGD acc.', better: 'higher', unit: '%', digits: 2, group: 'summary' },
    { key: 'costFactor', label: 'Cost factor', better: 'lower', unit: '×', digits: 3, group: 'summary' },
    { key: 'wallSeconds', label: 'Wall time', better: 'lower', unit: 's', digits: 0, group: 'summary' },
  ];
  const present = new Set<string>();
  for (const r of runs) for (const name of Object.keys(r.robustness?.corruptions ?? {})) present.add(name);
  for (const name of [...CORRUPTIONS, ...EXTRA_CORRUPTIONS]) {
    if (present.has(name)) columns.push({ key: `c:${name}`, label: corruptionLabel(name), better: 'lower', unit: '%', digits: 1, group: 'corruption' });
  }
  const rows = runs.map((r): TableRow => {
    const rob = r.robustness;
    const acc = r.results?.clean.accuracy ?? rob?.clean.accuracy;
    const values: Record<string, number | undefined> = {
      clean: finite(acc) ? acc * 100 : undefined,
      meanCorruptionError: rob?.summary.meanCorruptionError ?? undefined,
      mCE: rob?.summary.mCE ?? undefined,
      pgd: rob?.pgd && finite(rob.pgd.accuracy) ? rob.pgd.accuracy * 100 : undefined,
      costFactor: r.costFactor,
      wallSeconds: r.results?.wallSeconds,
    };
    for (const [name, c] of Object.entries(rob?.corruptions ?? {})) values[`c:${name}`] = meanErrorPercent(c.errors);
    for (const k of Object.keys(values)) if (!finite(values[k])) values[k] = undefined;
    return { runDir: r.runDir, name: r.name, values };
  });
  // A column no run has a number for is noise in an exported table.
  return { columns: columns.filter((c) => rows.some((r) => r.values[c.key] !== undefined)), rows };
}

export type Verdict = 'better' | 'worse' | 'same';

export interface Delta {
  diff: number;
  verdict: Verdict;
  arrow: '▲' | '▼' | '=';
}

/** Differences smaller than half the last shown digit read as "same". */
export function delta(col: Column, value: number | undefined, base: number | undefined): Delta | undefined {
  if (!finite(value) || !finite(base)) return undefined;
  const diff = value - base;
  if (Math.abs(diff) < 0.5 * 10 ** -col.digits) return { diff: 0, verdict: 'same', arrow: '=' };
  const up = diff > 0;
  return { diff, verdict: up === (col.better === 'higher') ? 'better' : 'worse', arrow: up ? '▲' : '▼' };
}

export function formatValue(col: Column, v: number | undefined): string {
  if (!finite(v)) return '–';
  if (col.unit === 's') return formatSeconds(v);
  return `${v.toFixed(col.digits)}${col.unit === '×' ? '×' : ''}`;
}

export function formatDelta(col: Column, d: Delta | undefined): string {
  if (!d) return '';
  if (d.verdict === 'same') return '±0';
  const sign = d.diff > 0 ? '+' : '−';
  const mag = Math.abs(d.diff);
  const body = col.unit === 's' ? formatSeconds(mag) : mag.toFixed(col.digits);
  return `${sign}${body}${col.unit === '%' ? ' pp' : col.unit === '×' ? '×' : ''}`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s - 60 * m)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export type SortDir = 'asc' | 'desc';

/** Sorts by a column ('name' sorts by run name); runs without a value go last either way. */
export function sortRows(rows: readonly TableRow[], key: string, dir: SortDir): TableRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (key === 'name') return sign * a.name.localeCompare(b.name);
    const x = a.values[key];
    const y = b.values[key];
    if (x === undefined && y === undefined) return 0;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    return sign * (x - y);
  });
}

export type ExportFormat = 'markdown' | 'csv' | 'latex';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['markdown', 'csv', 'latex'];

export interface ExportOptions {
  /** runDir of the baseline; other rows get a delta next to each value. */
  baseline?: string;
  sortKey?: string;
  sortDir?: SortDir;
}

interface Cell {
  value: string;
  delta: string;
}

function cells(table: ResultsTable, opts: ExportOptions): { head: string[]; rows: { name: string; cells: Cell[] }[]; baselineName?: string } {
  const base = opts.baseline ? table.rows.find((r) => r.runDir === opts.baseline) : undefined;
  const rows = opts.sortKey ? sortRows(table.rows, opts.sortKey, opts.sortDir ?? 'desc') : table.rows;
  return {
    head: table.columns.map((c) => `${c.label}${c.better === 'higher' ? ' ↑' : ' ↓'}`),
    baselineName: base?.name,
    rows: rows.map((r) => ({
      name: r.name,
      cells: table.columns.map((c) => ({
        value: formatValue(c, r.values[c.key]),
        delta: base && r !== base ? formatDelta(c, delta(c, r.values[c.key], base.values[c.key])) : '',
      })),
    })),
  };
}

function escapeMarkdown(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\n]+/g, ' ');
}

export function toMarkdown(table: ResultsTable, opts: ExportOptions = {}): string {
  const t = cells(table, opts);
  const lines = [
    `| Run | ${t.head.map(escapeMarkdown).join(' | ')} |`,
    `|---|${t.head.map(() => '---:').join('|')}|`,
    ...t.rows.map((r) => `| ${escapeMarkdown(r.name)} | ${r.cells.map((c) => (c.delta ? `${c.value} (${c.delta})` : c.value)).join(' | ')} |`),
  ];
  if (t.baselineName) lines.push('', `Deltas against ${escapeMarkdown(t.baselineName)}; ↑ higher is better, ↓ lower is better; pp = percentage points.`);
  return `${lines.join('\n')}\n`;
}

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet does not run a run name as a formula. */
export function csvField(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(table: ResultsTable, opts: ExportOptions = {}): string {
  const base = opts.baseline ? table.rows.find((r) => r.runDir === opts.baseline) : undefined;
  const rows = opts.sortKey ? sortRows(table.rows, opts.sortKey, opts.sortDir ?? 'desc') : table.rows;
  // Raw numbers, not display strings: a CSV is for further computation.
  const head = ['run', ...table.columns.flatMap((c) => {
    const name = `${c.key}${c.unit === '%' ? '_pct' : c.unit === 's' ? '_s' : ''}`;
    return base ? [name, `${name}_delta`] : [name];
  })];
  const lines = [head.map(csvField).join(',')];
  for (const r of rows) {
    const vals = table.columns.flatMap((c) => {
      const v = r.values[c.key];
      const out = [v === undefined ? '' : String(Number(v.toFixed(6)))];
      if (base) {
        const d = r === base ? undefined : delta(c, v, base.values[c.key]);
        out.push(d ? String(Number(d.diff.toFixed(6))) : '');
      }
      return out;
    });
    lines.push([csvField(r.name), ...vals].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function escapeLatex(s: string): string {
  return s.replace(/[\\{}&%$#_^~]/g, (ch) => ({
    '\\': '\\textbackslash{}', '{': '\\{', '}': '\\}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '^': '\\textasciicircum{}', '~': '\\textasciitilde{}',
  })[ch] ?? ch).replace(/[\r\n]+/g, ' ');
}

function latexHead(s: string): string {
  return escapeLatex(s.replace(/ ↑$/, '').replace(/ ↓$/, '')) + (s.endsWith('↑') ? ' $\\uparrow$' : s.endsWith('↓') ? ' $\\downarrow$' : '');
}

function latexCell(s: string): string {
  return escapeLatex(s).replace(/–/g, '--').replace(/−/g, '-').replace(/±/g, '$\\pm$').replace(/×/g, '$\\times$');
}

export function toLatex(table: ResultsTable, opts: ExportOptions = {}): string {
  const t = cells(table, opts);
  const lines = [
    '% requires \\usepackage{booktabs}',
    `\\begin{tabular}{l${'r'.repeat(t.head.length)}}`,
    '\\toprule',
    `Run & ${t.head.map(latexHead).join(' & ')} \\\\`,
    '\\midrule',
    ...t.rows.map((r) => `${escapeLatex(r.name)} & ${r.cells.map((c) => latexCell(c.delta ? `${c.value} (${c.delta})` : c.value)).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
  ];
  return `${lines.join('\n')}\n`;
}

export function formatTable(format: ExportFormat, table: ResultsTable, opts: ExportOptions = {}): string {
  switch (format) {
    case 'markdown':
      return toMarkdown(table, opts);
    case 'csv':
      return toCsv(table, opts);
    case 'latex':
      return toLatex(table, opts);
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

export const FORMAT_EXTENSION: Record<ExportFormat, string> = { markdown: 'md', csv: 'csv', latex: 'tex' };

/** Dotted keys → display strings, for the config diff. */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  }
  return out;
}

export interface DiffRow {
  key: string;
  values: (string | undefined)[];
  changed: boolean;
}

export function configDiff(configs: readonly (RunConfig | undefined)[], trainedEpochs: readonly (number | undefined)[] = []): DiffRow[] {
  const flat = configs.map((c, i) => {
    if (!c) return {};
    const f = flattenConfig(c);
    // config.epochs is the vanilla-equivalent budget; "epochs 6" next to a dashboard saying 1/5
    // read as a bug, so the row says what was trained and why.
    const trained = trainedEpochs[i];
    if (trained !== undefined && c.sameBudget && trained !== c.epochs) f.epochs = epochsText(trained, c.epochs);
    return f;
  });
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return keys.map((key) => {
    const values = flat.map((f) => f[key]);
    return { key, values, changed: values.some((v) => v !== values[0]) };
  });
}
