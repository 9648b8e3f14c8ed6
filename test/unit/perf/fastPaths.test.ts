// Numeric checks of the wasm speed-ups (no timings): each fast path equals the plain formulation.
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/engine/backend/select';
import { conv2dInputGradAsConv, setSubPixelInputGrad } from '../../../src/engine/backend/convGrad';
import { cropPadding } from '../../../src/engine/backend/padGrad';
import { batchNormTrain } from '../../../src/engine/model/forward';

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

function rand(shape: number[], seed: number): Float32Array {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

describe('perf: fast paths equal the plain formulations', function () {
  this.timeout(60000);
  after(async () => {
    setSubPixelInputGrad(true);
    await selectBackend('cpu');
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`fused ghost BN (+ReLU) op: values and gradients equal the tf.moments composition (${backend})`, async () => {
      await selectBackend(backend);
      const [N, H, W, C, G] = [8, 5, 4, 3, 4];
      const h = tf.tensor4d(rand([N, H, W, C], 1).map((v) => 2 * v + 0.5), [N, H, W, C]);
      const gamma = tf.tensor1d([0.7, 1.3, -0.4]);
      const beta = tf.tensor1d([0.1, -0.2, 0.3]);
      const wt = tf.tensor4d(rand([N, H, W, C], 2), [N, H, W, C]);
      for (const relu of [false, true]) {
        const fused = (hh: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Scalar => {
          const o = batchNormTrain(hh as tf.Tensor4D, gg, bb, G, relu);
          o.mean.dispose();
          o.variance.dispose();
          return tf.sum(tf.mul(o.y, wt));
        };
        const plain = (hh: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Scalar => {
          const h5 = tf.reshape(hh, [G, N / G, H, W, C]);
          const { mean, variance } = tf.moments(h5, [1, 2, 3], true);
          let y = tf.add(tf.mul(tf.sub(h5, mean), tf.mul(gg, tf.rsqrt(tf.add(variance, 1e-5)))), bb);
          if (relu) y = tf.relu(y);
          return tf.sum(tf.mul(tf.reshape(y, [N, H, W, C]), wt));
        };
        const a = tf.valueAndGrads(fused)([h, gamma, beta]);
        const b = tf.valueAndGrads(plain)([h, gamma, beta]);
        assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-4 * Math.abs(b.value.dataSync()[0]) + 1e-5);
        for (let i = 0; i < 3; i++) assert.ok(maxRel(a.grads[i].dataSync(), b.grads[i].dataSync()) < 1e-5, `relu ${relu} grad ${i}`);
        tf.dispose([a.value, b.value, ...a.grads, ...b.grads]);
      }
      // Statistics: per-group mean and biased variance.
      const o = batchNormTrain(h, gamma, beta, G, false);
      const { mean, variance } = tf.moments(tf.reshape(h, [G, N / G, H, W, C]), [1, 2, 3]);
      assert.ok(maxRel(o.mean.dataSync(), mean.dataSync()) < 1e-5);
      assert.ok(maxRel(o.variance.dataSync(), variance.dataSync()) < 1e-5);
      tf.dispose([o.y, o.mean, o.variance, mean, variance, h, gamma, beta, wt]);
    });
  }

  it('stride-2 input gradient by output phases equals the zero-upsample path and the cpu kernel (wasm)', async () => {
    const cases: [number, number, number, number, number][] = [[2, 10, 3, 4, 3], [2, 12, 2, 3, 2], [1, 14, 3, 2, 7], [2, 8, 4, 4, 4]];
    for (const [n, h, ci, co, k] of cases) {
      const oh = Math.floor((h - k) / 2) + 1;
      const xShape = [n, h, h, ci];
      const wv = rand([k, k, ci, co], 3);
      const dv = rand([n, oh, oh, co], 4);
      await selectBackend('cpu');
      const ref = tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor4d(dv, [n, oh, oh, co]), filter: tf.tensor4d(wv, [k, k, ci, co]) }, { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
      await selectBackend('wasm');
      for (const on of [true, false]) {
        setSubPixelInputGrad(on);
        const got = tf.tidy(() => conv2dInputGradAsConv(tf.tensor4d(dv, [n, oh, oh, co]), tf.tensor4d(wv, [k, k, ci, co]), xShape, 2, 'valid').dataSync());
        assert.ok(maxRel(got, ref) < 1e-5, `${[n, h, ci, co, k]} subPixel ${on}: ${maxRel(got, ref)}`);
      }
    }
  });

  it('pad gradient crop (depthwise one-hot on wasm) equals slicing the padding off, without leaking', async () => {
    await selectBackend('wasm');
    const v = rand([2, 9, 8, 3], 5);
    const before = tf.memory().numTensors;
    for (const p of [[[0, 0], [1, 1], [1, 1], [0, 0]], [[0, 0], [2, 0], [0, 3], [0, 0]], [[1, 0], [1, 1], [0, 0], [0, 0]]] as [number, number][][]) {
      const dy = tf.tensor4d(v, [2, 9, 8, 3]);
      const got = tf.tidy(() => cropPadding(dy, p).dataSync());
      const want = tf.tidy(() => tf.slice(dy, p.map((q) => q[0]), dy.shape.map((d, i) => d - p[i][0] - p[i][1])).dataSync());
      assert.deepEqual(Array.from(got), Array.from(want));
      dy.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});
