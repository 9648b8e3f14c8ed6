// Dashboard page: header, leak banner, budget bar and live charts for one run.
import './lib/panel.css';
import type { MetricsRecord } from '../src/shared/runFormat';
import { backendLabel } from '../src/shared/backendLabel';
import type { DashboardFromWebview, DashboardRun, DashboardState, DashboardToWebview } from '../src/shared/protocol/dashboard';
import {
  budgetProgress, compactNumber, currentLeak, epochLabel, formatEta, lastStep, isStarting, leakAdvice, leakStateLine, percent, scheduleText, seriesFrom, settingChips, stateWord, STREAMS,
  type Point, type SeriesDelta, type Stream,
} from '../src/shared/protocol/dashboardModel';
import { appendPoints, applyDefaults, lineChart, onThemeChange, recolor, theme, type Chart } from './lib/charts';
import { clear, h } from './lib/h';
import { button } from './lib/ui';
import { channel } from './lib/vscodeApi';

const vscode = channel<DashboardFromWebview, DashboardState>();
const app = document.getElementById('app')!;

let run: DashboardRun | undefined;
let records: MetricsRecord[] = [];

const headerEl = h('header');
const bannersEl = h('div');
const budgetEl = h('section');
const chartsEl = h('section', { class: 'charts' });
app.append(headerEl, bannersEl, budgetEl, chartsEl);

type ChartKey = 'loss' | 'trainAcc' | 'testAcc' | 'lr' | 'ips';
const charts = new Map<ChartKey, Chart<'line', Point[]>>();

function card(title: string, hint?: string): { card: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = h('canvas') as HTMLCanvasElement;
  const el = h('div', { class: 'card' }, h('h2', { title: hint }, title), h('div', { class: 'chart-box' }, canvas));
  return { card: el, canvas };
}

const STREAM_LABEL: Record<Stream, string> = { clean: 'clean', noise: 'noise (attack)', adv: 'adversarial' };

function streamColors(): string[] {
  const t = theme();
  return [t.clean, t.noise, t.adv];
}

/** A foreign run has one record per epoch (numbered from 1) and no throughput. */
function buildCharts(s: SeriesDelta): void {
  const x = run?.origin ? 'epoch' : 'step';
  for (const c of charts.values()) c.destroy();
  charts.clear();
  clear(chartsEl);
  const t = theme();
  const colors = streamColors();
  const make = (key: ChartKey, title: string, hint: string | undefined, series: { label: string; color: string; data: Point[] }[], o: { xTitle: string; yTitle: string; yMin?: number; yMax?: number; stepped?: boolean; xIntegers?: boolean }) => {
    const { card: el, canvas } = card(title, hint);
    chartsEl.append(el);
    charts.set(key, lineChart(canvas, series, o));
  };
  make('loss', 'Loss', 'Per-stream training loss, averaged over each logging interval',
    STREAMS.map((st, i) => ({ label: STREAM_LABEL[st], color: colors[i], data: s.loss[st] })), { xTitle: x, yTitle: 'loss' });
  make('trainAcc', 'Train accuracy', 'Adversarial above clean for a while is the label-leak symptom',
    STREAMS.map((st, i) => ({ label: STREAM_LABEL[st], color: colors[i], data: s.trainAcc[st] })), { xTitle: x, yTitle: '%', yMin: 0, yMax: 100 });
  make('testAcc', 'Test accuracy per epoch', undefined,
    [{ label: 'test', color: t.green, data: s.testAcc }, { label: 'train (epoch)', color: t.clean, data: s.epochTrainAcc }], { xTitle: 'epoch', yTitle: '%', yMin: 0, yMax: 100, xIntegers: true });
  make('lr', 'Learning rate', undefined, [{ label: 'lr', color: t.purple, data: s.lr }], { xTitle: x, yTitle: 'lr', yMin: 0, stepped: true });
  if (run?.origin) return;
  make('ips', 'Images / s', undefined, [{ label: 'images/s', color: t.orange, data: s.imagesPerSecond }], { xTitle: 'step', yTitle: 'images/s', yMin: 0 });
}

function appendSeries(s: SeriesDelta): void {
  const push = (key: ChartKey, parts: Point[][]) => {
    const c = charts.get(key);
    if (c) appendPoints(c, parts);
  };
  push('loss', STREAMS.map((st) => s.loss[st]));
  push('trainAcc', STREAMS.map((st) => s.trainAcc[st]));
  push('testAcc', [s.testAcc, s.epochTrainAcc]);
  push('lr', [s.lr]);
  push('ips', [s.imagesPerSecond]);
}

function chip(k: string, v: string, title?: string): HTMLElement {
  return h('span', { class: 'chip', title }, h('span', { class: 'k' }, k), v);
}

function renderHeader(): void {
  clear(headerEl);
  if (!run) return;
  if (isStarting(run)) {
    headerEl.append(
      h('h1', null, run.name),
      h('div', { class: 'row' },
        h('span', { class: 'state state-starting', attrs: { id: 'state', 'aria-live': 'polite' } }, 'starting…'),
        h('span', { class: 'muted' }, 'the engine is loading TensorFlow.js, the dataset and the model'),
        run.alive ? h('span', { class: 'toolbar' }, button('Stop', () => vscode.post({ type: 'stopRun' }), { title: 'Ask the engine to stop after the current step (it checkpoints first)' })) : null,
      ),
    );
    return;
  }
  if (run.origin) {
    renderForeignHeader(run);
    return;
  }
  const cfg = run.config?.config;
  const status = run.status;
  const state = stateWord(run);
  const prog = status?.progress;
  const last = lastStep(records);
  const ips = prog?.imagesPerSecond ?? last?.imagesPerSecond;
  const backend = run.config?.backend;
  const actions: HTMLElement[] = [];
  if (run.alive && (state === 'running' || state === 'queued')) actions.push(button('Stop', () => vscode.post({ type: 'stopRun' }), { title: 'Ask the engine to stop after the current step (it checkpoints first)' }));
  // Resume is what a stopped run's hint asks for; the engine's "--resume" command line is no
  // use to someone who installed the .vsix.
  if (!run.alive && (state === 'stopped' || state === 'crashed')) actions.push(button('Resume', () => vscode.post({ type: 'resumeRun' }), { appearance: 'primary', id: 'resume', title: 'Continue from the last checkpoint on the same schedule' }));
  actions.push(button('Budget', () => vscode.post({ type: 'openBudget' }), { title: 'Planned vs measured image-passes in the budget calculator' }));
  if (run.hasRobustness) actions.push(button('Robustness', () => vscode.post({ type: 'openRobustness' })));
  actions.push(button('Add to comparison', () => vscode.post({ type: 'addToComparison' })));
  headerEl.append(
    h('h1', null, run.name),
    h('div', { class: 'chips' },
      settingChips(cfg).map((c) => chip(c.k, c.v, c.title)),
      chip('backend', backend ? backendLabel(backend) : status?.backend ?? '–', backend ? `${backend.package}: ${backend.reason}` : undefined),
    ),
    h('div', { class: 'row' },
      h('span', { class: `state state-${state}`, attrs: { id: 'state', 'aria-live': 'polite' } }, state),
      prog ? h('progress', { attrs: { max: Math.max(1, prog.totalSteps), value: Math.min(prog.step, prog.totalSteps) }, title: `step ${prog.step} of ${prog.totalSteps}` }) : null,
      prog ? h('span', null, `epoch ${epochLabel(prog.epoch, prog.epochs)} · step ${prog.step}/${prog.totalSteps}`) : null,
      prog?.etaSeconds !== undefined && state === 'running' ? h('span', { class: 'muted' }, `ETA ${formatEta(prog.etaSeconds)}`) : null,
      ips !== undefined ? h('span', null, `${ips.toFixed(1)} images/s`) : null,
      run.results ? h('span', null, `test accuracy ${percent(run.results.clean.accuracy)}`) : null,
      h('span', { class: 'toolbar' }, actions),
    ),
  );
}

/** Another trainer's run: where it came from, its last test accuracy; nothing to stop, resume or budget. */
function renderForeignHeader(r: DashboardRun): void {
  const actions: HTMLElement[] = [];
  if (r.hasRobustness) actions.push(button('Robustness', () => vscode.post({ type: 'openRobustness' })));
  actions.push(button('Add to comparison', () => vscode.post({ type: 'addToComparison' })));
  headerEl.append(
    h('h1', null, r.name),
    h('div', { class: 'row' },
      h('span', { class: 'chip', attrs: { id: 'origin' }, title: 'Read from its folder; nothing is started, stopped or written there' }, h('span', { class: 'k' }, 'written by'), `${r.origin} · read-only`),
      h('span', null, `${records.filter((x) => x.kind === 'step').length} epochs`),
      r.results ? h('span', null, `test accuracy ${percent(r.results.clean.accuracy)} (last epoch)`) : null,
      h('span', { class: 'toolbar' }, actions),
    ),
  );
}

function renderBanners(): void {
  clear(bannersEl);
  if (!run) return;
  const leak = currentLeak(run.status, run.results, records);
  if (leak?.flagged) {
    const advice = leakAdvice(run.config?.config);
    bannersEl.append(h('div', { class: 'banner', attrs: { role: 'alert', id: 'leak-banner' } },
      h('strong', null, `Label leak: adversarial train accuracy ${percent(leak.adv)} is above clean ${percent(leak.clean)} (${run.origin ? 'epoch' : 'step'} ${leak.step}).`),
      h('p', null, 'Adversarial images should be harder than clean ones. When they score higher, the model is reading the label out of the batch: '
        + 'the attack and the adversarial pass share batch-norm statistics, and those statistics carry information between samples. '
        + 'The paper saw 88.0 % adversarial vs 73.3 % clean train accuracy without shuffling.'),
      h('p', null, advice.text),
      leak.message ? h('p', { class: 'muted' }, leak.message) : null,
      // A foreign run has no config of ours to start the next run from.
      run.config ? button(advice.button, () => vscode.post({ type: 'applyLeakFix' }), { appearance: 'primary', id: 'apply-leak-fix' }) : null,
    ));
  }
  const leakState = leakStateLine(run.config?.config?.method, run.status, run.results, records);
  if (leakState) bannersEl.append(h('p', { class: 'muted', title: leakState.title, attrs: { id: 'leak-state' } }, leakState.text));
  const err = run.status?.error;
  if (run.crashed || err) {
    bannersEl.append(h('div', { class: 'banner error', attrs: { role: 'alert' } },
      h('strong', null, run.crashed ? 'The engine process is gone without writing a final state.' : 'The run failed.'),
      err ? h('p', null, `${err.message}${err.field ? ` (field ${err.field})` : ''}${err.step !== undefined ? ` at step ${err.step}` : ''}`) : null,
      run.crashed ? h('p', { class: 'muted' }, 'See engine.log in the run folder; "Resume" continues from the last checkpoint.') : null,
    ));
  }
}

function renderBudget(): void {
  clear(budgetEl);
  // Nothing planned or spent yet: an empty bar with "of ?" would look like a broken record.
  if (!run || isStarting(run) || run.origin) return;
  const b = budgetProgress(run.config, run.results, records);
  const total = Math.max(b.planned ?? 0, b.spent.total, 1);
  const seg = (cls: string, n: number, label: string) => h('span', { class: cls, title: `${label}: ${compactNumber(n)} image-passes`, style: { width: `${(100 * n) / total}%` } });
  const sched = run.config?.schedule;
  budgetEl.append(
    h('h2', null, 'Budget'),
    h('div', { class: 'budget-bar', attrs: { role: 'img', 'aria-label': `spent ${compactNumber(b.spent.total)} of ${compactNumber(b.planned)} planned image-passes` } },
      seg('seg-clean', b.spent.clean, 'clean'), seg('seg-attack', b.spent.attack, 'attack'), seg('seg-adv', b.spent.adv, 'adversarial')),
    h('div', { class: 'row muted' },
      h('span', null, `spent ${compactNumber(b.spent.total)} of ${b.planned ? compactNumber(b.planned) : '?'} planned image-passes${b.fraction !== undefined ? ` (${(b.fraction * 100).toFixed(1)} %)` : ''}`),
      h('span', null, h('span', { class: 'legend-dot seg-clean' }), `clean ${compactNumber(b.spent.clean)}`),
      h('span', null, h('span', { class: 'legend-dot seg-attack' }), `attack ${compactNumber(b.spent.attack)}`),
      h('span', null, h('span', { class: 'legend-dot seg-adv' }), `adversarial ${compactNumber(b.spent.adv)}`),
      sched ? h('span', { attrs: { id: 'schedule' } }, scheduleText(sched, run.config?.config)) : null,
    ),
  );
}

function renderAll(): void {
  renderHeader();
  renderBanners();
  renderBudget();
}

function onMessage(raw: unknown): void {
  const msg = raw as DashboardToWebview;
  switch (msg?.type) {
    case 'snapshot':
      run = msg.run;
      records = msg.metrics;
      vscode.setState({ runDir: msg.run.runDir });
      buildCharts(seriesFrom(records));
      renderAll();
      return;
    case 'metrics':
      if (msg.from !== records.length) {
        // Out of step (a message lost while hidden): start over from a full snapshot.
        vscode.post({ type: 'ready' });
        return;
      }
      // A loop, not push(...records): spreading ~130k arguments overflows the call stack.
      for (const r of msg.records) records.push(r);
      appendSeries(seriesFrom(msg.records));
      renderAll();
      return;
    case 'run':
      run = msg.run;
      renderAll();
      return;
    case 'missing':
      run = undefined;
      clear(headerEl);
      clear(bannersEl);
      clear(budgetEl);
      headerEl.append(h('div', { class: 'banner error' }, h('strong', null, 'Run folder not found'), h('p', null, msg.runDir)));
      return;
    default:
      return;
  }
}

applyDefaults();
onThemeChange(() => {
  const colors = streamColors();
  charts.get('loss') && recolor(charts.get('loss')!, colors);
  charts.get('trainAcc') && recolor(charts.get('trainAcc')!, colors);
  const t = theme();
  charts.get('testAcc') && recolor(charts.get('testAcc')!, [t.green, t.clean]);
  charts.get('lr') && recolor(charts.get('lr')!, [t.purple]);
  charts.get('ips') && recolor(charts.get('ips')!, [t.orange]);
});
vscode.onMessage(onMessage);
vscode.post({ type: 'ready' });
