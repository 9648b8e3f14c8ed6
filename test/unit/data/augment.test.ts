import * as assert from 'node:assert/strict';
import { cropFlipInto, cutmix, epochOrder, makeBatch, mixup, sampleBeta } from '../../../src/engine/data/augment';
import type { Dataset } from '../../../src/engine/data/types';
import { Rng } from '../../../src/engine/util/rng';

function toyDataset(n: number, h: number, w: number, c: 1 | 3): Dataset {
  const images = new Uint8Array(n * h * w * c);
  // Distinct, non-symmetric pixel values so shifts and flips are detectable (1..255, never 0).
  for (let i = 0; i < images.length; i++) images[i] = 1 + ((i * 31) % 255);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { name: 'toy', images, labels, count: n, height: h, width: w, channels: c, numClasses: 10, classNames: [], source: 'test' };
}

const scale = (v: number): number => v / 127.5 - 1;

/** Which (dy, dx, flip) with pad `pad` reproduces image `j` of a batch, or null. */
function findTransform(ds: Dataset, i: number, out: Float32Array, j: number, pad: number): string | null {
  const px = ds.height * ds.width * ds.channels;
  const buf = new Float32Array(px);
  for (let dy = 0; dy <= 2 * pad; dy++) for (let dx = 0; dx <= 2 * pad; dx++) for (const f of [false, true]) {
    cropFlipInto(ds.images, i * px, ds.height, ds.width, ds.channels, pad, dy, dx, f, buf, 0);
    if (buf.every((v, k) => v === out[j * px + k])) return `${dy},${dx},${f}`;
  }
  return null;
}

describe('data: augmentation and batching', () => {
  const ds = toyDataset(20, 8, 6, 3);
  const px = 8 * 6 * 3;

  it('without augmentation scales x/127.5 − 1 exactly and keeps labels', () => {
    const b = makeBatch(ds, [3, 0, 7], { augment: false });
    assert.equal(b.images.length, 3 * px);
    assert.deepEqual(Array.from(b.labels), [3, 0, 7]);
    for (let k = 0; k < px; k++) assert.equal(b.images[k], Math.fround(scale(ds.images[3 * px + k])));
    assert.equal(scale(0), -1);
    assert.equal(scale(255), 1);
  });

  it('augmented batches stay in [-1, 1], NHWC, and each image is a crop/flip of its source', () => {
    const idx = Array.from({ length: 20 }, (_, i) => i);
    const b = makeBatch(ds, idx, { augment: true, rng: new Rng(1) });
    assert.equal(b.images.length, 20 * px);
    let min = Infinity;
    let max = -Infinity;
    for (const v of b.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(min >= -1 && max <= 1, `${min}..${max}`);
    assert.equal(min, -1); // zero padding shows up as -1 in some shifted image
    const seen = new Set<string>();
    for (let j = 0; j < 20; j++) {
      const t = findTransform(ds, j, b.images, j, 4);
      assert.ok(t, `image ${j} is not a padded crop/flip of its source`);
      seen.add(t);
    }
    assert.ok(seen.size > 5, `only ${seen.size} distinct transforms in 20 draws`);
  });

  it('flip mirrors left–right', () => {
    const out = new Float32Array(px);
    cropFlipInto(ds.images, 0, 8, 6, 3, 0, 0, 0, true, out, 0);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 6; x++) for (let ch = 0; ch < 3; ch++) {
      assert.equal(out[(y * 6 + x) * 3 + ch], Math.fround(scale(ds.images[(y * 6 + (5 - x)) * 3 + ch])));
    }
    // Roughly half the images are flipped when crops are disabled.
    const b = makeBatch(ds, Array.from({ length: 20 }, (_, i) => i), { augment: true, rng: new Rng(3), pad: 0 });
    const flips = Array.from({ length: 20 }, (_, j) => findTransform(ds, j, b.images, j, 0)).filter((t) => t === '0,0,true').length;
    assert.ok(flips >= 4 && flips <= 16, `${flips} of 20 flipped`);
  });

  it('crop shifts the image and fills the border with -1', () => {
    const out = new Float32Array(px);
    // dy = dx = 0 with pad 4: content moves 4 px down and right.
    cropFlipInto(ds.images, 0, 8, 6, 3, 4, 0, 0, false, out, 0);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 6; x++) {
      const v = out[(y * 6 + x) * 3];
      if (y < 4 || x < 4) assert.equal(v, -1);
      else assert.equal(v, Math.fround(scale(ds.images[((y - 4) * 6 + (x - 4)) * 3])));
    }
    // dy = dx = 8: content moves 4 px up and left.
    cropFlipInto(ds.images, 0, 8, 6, 3, 4, 8, 8, false, out, 0);
    assert.equal(out[0], Math.fround(scale(ds.images[(4 * 6 + 4) * 3])));
    assert.equal(out[(7 * 6 + 5) * 3], -1);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const idx = [1, 2, 3, 4, 5, 6, 7, 8];
    const a = makeBatch(ds, idx, { augment: true, rng: new Rng(42) });
    const b = makeBatch(ds, idx, { augment: true, rng: new Rng(42) });
    const c = makeBatch(ds, idx, { augment: true, rng: new Rng(43) });
    assert.deepEqual(a.images, b.images);
    assert.notDeepEqual(a.images, c.images);
    assert.deepEqual(epochOrder(50, new Rng(5)), epochOrder(50, new Rng(5)));
    assert.deepEqual(Array.from(epochOrder(50, new Rng(5))).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects augmentation without an rng and out-of-range indices', () => {
    assert.throws(() => makeBatch(ds, [0], { augment: true }), /needs an rng/);
    assert.throws(() => makeBatch(ds, [20], { augment: false }), /index 20 outside 0\.\.19/);
  });
});

describe('data: mixup and cutmix', () => {
  // Image i is constant v_i, label i: after mixing, image i's mean must equal Σ_c soft[i,c]·v_c.
  const n = 6;
  const h = 8;
  const w = 8;
  const c = 2;
  const vals = [-1, -0.6, -0.2, 0.2, 0.6, 1];
  function constBatch(): Float32Array {
    const b = new Float32Array(n * h * w * c);
    for (let i = 0; i < n; i++) b.fill(vals[i], i * h * w * c, (i + 1) * h * w * c);
    return b;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => i);

  function check(batch: Float32Array, soft: Float32Array): number[] {
    assert.equal(soft.length, n * n);
    const lams: number[] = [];
    for (let i = 0; i < n; i++) {
      let sum = 0;
      let expect = 0;
      for (let k = 0; k < n; k++) {
        sum += soft[i * n + k];
        expect += soft[i * n + k] * vals[k];
        assert.ok(soft[i * n + k] >= 0);
      }
      assert.ok(Math.abs(sum - 1) < 1e-6, `row ${i} sums to ${sum}`);
      let mean = 0;
      for (let k = 0; k < h * w * c; k++) mean += batch[i * h * w * c + k];
      mean /= h * w * c;
      assert.ok(Math.abs(mean - expect) < 1e-5, `image ${i}: mean ${mean}, labels say ${expect}`);
      lams.push(soft[i * n + i]);
    }
    return lams;
  }

  it('mixup blends images and labels with the same λ', () => {
    const rng = new Rng(7);
    let mixed = 0;
    for (let t = 0; t < 10; t++) {
      const batch = constBatch();
      const soft = mixup(batch, labels, n, 0.4, rng);
      check(batch, soft);
      if (!batch.every((v, k) => v === constBatch()[k])) mixed++;
    }
    assert.ok(mixed >= 8, `only ${mixed} of 10 batches changed`);
  });

  it('cutmix pastes a box and weights labels by its area', () => {
    const rng = new Rng(11);
    let pasted = 0;
    for (let t = 0; t < 10; t++) {
      const batch = constBatch();
      const soft = cutmix(batch, labels, n, 1.0, rng, { height: h, width: w, channels: c });
      check(batch, soft);
      // Each image holds at most two values: its own and its partner's.
      for (let i = 0; i < n; i++) assert.ok(new Set(batch.subarray(i * h * w * c, (i + 1) * h * w * c)).size <= 2);
      if (soft.some((v) => v > 0 && v < 1)) pasted++;
    }
    assert.ok(pasted >= 5, `only ${pasted} of 10 batches mixed labels`);
  });

  it('rejects a non-positive alpha', () => {
    assert.throws(() => mixup(constBatch(), labels, n, 0, new Rng(1)), /alpha must be a positive number/);
    assert.throws(() => cutmix(constBatch(), labels, n, -1, new Rng(1), { height: h, width: w, channels: c }), /alpha must be a positive number/);
  });

  it('samples Beta with the right mean', () => {
    const rng = new Rng(99);
    for (const [a, b] of [[2, 5], [0.2, 0.2], [1, 1]]) {
      let s = 0;
      const m = 20000;
      for (let i = 0; i < m; i++) {
        const x = sampleBeta(a, b, rng);
        assert.ok(x >= 0 && x <= 1);
        s += x;
      }
      assert.ok(Math.abs(s / m - a / (a + b)) < 0.01, `Beta(${a},${b}) mean ${s / m}`);
    }
  });
});
