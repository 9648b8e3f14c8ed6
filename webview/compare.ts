// Compare Runs page: results with deltas against a baseline, sortable; config diff; export.
import './lib/panel.css';
import type { CompareFromWebview, CompareState, CompareToWebview } from '../src/shared/protocol/compare';
import {
  buildResultsTable, configDiff, delta, formatDelta, formatValue, sortRows, type CompareRunData, type ExportFormat, type SortDir,
} from '../src/shared/protocol/resultsTable';
import { clear, h } from './lib/h';
import { button, checkbox, dropdown } from './lib/ui';
import { channel } from './lib/vscodeApi';

const vscode = channel<CompareFromWebview, CompareState & { changedOnly?: boolean; sortKey?: string; sortDir?: SortDir }>();
const app = document.getElementById('app')!;

let runs: CompareRunData[] = [];
let baseline = '';
let missing: string[] = [];
const saved = vscode.getState();
let changedOnly = saved?.changedOnly ?? true;
let sortKey = saved?.sortKey ?? '';
let sortDir: SortDir = saved?.sortDir ?? 'desc';
let format: ExportFormat = 'markdown';

function persist(): void {
  vscode.setState({ runDirs: [...runs.map((r) => r.runDir), ...missing], baseline, changedOnly, sortKey, sortDir });
}

function render(): void {
  clear(app);
  app.append(h('h1', null, 'Compare Runs'));
  if (runs.length === 0) {
    app.append(h('p', { class: 'muted' }, 'No runs to compare.'), button('Choose runs…', () => vscode.post({ type: 'addRuns' }), { appearance: 'primary' }));
    return;
  }
  app.append(
    h('div', { class: 'toolbar' },
      h('label', null, 'Baseline '),
      dropdown(runs.map((r) => ({ value: r.runDir, label: r.name })), baseline, (v) => vscode.post({ type: 'setBaseline', runDir: v }), { id: 'baseline' }),
      button('Choose runs…', () => vscode.post({ type: 'addRuns' })),
      h('span', { class: 'muted' }, '|'),
      dropdown([{ value: 'markdown', label: 'Markdown' }, { value: 'csv', label: 'CSV' }, { value: 'latex', label: 'LaTeX' }], format, (v) => { format = v as ExportFormat; }, { id: 'format' }),
      button('Copy', () => exportTo('clipboard'), { title: 'Copy the results table to the clipboard' }),
      button('Save…', () => exportTo('file'), { title: 'Save the results table to a file' }),
    ),
  );
  if (missing.length) app.append(h('p', { class: 'error-text' }, `Not found (deleted or moved): ${missing.join(', ')}`));
  app.append(resultsSection(), configSection());
}

function exportTo(destination: 'clipboard' | 'file'): void {
  vscode.post({ type: 'export', format, destination, ...(sortKey ? { sortKey, sortDir } : {}) });
}

function resultsSection(): HTMLElement {
  const table = buildResultsTable(runs);
  const base = table.rows.find((r) => r.runDir === baseline);
  const rows = sortKey ? sortRows(table.rows, sortKey, sortDir) : table.rows;
  const th = (key: string, label: string, title?: string) => h('th', {
    class: `sortable${sortKey === key ? ` sorted-${sortDir}` : ''}`, title: title ?? 'Click to sort',
    attrs: { scope: 'col', tabindex: 0, 'aria-sort': sortKey === key ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none' },
    on: { click: () => setSort(key), keydown: (ev: KeyboardEvent) => { if (ev.key === 'Enter' || ev.key === ' ') setSort(key); } },
  }, label);
  // A comparison needs two runs, so only a third can be removed; with two, a column of nothing
  // but blank cells read as a rendering fault (#16).
  const removable = runs.length > 2;
  if (table.columns.length === 0) {
    return h('section', null, h('h2', null, 'Results'), h('p', { class: 'muted' }, 'None of these runs has results.json or robustness.json yet.'));
  }
  return h('section', null,
    h('h2', null, 'Results'),
    h('div', { style: { overflow: 'auto' } },
      h('table', { class: 'grid', attrs: { id: 'results' } },
        h('thead', null, h('tr', null,
          th('name', 'Run'),
          table.columns.map((c) => th(c.key, `${c.label} ${c.better === 'higher' ? '↑' : '↓'}`, `${c.better === 'higher' ? 'Higher' : 'Lower'} is better. Click to sort.`)),
          removable ? h('th', { attrs: { scope: 'col' } }, 'Remove') : null)),
        h('tbody', null, rows.map((r) => h('tr', null,
          h('td', null,
            h('a', { attrs: { role: 'button', tabindex: 0 }, title: r.runDir, on: { click: () => vscode.post({ type: 'openDashboard', runDir: r.runDir }) } }, r.name),
            r === base ? h('span', { class: 'muted' }, ' (baseline)') : null),
          table.columns.map((c) => {
            const d = base && r !== base ? delta(c, r.values[c.key], base.values[c.key]) : undefined;
            return h('td', null, formatValue(c, r.values[c.key]),
              d ? h('span', { class: d.verdict, title: d.verdict }, ` ${d.arrow} ${formatDelta(c, d)}`) : null);
          }),
          removable ? h('td', null, button('×', () => vscode.post({ type: 'removeRun', runDir: r.runDir }), { title: 'Remove from the comparison' })) : null,
        ))))),
    h('p', { class: 'muted' }, 'Errors are percent (mean over severities); deltas in percentage points (pp). Green is better, red is worse, whichever way the column counts.'),
  );
}

function setSort(key: string): void {
  if (sortKey === key) sortDir = sortDir === 'desc' ? 'asc' : 'desc';
  else {
    sortKey = key;
    sortDir = key === 'name' ? 'asc' : 'desc';
  }
  persist();
  render();
}

function configSection(): HTMLElement {
  const diff = configDiff(runs.map((r) => r.config), runs.map((r) => r.trainedEpochs));
  const shown = changedOnly ? diff.filter((d) => d.changed) : diff;
  return h('section', null,
    h('h2', null, 'Configuration'),
    checkbox('Changed settings only', changedOnly, (v) => { changedOnly = v; persist(); render(); }, { id: 'changed-only' }),
    shown.length === 0
      ? h('p', { class: 'muted' }, 'All settings are the same.')
      : h('table', { class: 'grid', attrs: { id: 'config-diff' } },
        h('thead', null, h('tr', null, h('th', null, 'Setting'), runs.map((r) => h('th', { title: r.runDir }, r.name)))),
        h('tbody', null, shown.map((d) => h('tr', { class: d.changed ? 'changed' : undefined },
          h('td', null, d.key), d.values.map((v) => h('td', null, v ?? '–')))))),
  );
}

vscode.onMessage((raw) => {
  const msg = raw as CompareToWebview;
  switch (msg?.type) {
    case 'snapshot':
      runs = msg.runs;
      baseline = msg.baseline;
      missing = msg.missing;
      persist();
      render();
      return;
    default:
      return;
  }
});
vscode.post({ type: 'ready' });
