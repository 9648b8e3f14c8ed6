import * as assert from 'node:assert/strict';
import { aggregateBy, formatMeanStd, meanStd } from '../../../src/engine/util/meanStd';

describe('meanStd: mean ± sample standard deviation', () => {
  it('matches hand-computed values', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32/7.
    const s = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(s.n, 8);
    assert.equal(s.mean, 5);
    assert.ok(Math.abs(s.std! - Math.sqrt(32 / 7)) < 1e-12, String(s.std));
    // Three seeds' accuracies: mean 0.87, deviations -0.01, 0, +0.01 → std sqrt(0.0002 / 2) = 0.01.
    const a = meanStd([0.86, 0.87, 0.88]);
    assert.ok(Math.abs(a.mean! - 0.87) < 1e-12);
    assert.ok(Math.abs(a.std! - 0.01) < 1e-12, String(a.std));
  });

  it('divides by n − 1, not n (two values 1 and 3: std √2, not 1)', () => {
    const s = meanStd([1, 3]);
    assert.equal(s.mean, 2);
    assert.ok(Math.abs(s.std! - Math.SQRT2) < 1e-12);
  });

  it('gives no std for one value and nothing for none; skips missing values instead of counting them as 0', () => {
    assert.deepEqual(meanStd([0.5]), { n: 1, mean: 0.5, std: null });
    assert.deepEqual(meanStd([]), { n: 0, mean: null, std: null });
    assert.deepEqual(meanStd([null, undefined, Number.NaN]), { n: 0, mean: null, std: null });
    const s = meanStd([1, null, 3, undefined]);
    assert.equal(s.n, 2);
    assert.equal(s.mean, 2);
  });

  it('stays exact for values that agree to many digits', () => {
    const s = meanStd([1e9 + 1, 1e9 + 2, 1e9 + 3]);
    assert.equal(s.mean, 1e9 + 2);
    assert.equal(s.std, 1);
  });

  it('formats as "mean ± std", scaled, with n when values are missing', () => {
    assert.equal(formatMeanStd(meanStd([0.86, 0.87, 0.88]), { scale: 100, digits: 2 }), '87.00 ± 1.00');
    assert.equal(formatMeanStd(meanStd([0.8712]), { scale: 100, digits: 2 }), '87.12');
    assert.equal(formatMeanStd(meanStd([]), {}), '–');
    assert.equal(formatMeanStd(meanStd([1, 3]), { digits: 1, expectedN: 3 }), '2.0 ± 1.4 (n=2)');
    assert.equal(formatMeanStd(meanStd([1, 3]), { digits: 1, expectedN: 2, suffix: '%' }), '2.0 ± 1.4%');
  });

  it('aggregateBy groups rows in first-seen order and summarises each field', () => {
    const rows = [
      { v: 'b', acc: 0.5, mce: 10 },
      { v: 'a', acc: 0.7, mce: null },
      { v: 'b', acc: 0.7, mce: 14 },
      { v: 'a', acc: 0.9, mce: null },
    ];
    const g = aggregateBy(rows, (r) => r.v, { acc: (r) => r.acc, mce: (r) => r.mce });
    assert.deepEqual(g.map((x) => x.key), ['b', 'a']);
    assert.equal(g[0].rows.length, 2);
    assert.ok(Math.abs(g[0].stats.acc.mean! - 0.6) < 1e-12);
    assert.ok(Math.abs(g[0].stats.acc.std! - Math.sqrt(0.02)) < 1e-12);
    assert.equal(g[0].stats.mce.mean, 12);
    assert.ok(Math.abs(g[0].stats.mce.std! - Math.sqrt(8)) < 1e-12);
    assert.deepEqual(g[1].stats.mce, { n: 0, mean: null, std: null });
  });
});
