// The replacement gradients against the cpu backend's stock kernels. Values travel between
// backends only as plain arrays (dataSync), never as tensors.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/engine/backend/select';
import { conv2dFilterGradAsConv, conv2dInputGradAsConv, setConvGradOverride } from '../../../src/engine/backend/convGrad';
import { convData, convLabel, convStock, convViaGrads, rand, relErr, type ConvCase, type ConvData } from './helpers';

type Pad = 'same' | 'valid';

const cases: ConvCase[] = [];
for (const k of [1, 3]) for (const s of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) for (const h of [7, 8]) {
  cases.push({ n: h === 7 ? 3 : 2, h, w: h === 7 ? 9 : 8, ci: 3, co: 5, k, s, pad });
}
// ImageNet stem (7×7 stride 2 'same') and a batch of one.
cases.push({ n: 2, h: 15, w: 16, ci: 3, co: 4, k: 7, s: 2, pad: 'same' });
cases.push({ n: 1, h: 6, w: 6, ci: 4, co: 2, k: 3, s: 2, pad: 'same' });

describe('backend: Conv2D gradient as convolutions', () => {
  const refs = new Map<ConvCase, { dx: Float32Array; df: Float32Array }>();
  const inputs = new Map<ConvCase, ConvData>();

  before(async () => {
    await selectBackend('cpu');
    cases.forEach((c, i) => {
      const d = convData(c, 100 + i);
      inputs.set(c, d);
      refs.set(c, convStock(c, d));
    });
  });
  after(() => setConvGradOverride(null));

  it('wasm: both gradients match the cpu stock kernels within 1e-4 relative', async () => {
    await selectBackend('wasm');
    for (const c of cases) {
      const got = convViaGrads(c, inputs.get(c)!);
      const ref = refs.get(c)!;
      assert.ok(relErr(got.df, ref.df) < 1e-4, `filter ${convLabel(c)}: ${relErr(got.df, ref.df)}`);
      assert.ok(relErr(got.dx, ref.dx) < 1e-4, `input ${convLabel(c)}: ${relErr(got.dx, ref.dx)}`);
    }
  });

  it('cpu: conv filter path (default) and forced conv input path match the stock kernels', async () => {
    await selectBackend('cpu');
    for (const force of [null, { filter: 'conv', input: 'conv' }] as const) {
      setConvGradOverride(force);
      for (const c of cases) {
        const got = convViaGrads(c, inputs.get(c)!);
        const ref = refs.get(c)!;
        assert.ok(relErr(got.df, ref.df) < 1e-4, `filter ${convLabel(c)} ${JSON.stringify(force)}: ${relErr(got.df, ref.df)}`);
        assert.ok(relErr(got.dx, ref.dx) < 1e-4, `input ${convLabel(c)} ${JSON.stringify(force)}: ${relErr(got.dx, ref.dx)}`);
      }
    }
    setConvGradOverride(null);
  });

  it('the direct helpers agree with the stock kernels on wasm too (no tf.grads involved)', async () => {
    await selectBackend('wasm');
    for (const c of cases.slice(0, 6)) {
      const d = inputs.get(c)!;
      const got = tf.tidy(() => {
        const x = tf.tensor4d(d.x, d.xs as [number, number, number, number]);
        const f = tf.tensor4d(d.f, d.fs as [number, number, number, number]);
        const dy = tf.tensor4d(d.dy, d.ys as [number, number, number, number]);
        return {
          df: conv2dFilterGradAsConv(x, dy, d.fs, c.s, c.pad).dataSync(),
          dx: conv2dInputGradAsConv(dy, f, d.xs, c.s, c.pad).dataSync(),
        };
      });
      assert.ok(relErr(got.df, refs.get(c)!.df) < 1e-4, convLabel(c));
      assert.ok(relErr(got.dx, refs.get(c)!.dx) < 1e-4, convLabel(c));
    }
  });

  it('does not leak tensors', async () => {
    await selectBackend('wasm');
    const c = cases[10];
    convViaGrads(c, inputs.get(c)!);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) convViaGrads(c, inputs.get(c)!);
    assert.equal(tf.memory().numTensors, before);
  });
});

/** Gradient of sum(w ⊙ f(x)) on a backend, as a plain array. */
function gradOn(f: (x: tf.Tensor) => tf.Tensor, xv: Float32Array, xs: number[], seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(xv, xs);
    const g = tf.grad((a: tf.Tensor) => {
      const y = f(a);
      return tf.sum(tf.mul(y, tf.tensor(rand(y.size, seed), y.shape)));
    })(x);
    return g.dataSync() as Float32Array;
  });
}

describe('backend: other gradients the ResNets train through on wasm', () => {
  const xs = [2, 9, 8, 4];
  const xv = rand(2 * 9 * 8 * 4, 7);
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    // The option-A shortcut: subsample by 2, zero-pad the channels.
    ['strided slice + channel pad', (x) => tf.pad(tf.stridedSlice(x, [0, 0, 0, 0], xs, [1, 2, 2, 1]), [[0, 0], [0, 0], [0, 0], [2, 2]])],
    ['strided slice with offsets and masks', (x) => tf.stridedSlice(x, [0, 1, 1, 1], [0, 8, 7, 4], [1, 3, 2, 1], 0b0001, 0b0001)],
    ['strided slice shrinking an axis', (x) => tf.stridedSlice(x, [0, 2, 0, 0], [2, 3, 8, 4], [1, 1, 1, 1], 0, 0, 0, 0, 0b0010)],
    ['max pool 3×3 s2 same (ImageNet stem)', (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same')],
    // All-negative windows: stock wasm MaxPoolGrad drops these gradients (see poolGrad.ts).
    ['max pool 2×2 valid on negative inputs', (x) => tf.maxPool(tf.sub(x, 1) as tf.Tensor4D, 2, 2, 'valid')],
    ['avg pool 2×2', (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid')],
    ['global mean', (x) => tf.mean(x, [1, 2])],
    ['batch moments', (x) => {
      const m = tf.moments(x, [0, 1, 2]);
      return tf.div(tf.sub(x, m.mean), tf.sqrt(tf.add(m.variance, 1e-5)));
    }],
    ['relu + log-softmax', (x) => tf.logSoftmax(tf.relu(tf.reshape(x, [2, -1])))],
  ];

  it('run on wasm and match the cpu backend within 1e-4 relative', async () => {
    await selectBackend('cpu');
    const ref = ops.map(([, f], i) => gradOn(f, xv, xs, 50 + i));
    await selectBackend('wasm');
    ops.forEach(([name, f], i) => {
      const got = gradOn(f, xv, xs, 50 + i);
      assert.ok(relErr(got, ref[i]) < 1e-4, `${name}: ${relErr(got, ref[i])}`);
    });
  });

  it('strided slice gradient scatters into the sampled positions (independent of any backend kernel)', async () => {
    await selectBackend('cpu');
    const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.stridedSlice(a, [1], [8], [3])))(tf.zeros([9])).dataSync());
    assert.deepEqual(Array.from(g), [0, 1, 0, 0, 1, 0, 0, 1, 0]);
  });
});
