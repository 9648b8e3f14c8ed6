import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CONFIG, parseConfigText, validateConfig } from '../../../src/shared/config';
import { validateDashboardMessage, validateDashboardState } from '../../../src/shared/protocol/dashboard';
import {
  budgetProgress, currentLeak, dataWaitText, lastStep, describePAdv, isStarting, leakStateLine, epochLabel, formatEta, leakAdvice, leakFixConfig, planMetrics, plannedPasses, scheduleText, seriesFrom, settingChips, stateWord,
} from '../../../src/shared/protocol/dashboardModel';
import type { MetricsRecord, RunConfigRecord, RunStatus } from '../../../src/shared/runFormat';
import { malformed, safeShow } from './fuzz';

function step(stepNo: number, over: Partial<Extract<MetricsRecord, { kind: 'step' }>> = {}): MetricsRecord {
  return {
    v: 1, kind: 'step', t: '', step: stepNo, epoch: 0, lr: 0.1, loss: 1,
    clean: { loss: 1, acc: 0.5, images: 64 }, noise: { loss: 1.1, acc: 0.4, images: 16 }, adv: { loss: 1.2, acc: 0.3, images: 16 },
    imagesPerSecond: 100, passes: { clean: 64 * stepNo, attack: 16 * stepNo, adv: 16 * stepNo }, ...over,
  };
}

const configRecord = (over: Partial<RunConfigRecord> = {}): RunConfigRecord => ({
  schema: 1, runName: 'r', createdAt: '', config: { ...DEFAULT_CONFIG },
  schedule: { epochs: 5, milestones: [3], costFactor: 1.2, stepsPerEpoch: 10, totalSteps: 50 },
  batch: { clean: 64, adv: 16 },
  backend: { name: 'cpu', requested: 'auto', package: 'tfjs', gpu: false, reason: '', attempts: [], workers: 1 },
  dataset: { name: 'x', source: '', train: 1, test: 1, height: 1, width: 1, channels: 1, numClasses: 10, classNames: [] },
  model: { arch: 'resnet8', width: 16, params: { shared: 1, clean: 1, adv: 1 } },
  engine: { version: '', node: '', argv: [] },
  ...over,
});

describe('dashboard protocol', () => {
  const valid = ['ready', 'applyLeakFix', 'stopRun', 'resumeRun', 'openRobustness', 'openBudget', 'addToComparison'].map((type) => ({ type }));

  it('accepts every message type the webview sends', () => {
    for (const m of valid) assert.deepEqual(validateDashboardMessage(m), m);
  });

  it('rejects 1,000+ malformed messages without throwing', () => {
    const msgs = malformed({ valid }, 1200, 7);
    assert.ok(msgs.length >= 1000);
    for (const m of msgs) {
      let r: unknown;
      assert.doesNotThrow(() => { r = validateDashboardMessage(m); });
      if (!(r instanceof Error)) assert.fail(`accepted ${safeShow(m)}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  });

  it('state restores a runDir and rejects anything else', () => {
    assert.deepEqual(validateDashboardState({ runDir: '/r/a' }), { runDir: '/r/a' });
    for (const bad of [undefined, null, 'x', {}, { runDir: 3 }, { runDir: '' }, { runDir: 'x'.repeat(5000) }, JSON.parse('{"runDir":"/a","__proto__":{}}')]) {
      assert.ok(validateDashboardState(bad) instanceof Error, JSON.stringify(bad));
    }
  });
});

describe('dashboard model', () => {
  it('series: accuracy in percent, per stream, epochs counted from 1 as in the header, non-finite values skipped', () => {
    const recs: MetricsRecord[] = [
      step(10),
      step(20, { clean: { loss: NaN, acc: 0.6, images: 64 }, noise: undefined }),
      { v: 1, kind: 'epoch', t: '', epoch: 1, step: 20, test: { loss: 1, acc: 0.7 }, train: { loss: 1, acc: 0.65 }, seconds: 3 },
      { v: 1, kind: 'event', t: '', step: 20, event: 'x', message: 'y' },
      { v: 1, kind: 'future-kind' } as unknown as MetricsRecord,
    ];
    const s = seriesFrom(recs);
    assert.deepEqual(s.loss.clean, [{ x: 10, y: 1 }]);
    assert.deepEqual(s.trainAcc.clean, [{ x: 10, y: 50 }, { x: 20, y: 60 }]);
    assert.equal(s.trainAcc.noise.length, 1);
    assert.deepEqual(s.testAcc, [{ x: 2, y: 70 }], 'the record of epoch 1 (0-based) is the second epoch');
    assert.deepEqual(s.epochTrainAcc, [{ x: 2, y: 65 }]);
    assert.equal(s.lr.length, 2);
  });

  it('starting: a live run without status or config is starting; a dead one, a crashed one or one with both is not', () => {
    const status = { state: 'running' } as unknown as RunStatus;
    const config = {} as never;
    assert.equal(isStarting({ alive: true, crashed: false }), true);
    assert.equal(isStarting({ alive: true, crashed: false, status }), true, 'status first, config not yet written');
    assert.equal(isStarting({ alive: true, crashed: false, status, config }), false);
    assert.equal(isStarting({ alive: true, crashed: false, status: { state: 'queued' } as unknown as RunStatus }), false, 'queued says so itself');
    assert.equal(isStarting({ alive: false, crashed: false }), false, 'no process: unreadable, not starting');
    assert.equal(isStarting({ alive: true, crashed: true }), false);
  });

  it('leak state: a clear verdict is said next to the silent alarm, with its numbers; nothing when the alarm shows or for vanilla', () => {
    const clear = { flagged: false, clean: 0.862, adv: 0.811, step: 40, message: 'no leak: adversarial 81.1% vs clean 86.2% train accuracy over the last 5 intervals' };
    const status = { leak: clear } as unknown as RunStatus;
    assert.deepEqual(leakStateLine('fast-advprop', status, undefined, []), { text: 'no leak: adv 81 % < clean 86 %', title: clear.message });
    assert.equal(leakStateLine('fast-advprop', undefined, undefined, [step(10, { leak: { ...clear, adv: 0.87, clean: 0.86 } })])?.text, 'no leak: adv 87 % > clean 86 %, within the alarm\'s margin');
    assert.equal(leakStateLine('fast-advprop', undefined, undefined, [step(10)])?.text, 'label leak: no verdict yet');
    assert.equal(leakStateLine('fast-advprop', { leak: { ...clear, flagged: true, adv: 0.95 } } as unknown as RunStatus, undefined, []), undefined, 'the alarm speaks');
    assert.equal(leakStateLine('vanilla', status, undefined, []), undefined);
  });

  it('leak: the newest verdict wins; status and results flags count', () => {
    const leak = { flagged: true, clean: 0.733, adv: 0.88, step: 10, message: '' };
    assert.equal(currentLeak(undefined, undefined, [step(10, { leak })])?.adv, 0.88);
    // A later record that clears the flag hides the banner.
    assert.equal(currentLeak(undefined, undefined, [step(10, { leak }), step(20, { leak: { ...leak, flagged: false } })]), undefined);
    const status = { leak } as unknown as RunStatus;
    assert.equal(currentLeak(status, undefined, [])?.flagged, true);
    assert.equal(currentLeak(undefined, undefined, [step(10)]), undefined);
  });

  it('crashed wins over the state status.json claims', () => {
    const status = { state: 'running' } as RunStatus;
    assert.equal(stateWord({ status, crashed: true }), 'crashed');
    assert.equal(stateWord({ status, crashed: false }), 'running');
    assert.equal(stateWord({ status: undefined, crashed: false }), 'unknown');
  });

  it('budget: passes spent from the last step; planned = steps × (clean + adv·(K+1))', () => {
    const cfg = configRecord();
    assert.equal(plannedPasses(cfg, undefined), 50 * (64 + 16 * 2));
    const b = budgetProgress(cfg, undefined, [step(10), step(20)]);
    assert.deepEqual(b.spent, { clean: 1280, attack: 320, adv: 320, total: 1920 });
    assert.equal(b.fraction, 1920 / 4800);
    // results.json's planned figure is authoritative once it exists.
    assert.equal(plannedPasses(cfg, { plannedPasses: 999 } as never), 999);
    // maxSteps caps the plan.
    assert.equal(plannedPasses(configRecord({ config: { ...DEFAULT_CONFIG, maxSteps: 5 } }), undefined), 5 * 96);
    const vanilla = configRecord({ config: { ...DEFAULT_CONFIG, method: 'vanilla' }, batch: { clean: 64, adv: 0 } });
    assert.equal(plannedPasses(vanilla, undefined), 50 * 64);
  });

  it('leak fix: shuffle BN on, ≥ 2 groups, batch divisible, no name, still a valid config', () => {
    const leaky = validateConfig({ ...DEFAULT_CONFIG, shuffleBN: false, bnGroups: 1, batchSize: 63, name: 'old' } as unknown as Record<string, unknown>);
    const fixed = leakFixConfig(leaky);
    assert.equal(fixed.shuffleBN, true);
    assert.equal(fixed.bnGroups, 2);
    assert.equal(fixed.batchSize, 64);
    assert.equal(fixed.name, undefined);
    assert.equal(leaky.shuffleBN, false, 'the input config was mutated');
    // Shuffle BN already on: the same config again would fix nothing, so the groups double.
    assert.equal(leakFixConfig({ ...DEFAULT_CONFIG, shuffleBN: true, bnGroups: 4, batchSize: 64 }).bnGroups, 8);
    assert.equal(leakFixConfig({ ...DEFAULT_CONFIG, shuffleBN: false, bnGroups: 4, batchSize: 64 }).bnGroups, 4);
  });

  it('a leak from an attack aimed at label + 1 is fixed by a random target, not by shuffle BN (docs/leak.md)', () => {
    const file = path.join(__dirname, '../../../../examples/label-leak.advprop.json');
    const leaky = parseConfigText(fs.readFileSync(file, 'utf8'), file);
    assert.equal(leaky.attack.target, 'next');
    const advice = leakAdvice(leaky);
    assert.match(advice.text, /label \+ 1.*shuffle BN cannot stop that.*attack\.target "random"/);
    assert.equal(advice.button, 'Open a config with a random target');
    const fixed = leakFixConfig(leaky);
    assert.equal(fixed.attack.target, 'random');
    assert.equal(fixed.shuffleBN, leaky.shuffleBN, 'the BN setup is not what leaks here');
    assert.equal(leaky.attack.target, 'next', 'the input config was mutated');
  });

  it('leak advice depends on whether shuffle BN is already on', () => {
    assert.match(leakAdvice({ shuffleBN: false, bnGroups: 1 }).text, /shuffle BN \(shuffleBN: true\)/);
    const on = leakAdvice({ shuffleBN: true, bnGroups: 2 });
    assert.match(on.text, /already on with 2 BN groups/);
    assert.match(on.button, /bnGroups 4/);
    assert.doesNotMatch(on.text, /shuffleBN: true/);
  });

  it('epochs are shown counting from 1 and never past the schedule', () => {
    assert.equal(epochLabel(0, 5), '1/5');
    assert.equal(epochLabel(4, 5), '5/5');
    assert.equal(epochLabel(5, 5), '5/5');
  });

  it('metrics plan: delta from the sent index, snapshot when the file shrank', () => {
    assert.deepEqual(planMetrics(5, 5), { kind: 'none' });
    assert.deepEqual(planMetrics(5, 8), { kind: 'delta', from: 5 });
    assert.deepEqual(planMetrics(5, 2), { kind: 'snapshot' });
    assert.deepEqual(planMetrics(0, 3), { kind: 'delta', from: 0 });
  });

  it('header helpers', () => {
    assert.equal(describePAdv({ ...DEFAULT_CONFIG, split: '4:1' }), '0.20 (4:1)');
    assert.equal(describePAdv({ ...DEFAULT_CONFIG, method: 'vanilla' }), '0');
    assert.equal(formatEta(65), '1m 5s');
    assert.equal(formatEta(3700), '1h 1m');
    assert.equal(formatEta(undefined), '');
  });
});

describe('dashboard settings that apply (issue #16)', () => {
  it('shows no attack, p_adv or shuffle-BN chips for a vanilla run', () => {
    assert.deepEqual(settingChips({ ...DEFAULT_CONFIG, method: 'vanilla' }).map((c) => c.k), ['method']);
    assert.deepEqual(settingChips(DEFAULT_CONFIG).map((c) => `${c.k} ${c.v}`), ['method fast-advprop', 'p_adv 0.20 (4:1)', 'K 1', 'shuffle BN on, 2 groups']);
  });

  it('explains same-budget epochs and leaves out milestones the run never reaches', () => {
    assert.equal(scheduleText({ costFactor: 1.2, epochs: 5, milestones: [3] }, DEFAULT_CONFIG), 'cost factor 1.200 · 5 epochs (6 vanilla-equivalent, same budget), milestones 3');
    assert.equal(scheduleText({ costFactor: 1, epochs: 1, milestones: [4] }, { epochs: 1, sameBudget: true }), 'cost factor 1.000 · 1 epoch');
    assert.equal(scheduleText({ costFactor: 1.2, epochs: 6, milestones: [4] }, { epochs: 6, sameBudget: false }), 'cost factor 1.200 · 6 epochs, milestones 4');
  });
  it('shows the data wait of a streamed run\'s last step, and nothing for other runs or forged values', () => {
    assert.equal(dataWaitText(lastStep([step(1, { dataWait: 0.5 }), step(2, { dataWait: 0.347 })]) as never), 'data wait 35 %');
    assert.equal(dataWaitText(lastStep([step(1)]) as never), undefined);
    for (const bad of ['0.3', NaN, -0.1, 2, null, {}]) assert.equal(dataWaitText(step(1, { dataWait: bad as never }) as never), undefined, String(bad));
    assert.equal(dataWaitText(undefined), undefined);
  });
});
