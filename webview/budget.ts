// Budget calculator page: same-budget calibration, cost split, the paper's p_adv sweep, and a
// run's planned vs measured image-passes. All arithmetic comes from the engine's cost model.
import './lib/panel.css';
import {
  BudgetInputError, batchSplit, calibrate, fittingBatchSizes, parseSplit, perEpochCost, updateSyncDivisors, type Calibration, type Method,
} from '../src/engine/budget/costModel';
import type { BudgetFromWebview, BudgetRunInfo, BudgetState, BudgetToWebview } from '../src/shared/protocol/budget';
import { compactNumber } from '../src/shared/protocol/dashboardModel';
import { distinctShortLabels } from '../src/shared/runLabel';
import { applyDefaults, Chart, onThemeChange, theme } from './lib/charts';
import { clear, h } from './lib/h';
import { button, checkbox, dropdown, textField } from './lib/ui';
import { channel } from './lib/vscodeApi';

interface Inputs {
  method: Method;
  /** "C:A" or a p_adv like 0.2. */
  ratio: string;
  k: string;
  epochs: string;
  milestones: string;
  batch: string;
  sameBudget: boolean;
}

const DEFAULT_INPUTS: Inputs = { method: 'fast-advprop', ratio: '4:1', k: '1', epochs: '105', milestones: '30,60,90', batch: '256', sameBudget: true };
const SWEEP = [0.11, 0.2, 0.33, 0.5];

const vscode = channel<BudgetFromWebview, BudgetState & { inputs?: Inputs }>();
const app = document.getElementById('app')!;
const saved = vscode.getState();
let inputs: Inputs = { ...DEFAULT_INPUTS, ...(saved?.inputs ?? {}) };
let runs: { runDir: string; name: string }[] = [];
let selected: BudgetRunInfo | undefined;
let chart: Chart | undefined;

const formEl = h('section');
const outEl = h('section');
const runEl = h('section');
app.append(h('h1', null, 'Budget Calculator'), formEl, outEl, runEl);

function persist(): void {
  vscode.setState({ runDir: selected?.runDir, inputs });
}

function int(text: string, field: string): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new BudgetInputError(field, `${field}: expected a whole number, got ${JSON.stringify(text)}`);
  return Number(t);
}

function milestoneList(text: string): number[] {
  return text.split(/[,\s]+/).filter(Boolean).map((m) => int(m, 'milestones'));
}

/** "4:1" is a split; a bare number is p_adv, mapped to the smallest ratio as the engine does. */
function ratioInput(text: string): { split?: string; pAdv?: number } {
  const t = text.trim();
  if (t.includes(':')) return { split: t };
  const p = Number(t);
  if (t === '' || !Number.isFinite(p)) throw new BudgetInputError('split', `split: expected "C:A" (e.g. 4:1) or p_adv (e.g. 0.2), got ${JSON.stringify(text)}`);
  return { pAdv: p };
}

function compute(i: Inputs): { cal: Calibration; batch: ReturnType<typeof batchSplit>; divisors: ReturnType<typeof updateSyncDivisors>; sweep: Calibration[] } {
  const k = int(i.k, 'k');
  const epochs = int(i.epochs, 'epochs');
  const milestones = milestoneList(i.milestones);
  const cal = calibrate({ method: i.method, ...ratioInput(i.ratio), k, epochs, milestones, sameBudget: i.sameBudget });
  const split = parseSplit(cal.split);
  const batch = i.method === 'advprop' ? { clean: int(i.batch, 'batchSize'), adv: int(i.batch, 'batchSize'), total: 2 * int(i.batch, 'batchSize'), exact: true } : batchSplit(int(i.batch, 'batchSize'), split);
  const divisors = updateSyncDivisors({ clean: batch.clean, adv: batch.adv, k, beta: 0.5 });
  const sweep = SWEEP.map((pAdv) => calibrate({ method: 'fast-advprop', pAdv, k, epochs, milestones, sameBudget: true }));
  return { cal, batch, divisors, sweep };
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement[] {
  return [h('label', { title: hint }, label), control];
}

function renderForm(): void {
  clear(formEl);
  const set = <K extends keyof Inputs>(k: K) => (v: Inputs[K]) => { inputs = { ...inputs, [k]: v }; persist(); renderOutputs(); };
  formEl.append(h('div', { class: 'form' },
    field('Method', dropdown([
      { value: 'fast-advprop', label: 'Fast AdvProp' }, { value: 'advprop', label: 'AdvProp (PGD-K)' }, { value: 'vanilla', label: 'Vanilla' },
    ], inputs.method, (v) => set('method')(v as Method), { id: 'method' })),
    field('Split C:A or p_adv', textField(inputs.ratio, set('ratio'), { id: 'ratio', placeholder: '4:1 or 0.2' }), 'Fast AdvProp only: clean:adversarial ratio of a batch, or the attacked fraction'),
    field('Attack steps K', textField(inputs.k, set('k'), { id: 'k' })),
    field('Vanilla epochs', textField(inputs.epochs, set('epochs'), { id: 'epochs' })),
    field('LR milestones', textField(inputs.milestones, set('milestones'), { id: 'milestones', placeholder: '30,60,90' })),
    field('Clean batch size', textField(inputs.batch, set('batch'), { id: 'batch' })),
    field('', checkbox('Same budget as vanilla (divide epochs and milestones by the cost factor)', inputs.sameBudget, set('sameBudget'), { id: 'same-budget' })),
  ));
}

function renderOutputs(): void {
  clear(outEl);
  chart?.destroy();
  chart = undefined;
  let r: ReturnType<typeof compute>;
  try {
    r = compute(inputs);
  } catch (e) {
    outEl.append(h('p', { class: 'error-text', attrs: { role: 'alert', id: 'budget-error' } }, e instanceof Error ? e.message : String(e)));
    return;
  }
  const { cal, batch, divisors, sweep } = r;
  const row = (k: string, v: string, title?: string) => h('tr', null, h('td', { title }, k), h('td', null, v));
  outEl.append(
    h('h2', null, 'Schedule'),
    h('table', { class: 'grid', attrs: { id: 'calibration' } }, h('tbody', null,
      row('split (C:A)', `${cal.split} · p_adv ${cal.pAdv.toFixed(3)}`),
      row('cost factor', `${cal.costFactor.toFixed(4)} × vanilla`, `exact double: ${cal.costFactor}`),
      row('epochs', cal.sameBudget ? `${cal.epochs} (from ${cal.baseEpochs})` : String(cal.epochs)),
      row('milestones', cal.milestones.length ? `${cal.milestones.join(', ')}${cal.sameBudget ? ` (from ${cal.baseMilestones.join(', ')})` : ''}` : '–'),
      row('total cost', `${cal.totalCost.toFixed(2)} × N image-passes`, 'cost factor × epochs, in units of one pass over the training set'),
      row('batch per step', `${batch.clean} clean + ${batch.adv} attacked = ${batch.total}${batch.exact ? '' : ` (not exactly ${cal.split}; batch ${fittingBatchSizes(parseSplit(cal.split), 1, batch.clean).join(' or ')} is)`}`),
      row('gradient divisors (β = 0.5)', `shared ${divisors.shared} · clean BN ${divisors.clean} · aux BN ${divisors.adv}`, 'Synchronised updating speed: each group is divided by the weighted count of samples that reached it'),
    )),
  );
  const canvas = h('canvas') as HTMLCanvasElement;
  outEl.append(h('h2', null, 'Cost per epoch, by pass'), h('div', { class: 'card' }, h('div', { class: 'chart-box', style: { height: '200px', 'max-width': '620px' } }, canvas)));
  const split = parseSplit(cal.split);
  const k = cal.k;
  const bars = [
    { label: 'Vanilla', c: perEpochCost('vanilla', split, k) },
    { label: `AdvProp PGD-${k}`, c: perEpochCost('advprop', split, k) },
    { label: cal.method === 'fast-advprop' ? `Fast AdvProp ${cal.split}` : 'Fast AdvProp 4:1', c: perEpochCost('fast-advprop', cal.method === 'fast-advprop' ? split : { clean: 4, adv: 1 }, k) },
  ];
  const t = theme();
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: bars.map((b) => b.label),
      datasets: [
        { label: 'clean', data: bars.map((b) => b.c.clean), backgroundColor: t.clean },
        { label: 'attack', data: bars.map((b) => b.c.attack), backgroundColor: t.noise },
        { label: 'adversarial', data: bars.map((b) => b.c.adv), backgroundColor: t.adv },
      ],
    },
    options: {
      indexAxis: 'y',
      scales: { x: { stacked: true, title: { display: true, text: '× N image-passes per epoch' } }, y: { stacked: true } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
  outEl.append(
    h('h2', null, 'p_adv sweep (same budget, Fast AdvProp)'),
    h('table', { class: 'grid', attrs: { id: 'sweep' } },
      h('thead', null, h('tr', null, ['p_adv', 'split', 'cost factor', 'epochs', 'milestones'].map((x) => h('th', null, x)))),
      h('tbody', null, sweep.map((s, i) => h('tr', null,
        h('td', null, SWEEP[i].toFixed(2)), h('td', null, s.split), h('td', null, s.costFactor.toFixed(4)),
        h('td', null, String(s.epochs)), h('td', null, s.milestones.join(', ') || '–'))))),
    h('p', { class: 'muted' }, 'The paper\'s Table 4 (105 vanilla epochs, K = 1): 94 / 87 / 79 / 70 epochs. The ratio arithmetic and Python\'s round-half-to-even decide the ties (4:1 → 87, not 88).'),
  );
}

/** The run list: the dropdown is narrow, so short labels, with the full name on hover (#16). */
function runOptions(): { value: string; label: string; title: string }[] {
  const labels = distinctShortLabels(runs.map((r) => r.name));
  return runs.map((r, i) => ({ value: r.runDir, label: labels[i], title: r.name }));
}

function renderRun(): void {
  clear(runEl);
  runEl.append(h('h2', null, 'Planned vs measured (a run)'));
  runEl.append(h('div', { class: 'toolbar' },
    dropdown([{ value: '', label: '(choose a run)' }, ...runOptions()], selected?.runDir ?? '', (v) => vscode.post({ type: 'selectRun', runDir: v }), { id: 'run' }),
    selected ? button('Use this run\'s settings', () => fillFromRun(selected!)) : null,
  ));
  if (!selected) {
    if (!runs.length) runEl.append(h('p', { class: 'muted' }, 'No runs with a config.json yet.'));
    return;
  }
  const s = selected;
  const k = s.config.attack.steps;
  const b = s.batch;
  const steps = s.schedule ? (s.config.maxSteps ? Math.min(s.config.maxSteps, s.schedule.totalSteps) : s.schedule.totalSteps) : undefined;
  const perStep = b ? { clean: b.clean, attack: s.config.method === 'vanilla' ? 0 : b.adv * k, adv: s.config.method === 'vanilla' ? 0 : b.adv } : undefined;
  const planned = perStep && steps !== undefined ? { clean: perStep.clean * steps, attack: perStep.attack * steps, adv: perStep.adv * steps } : undefined;
  let model: { clean: number; attack: number; adv: number } | undefined;
  try {
    const cal = calibrate({ method: s.config.method, split: s.config.split, pAdv: s.config.split ? undefined : s.config.pAdv, k, epochs: s.config.epochs, milestones: s.config.milestones, sameBudget: s.config.sameBudget });
    const n = s.trainImages ?? 0;
    if (n > 0 && !s.config.maxSteps) model = { clean: cal.perEpochCost.clean * cal.epochs * n, attack: cal.perEpochCost.attack * cal.epochs * n, adv: cal.perEpochCost.adv * cal.epochs * n };
  } catch {
    model = undefined;
  }
  const kinds = ['clean', 'attack', 'adv'] as const;
  const sum = (x?: { clean: number; attack: number; adv: number }) => (x ? x.clean + x.attack + x.adv : undefined);
  const ratio = (m: number, p: number | undefined) => (p ? `${((100 * m) / p).toFixed(1)} %` : '–');
  runEl.append(
    h('table', { class: 'grid', attrs: { id: 'planned-measured' } },
      h('thead', null, h('tr', null, ['passes', 'cost model (× N)', 'planned (schedule)', 'measured', 'measured / planned'].map((x) => h('th', null, x)))),
      h('tbody', null,
        kinds.map((kd) => h('tr', null, h('td', null, kd === 'adv' ? 'adversarial' : kd), h('td', null, compactNumber(model?.[kd])),
          h('td', null, compactNumber(planned?.[kd])), h('td', null, compactNumber(s.measured[kd])), h('td', null, ratio(s.measured[kd], planned?.[kd])))),
        h('tr', null, h('td', null, h('strong', null, 'total')), h('td', null, compactNumber(sum(model))), h('td', null, compactNumber(s.plannedPasses ?? sum(planned))),
          h('td', null, compactNumber(s.measured.total)), h('td', null, ratio(s.measured.total, s.plannedPasses ?? sum(planned)))),
      )),
    h('p', { class: 'muted' },
      `${s.finished ? 'Finished' : 'In progress'} after ${s.stepsDone} of ${steps ?? '?'} steps. `
      + 'One pass = forward + backward of one image; an attack step counts 1 per image. The cost model counts N training images per epoch; the schedule counts whole steps (a partial last batch is dropped).'),
  );
}

function fillFromRun(s: BudgetRunInfo): void {
  const c = s.config;
  inputs = {
    method: c.method,
    ratio: c.split ?? (c.pAdv !== undefined ? String(c.pAdv) : '4:1'),
    k: String(c.attack.steps),
    epochs: String(c.epochs),
    milestones: c.milestones.join(','),
    batch: String(c.batchSize),
    sameBudget: c.sameBudget,
  };
  persist();
  renderForm();
  renderOutputs();
}

vscode.onMessage((raw) => {
  const msg = raw as BudgetToWebview;
  switch (msg?.type) {
    case 'snapshot':
      runs = msg.runs;
      selected = msg.selected;
      // Opened for a run without saved inputs: start from that run's settings.
      if (selected && !saved?.inputs) fillFromRun(selected);
      persist();
      renderRun();
      return;
    case 'run':
      selected = msg.selected;
      persist();
      renderRun();
      return;
    default:
      return;
  }
});

applyDefaults();
onThemeChange(() => renderOutputs());
renderForm();
renderOutputs();
renderRun();
vscode.post({ type: 'ready' });
