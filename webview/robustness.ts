// Robustness page: per-corruption bars grouped by family, corruption × severity heatmap,
// comparison with a baseline run, and the thumbnail strip when the record has one.
import './lib/panel.css';
import type { RobustnessFromWebview, RobustnessState, RobustnessToWebview, RobustnessView } from '../src/shared/protocol/robustness';
import { baselineCE, groupedCorruptions, heatCellStyle, heatPercent, maxError } from '../src/shared/protocol/robustnessModel';
import { corruptionLabel } from '../src/shared/protocol/resultsTable';
import type { CorruptionFamily } from '../src/shared/robustness';
import { applyDefaults, Chart, onThemeChange, theme } from './lib/charts';
import { clear, h } from './lib/h';
import { button, dropdown } from './lib/ui';
import { channel } from './lib/vscodeApi';

const vscode = channel<RobustnessFromWebview, RobustnessState>();
const app = document.getElementById('app')!;
let last: Extract<RobustnessToWebview, { type: 'snapshot' }> | undefined;
let chart: Chart | undefined;

const pct = (x: number | null | undefined, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '–');

function familyColor(f: CorruptionFamily): string {
  const t = theme();
  return { noise: t.noise, blur: t.clean, weather: t.green, digital: t.purple }[f];
}

function stat(label: string, value: string, title?: string): HTMLElement {
  return h('span', { class: 'chip', title }, h('span', { class: 'k' }, label), value);
}

function render(): void {
  chart?.destroy();
  chart = undefined;
  clear(app);
  if (!last) return;
  const { run, baseline, candidates } = last;
  app.append(h('h1', null, `Robustness: ${run.name}`));
  app.append(h('div', { class: 'toolbar' },
    h('label', null, 'Baseline '),
    dropdown([{ value: '', label: '(none)' }, ...candidates.map((c) => ({ value: c.runDir, label: c.name }))], baseline?.runDir ?? '',
      (v) => vscode.post({ type: 'setBaseline', runDir: v }), { id: 'baseline' }),
    button('Dashboard', () => vscode.post({ type: 'openDashboard' })),
  ));
  const rec = run.record;
  if (!rec) {
    app.append(h('p', { class: 'error-text', attrs: { role: 'alert', id: 'robustness-error' } }, run.error ?? 'No robustness record.'));
    return;
  }
  const s = rec.summary;
  app.append(h('div', { class: 'chips' },
    stat('clean accuracy', `${pct(rec.clean.accuracy * 100, 2)} %`),
    stat('mean corruption error', `${pct(s.meanCorruptionError, 2)} %`, 'CIFAR-10-C convention: 100 − mean accuracy over corruptions × severities'),
    stat('mCE', `${pct(s.mCE, 2)} %`, 'ImageNet-C: corruption errors normalised by AlexNet\'s, averaged over the 15'),
    stat('relative mCE', `${pct(s.relativeMCE, 2)} %`),
    rec.pgd ? stat(`PGD-${rec.pgd.steps} ε=${rec.pgd.epsilon}`, `${pct(rec.pgd.accuracy * 100, 2)} % acc.`) : null,
    stat('images', String(rec.images), `source: ${rec.source}`),
  ));
  if (s.missing?.length) app.append(h('p', { class: 'muted' }, `Not evaluated: ${s.missing.join(', ')}`));

  const groups = groupedCorruptions(rec);
  const rows = groups.flatMap((g) => g.rows);
  const baseRec = baseline?.record;
  const baseGroups = baseRec ? new Map(groupedCorruptions(baseRec).flatMap((g) => g.rows).map((r) => [r.name, r])) : undefined;

  // Bars, grouped by family through order and colour.
  const canvas = h('canvas') as HTMLCanvasElement;
  app.append(h('h2', null, 'Error per corruption (mean over severities)'),
    h('div', { class: 'card' }, h('div', { class: 'chart-box', style: { height: '280px' } }, canvas)),
    h('div', { class: 'row muted' }, groups.map((g) => h('span', null, h('span', { class: 'legend-dot', style: { background: familyColor(g.family) } }), g.family))));
  const t = theme();
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: rows.map((r) => corruptionLabel(r.name)),
      datasets: [
        { label: run.name, data: rows.map((r) => r.mean ?? null) as number[], backgroundColor: rows.map((r) => familyColor(r.family)) },
        ...(baseGroups ? [{ label: `${baseline!.name} (baseline)`, data: rows.map((r) => baseGroups.get(r.name)?.mean ?? null) as number[], backgroundColor: t.grid, borderColor: t.foreground, borderWidth: 1 }] : []),
      ],
    },
    options: { scales: { y: { min: 0, title: { display: true, text: 'error %' } } }, plugins: { legend: { display: !!baseGroups } } },
  });

  // Heatmap: corruption × severity, intensity by error relative to the worst cell.
  const worst = maxError(rec);
  app.append(h('h2', null, 'Corruption × severity (error %)'), h('p', { class: 'muted' }, `Shade scales to the worst cell (${pct(worst * 100)} %).`),
    h('table', { class: 'grid heat', attrs: { id: 'heatmap' } },
      h('thead', null, h('tr', null, h('th', null, 'corruption'), [1, 2, 3, 4, 5].map((sv) => h('th', null, String(sv))), h('th', null, 'mean'))),
      h('tbody', null, groups.map((g) => [
        h('tr', null, h('th', { attrs: { colspan: 7 }, style: { 'text-align': 'left' } }, g.family)),
        ...g.rows.map((r) => h('tr', null,
          h('td', null, corruptionLabel(r.name)),
          r.errors.map((e) => {
            const cell = heatCellStyle(heatPercent(e, worst));
            return h('td', {
              class: cell?.hot ? 'hot' : undefined,
              style: cell ? { 'background-color': cell.background, ...(cell.color ? { color: cell.color } : {}) } : undefined,
            }, e === null ? '–' : pct(e * 100));
          }),
          h('td', null, pct(r.mean)))),
      ]))));

  if (baseRec) {
    const ce = baselineCE(rec, baseRec);
    app.append(h('h2', null, `Against ${baseline!.name}`),
      h('table', { class: 'grid', attrs: { id: 'baseline-table' } },
        h('thead', null, h('tr', null, ['corruption', 'this run', 'baseline', 'CE vs baseline'].map((x) => h('th', null, x)))),
        h('tbody', null,
          rows.map((r) => {
            const v = ce.perCorruption[r.name];
            return h('tr', null, h('td', null, corruptionLabel(r.name)), h('td', null, pct(r.mean)), h('td', null, pct(baseGroups?.get(r.name)?.mean)),
              h('td', { class: v === undefined ? undefined : v < 99.95 ? 'better' : v > 100.05 ? 'worse' : 'same' }, pct(v)));
          }),
          h('tr', null, h('td', null, h('strong', null, 'mean')), h('td', null, pct(s.meanCorruptionError)), h('td', null, pct(baseRec.summary.meanCorruptionError)), h('td', null, h('strong', null, pct(ce.mean)))))),
      h('p', { class: 'muted' }, 'CE vs baseline = 100 · this run\'s errors / the baseline\'s, summed over severities; below 100 is more robust.'));
  } else if (baseline?.error) {
    app.append(h('p', { class: 'error-text' }, `Baseline ${baseline.name}: ${baseline.error}`));
  }

  if (run.thumbnails?.length) {
    app.append(h('h2', null, 'Samples'), h('div', { class: 'thumbs', attrs: { id: 'thumbnails' } }, run.thumbnails.map((th) =>
      h('figure', null, h('img', { attrs: { src: th.src, alt: `${th.corruption} severity ${th.severity}` } }), h('figcaption', null, `${corruptionLabel(th.corruption)}${th.severity ? ` ${th.severity}` : ''}`)))));
  }
}

vscode.onMessage((raw) => {
  const msg = raw as RobustnessToWebview;
  switch (msg?.type) {
    case 'snapshot':
      last = msg;
      vscode.setState({ runDir: msg.run.runDir, ...(msg.baseline ? { baseline: msg.baseline.runDir } : {}) });
      render();
      return;
    default:
      return;
  }
});
applyDefaults();
onThemeChange(() => render());
vscode.post({ type: 'ready' });
