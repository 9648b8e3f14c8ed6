import * as assert from 'node:assert/strict';
import {
  batchSplit, calibrate, costFactor, fittingBatchSizes, parseSplit, perEpochCost, pythonRound, splitFromPAdv, updateSyncDivisors,
} from '../../../src/engine/budget/costModel';
import { budgetCommand } from '../../../src/engine/budget/command';

describe('budget: pythonRound', () => {
  it('rounds half to even like Python 3', () => {
    assert.equal(pythonRound(87.5), 88);
    assert.equal(pythonRound(86.5), 86);
    assert.equal(pythonRound(2.5), 2);
    assert.equal(pythonRound(3.5), 4);
    assert.equal(pythonRound(0.5), 0);
    assert.equal(pythonRound(1.5), 2);
    assert.equal(pythonRound(-2.5), -2);
    assert.equal(pythonRound(-3.5), -4);
    assert.equal(pythonRound(2.4999999), 2);
    assert.equal(pythonRound(2.5000001), 3);
  });
  it('sees the double just below a tie', () => {
    assert.equal(pythonRound(87.49999999999999), 87);
    assert.equal(105 / 1.2000000000000002, 87.49999999999999);
    assert.equal(pythonRound(105 / 1.2000000000000002), 87);
    assert.equal(pythonRound(105 / 1.2), 88);
    // Math.round would give 88 for 87.5 as well but differs on 86.5 → 87.
    assert.notEqual(pythonRound(86.5), Math.round(86.5));
  });
});

describe('budget: splits', () => {
  it('parses C:A', () => {
    assert.deepEqual(parseSplit('4:1'), { clean: 4, adv: 1 });
    assert.deepEqual(parseSplit(' 8 : 1 '), { clean: 8, adv: 1 });
    assert.deepEqual(parseSplit('1:0'), { clean: 1, adv: 0 });
  });
  it('rejects bad splits with a message naming the field and an example', () => {
    for (const bad of ['4', '4:1:1', 'a:b', '-1:1', '0:1', '4.5:1', '', '4:-1']) {
      assert.throws(() => parseSplit(bad), (e: Error) => /^split: /.test(e.message) && /4:1/.test(e.message), bad);
    }
  });
  it('maps p_adv to the smallest ratio within 0.005', () => {
    const cases: [number, string][] = [[0.11, '8:1'], [0.2, '4:1'], [0.33, '2:1'], [0.5, '1:1'], [0, '1:0'], [0.25, '3:1'], [0.75, '1:3'], [0.1, '9:1']];
    for (const [p, want] of cases) {
      const s = splitFromPAdv(p);
      assert.equal(`${s.clean}:${s.adv}`, want, `p=${p}`);
    }
  });
  it('rejects p_adv outside [0, 1)', () => {
    for (const bad of [1, 1.5, -0.1, NaN, Infinity]) {
      assert.throws(() => splitFromPAdv(bad), /p_adv: expected a number with 0 ≤ p < 1/, String(bad));
    }
  });
});

describe('budget: cost factors', () => {
  it('vanilla 1, AdvProp K+2, Fast AdvProp in reference arithmetic', () => {
    assert.equal(costFactor('vanilla', { clean: 1, adv: 0 }, 1), 1);
    assert.equal(costFactor('advprop', { clean: 1, adv: 1 }, 1), 3);
    assert.equal(costFactor('advprop', { clean: 1, adv: 1 }, 5), 7);
    assert.equal(costFactor('fast-advprop', { clean: 4, adv: 1 }, 1), 1.2000000000000002);
    assert.equal(costFactor('fast-advprop', { clean: 1, adv: 1 }, 1), 1.5);
    assert.equal(costFactor('fast-advprop', { clean: 1, adv: 0 }, 1), 1);
    // General K: 1 + p·K (Eq. 4) up to float noise.
    assert.ok(Math.abs(costFactor('fast-advprop', { clean: 4, adv: 1 }, 3) - 1.6) < 1e-12);
  });
  it('splits the per-epoch cost into clean / attack / adv passes', () => {
    assert.deepEqual(perEpochCost('fast-advprop', { clean: 4, adv: 1 }, 1), { clean: 0.8, attack: 0.2, adv: 0.2 });
    assert.deepEqual(perEpochCost('advprop', { clean: 1, adv: 1 }, 5), { clean: 1, attack: 5, adv: 1 });
    assert.deepEqual(perEpochCost('vanilla', { clean: 1, adv: 0 }, 1), { clean: 1, attack: 0, adv: 0 });
  });
  it('rejects K < 1 and unknown methods', () => {
    assert.throws(() => costFactor('fast-advprop', { clean: 4, adv: 1 }, 0), /k: the number of attack steps must be a whole number ≥ 1/);
    assert.throws(() => calibrate({ method: 'pgd' as never, epochs: 10 }), /method: unknown method/);
  });
});

describe('budget: calibrate', () => {
  it('reproduces paper Table 4 (105 epochs → 94/87/79/70)', () => {
    const want: [string, number][] = [['8:1', 94], ['4:1', 87], ['2:1', 79], ['1:1', 70]];
    for (const [split, epochs] of want) {
      assert.equal(calibrate({ method: 'fast-advprop', split, k: 1, epochs: 105, sameBudget: true }).epochs, epochs, split);
    }
    const fromP = [0.11, 0.2, 0.33, 0.5].map((p) => calibrate({ method: 'fast-advprop', pAdv: p, epochs: 105, sameBudget: true }).epochs);
    assert.deepEqual(fromP, [94, 87, 79, 70]);
  });
  it('divides milestones too, and leaves them alone without sameBudget', () => {
    const c = calibrate({ method: 'fast-advprop', split: '4:1', k: 1, epochs: 105, milestones: [30, 60, 90], sameBudget: true });
    assert.equal(c.costFactor, 1.2000000000000002);
    assert.deepEqual(c.milestones, [25, 50, 75]);
    assert.deepEqual(c.perEpochCost, { clean: 0.8, attack: 0.2, adv: 0.2 });
    assert.equal(c.split, '4:1');
    assert.equal(c.pAdv, 0.2);
    const full = calibrate({ method: 'fast-advprop', split: '4:1', epochs: 105, milestones: [30, 60, 90] });
    assert.equal(full.epochs, 105);
    assert.deepEqual(full.milestones, [30, 60, 90]);
    assert.equal(full.costFactor, 1.2000000000000002);
  });
  it('same-budget PGD-5 AdvProp gets 15 of 105 epochs (paper)', () => {
    const c = calibrate({ method: 'advprop', k: 5, epochs: 105, sameBudget: true });
    assert.equal(c.costFactor, 7);
    assert.equal(c.epochs, 15);
  });
  it('validates epochs and milestones', () => {
    assert.throws(() => calibrate({ method: 'vanilla', epochs: 0 }), /epochs: /);
    assert.throws(() => calibrate({ method: 'vanilla', epochs: 10, milestones: [5, 3] }), /milestones: must be in increasing order/);
    assert.throws(() => calibrate({ method: 'fast-advprop', split: '0:1', epochs: 10 }), /split: /);
  });
});

describe('budget: batch split and update-speed sync', () => {
  it('sizes the batch like the reference, int(train_batch * (sum(ratios) / ratios[0]))', () => {
    assert.deepEqual(batchSplit(256, { clean: 4, adv: 1 }), { clean: 256, adv: 64, total: 320, exact: true });
    assert.deepEqual(batchSplit(256, { clean: 3, adv: 1 }), { clean: 256, adv: 85, total: 341, exact: false });
    assert.deepEqual(batchSplit(256, { clean: 1, adv: 1 }), { clean: 256, adv: 256, total: 512, exact: true });
    assert.deepEqual(batchSplit(256, { clean: 1, adv: 0 }), { clean: 256, adv: 0, total: 256, exact: true });
    // Table 4's third row: via p_adv = 1/3, int(256 / (1 − 1/3)) = 383 would attack 127.
    assert.deepEqual(batchSplit(256, { clean: 2, adv: 1 }), { clean: 256, adv: 128, total: 384, exact: true });
    assert.deepEqual(batchSplit(64, { clean: 2, adv: 1 }), { clean: 64, adv: 32, total: 96, exact: true });
    assert.deepEqual(batchSplit(256, { clean: 8, adv: 1 }), { clean: 256, adv: 32, total: 288, exact: true });
    // (2+5)/2 = 3.5 exactly; 7·3.5 = 24.5 → 24 (the reference truncates).
    assert.deepEqual(batchSplit(7, { clean: 2, adv: 5 }), { clean: 7, adv: 17, total: 24, exact: false });
  });
  it('suggests the nearest clean batch sizes that fit a split and the BN groups exactly', () => {
    for (const b of fittingBatchSizes({ clean: 3, adv: 1 }, 2, 256)) {
      const s = batchSplit(b, { clean: 3, adv: 1 });
      assert.ok(s.exact && b % 2 === 0 && s.adv % 2 === 0, String(b));
    }
    assert.deepEqual(fittingBatchSizes({ clean: 3, adv: 1 }, 2, 256), [252, 258]);
    assert.deepEqual(fittingBatchSizes({ clean: 4, adv: 1 }, 2, 64), [56, 64]); // multiples of 8
  });
  it('half-to-even on milestone ties as the reference: at 2:1 milestone 30 → 22.5 → 22', () => {
    const c = calibrate({ method: 'fast-advprop', split: '2:1', k: 1, epochs: 105, milestones: [30, 60, 90], sameBudget: true });
    assert.deepEqual(c.milestones, [22, 45, 68]); // 22.5 → 22, 45, 67.5 → 68
    assert.equal(c.epochs, 79); // 78.75
  });
  it('4:1 of 256 with β = 0.5, K = 1 divides by 320 / 256 / 64', () => {
    assert.deepEqual(updateSyncDivisors({ clean: 256, adv: 64, k: 1, beta: 0.5 }), { shared: 320, clean: 256, adv: 64 });
    // K attack passes each count β per attacked sample.
    assert.deepEqual(updateSyncDivisors({ clean: 256, adv: 64, k: 3, beta: 0.5 }), { shared: 384, clean: 256, adv: 128 });
  });
});

describe('budget: CLI command', () => {
  async function run(args: string[]): Promise<{ code: number; text: string }> {
    const lines: string[] = [];
    const code = await budgetCommand(args, (s) => lines.push(s));
    return { code, text: lines.join('\n') };
  }
  it('prints JSON with the documented keys', async () => {
    const { code, text } = await run(['--method', 'fast-advprop', '--split', '4:1', '--k', '1', '--epochs', '105', '--milestones', '30,60,90', '--json']);
    assert.equal(code, 0);
    const j = JSON.parse(text);
    for (const key of ['method', 'split', 'pAdv', 'k', 'costFactor', 'epochs', 'milestones', 'perEpochCost']) assert.ok(key in j, key);
    assert.equal(j.method, 'fast-advprop');
    assert.equal(j.split, '4:1');
    assert.equal(j.costFactor, 1.2000000000000002);
    assert.equal(j.epochs, 87);
    assert.deepEqual(j.milestones, [25, 50, 75]);
    assert.deepEqual(j.perEpochCost, { clean: 0.8, attack: 0.2, adv: 0.2 });
  });
  it('accepts --p-adv and --flag=value', async () => {
    const { code, text } = await run(['--method=fast-advprop', '--p-adv=0.11', '--epochs=105', '--json']);
    assert.equal(code, 0);
    assert.equal(JSON.parse(text).split, '8:1');
    assert.equal(JSON.parse(text).epochs, 94);
  });
  it('prints a human table', async () => {
    const { code, text } = await run(['--method', 'advprop', '--k', '5', '--epochs', '105']);
    assert.equal(code, 0);
    assert.match(text, /cost factor\s+7/);
    assert.match(text, /105 → 15/);
  });
  it('returns 2 with one line naming the flag for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['--method', 'fast-advprop', '--split', '4-1', '--epochs', '105'], /^--split: .*4:1/],
      [['--method', 'fast-advprop', '--p-adv', '1.2', '--epochs', '105'], /^--p-adv: .*0 ≤ p < 1/],
      [['--method', 'fast-advprop', '--split', '4:1', '--p-adv', '0.2', '--epochs', '105'], /^--p-adv: give either/],
      [['--method', 'sgd', '--epochs', '105'], /^--method: unknown method/],
      [['--method', 'vanilla', '--epochs', 'ten'], /^--epochs: /],
      [['--method', 'vanilla', '--epochs', '10', '--k', '0'], /^--k: /],
      [['--method', 'vanilla', '--epochs', '10', '--milestones', '5,x'], /^--milestones: /],
      [['--method', 'vanilla', '--epochs', '10', '--milestones', '6,3'], /^--milestones: .*increasing/],
      [['--method', 'vanilla', '--epochs', '10', '--bogus'], /^--bogus: unknown flag/],
      [['--method', 'vanilla'], /^--epochs: required/],
      [['--epochs', '10'], /^--method: required/],
      [['--method'], /^--method: missing value/],
    ];
    for (const [args, re] of cases) {
      const { code, text } = await run(args);
      assert.equal(code, 2, args.join(' '));
      assert.equal(text.split('\n').length, 1, args.join(' '));
      assert.match(text, re, args.join(' '));
    }
  });
});
