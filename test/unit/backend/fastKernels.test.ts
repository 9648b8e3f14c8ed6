// Our wasm SIMD kernels (src/engine/backend/kernels/kernels.c) against the cpu backend's stock
// kernels and tf-op formulations, and their native build (the N-API addon scripts/build-native.mjs
// builds into dist/native/, where it builds) against the relaxed wasm build, bit for bit. Values
// travel between backends only as plain arrays.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/engine/backend/select';
import { fastKernelCalls, fastKernelsActive, fastKernelsStatus, kernelBuild, nativeKernelsStatus, relaxedSimdSupported, setFastKernels, setNativeKernels, setSimdVariant, simdVariant, type KernelBuild } from '../../../src/engine/backend/fastKernels';
import { nativeKernels } from '../../../src/engine/backend/nativeKernels';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_SOURCE_SHA256 } from '../../../src/engine/backend/kernels/kernelsWasm';
import { createReplica } from '../../../src/engine/exec/replica';
import type { ModelSpec, PassRequest } from '../../../src/engine/exec/types';
import { batchNormTrain } from '../../../src/engine/model/forward';
import { initParams } from '../../../src/engine/model/init';
import { convData, convLabel, convStock, convViaGrads, rand, relErr, type ConvCase, type ConvData, type ConvOut } from './helpers';

const used = (name: string, before: Readonly<Record<string, number>>): number => (fastKernelCalls()[name] ?? 0) - (before[name] ?? 0);

const convCases: ConvCase[] = [];
for (const k of [1, 3]) for (const s of [1, 2]) for (const pad of ['same', 'valid'] as ('same' | 'valid')[]) for (const h of [7, 8]) {
  convCases.push({ n: h === 7 ? 3 : 2, h, w: h === 7 ? 9 : 8, ci: h === 7 ? 5 : 8, co: h === 7 ? 8 : 16, k, s, pad });
}
convCases.push({ n: 2, h: 15, w: 16, ci: 3, co: 8, k: 7, s: 2, pad: 'same' }); // ImageNet stem
convCases.push({ n: 3, h: 10, w: 10, ci: 3, co: 16, k: 3, s: 1, pad: 'same' }); // CIFAR stem (Ci % 4 tail)
convCases.push({ n: 2, h: 9, w: 11, ci: 8, co: 24, k: 3, s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }); // symmetric pad of strided convs
convCases.push({ n: 1, h: 5, w: 6, ci: 4, co: 8, k: 2, s: 1, pad: [[0, 0], [1, 0], [0, 2], [0, 0]] }); // sub-pixel style, asymmetric
convCases.push({ n: 2, h: 6, w: 6, ci: 8, co: 8, k: 3, s: 1, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] }); // "full" conv (input gradient)

type Shape4 = [number, number, number, number];

interface BnCase { n: number; h: number; w: number; c: number; groups: number; relu: boolean }
const bnCases: BnCase[] = [
  { n: 4, h: 5, w: 3, c: 8, groups: 1, relu: false },
  { n: 4, h: 5, w: 3, c: 8, groups: 2, relu: true },
  { n: 6, h: 4, w: 4, c: 12, groups: 3, relu: true },
  { n: 2, h: 16, w: 17, c: 4, groups: 2, relu: false }, // M = 272: more than one summation block
  { n: 8, h: 8, w: 8, c: 16, groups: 1, relu: true },
];
const bnLabel = (b: BnCase): string => `${b.n}×${b.h}×${b.w}×${b.c} G${b.groups} relu ${b.relu}`;

interface BnOut { y: Float32Array; mean: Float32Array; variance: Float32Array; dh: Float32Array; dgamma: Float32Array; dbeta: Float32Array }

function bnRun(b: BnCase, seed: number): BnOut {
  return tf.tidy(() => {
    const shape: Shape4 = [b.n, b.h, b.w, b.c];
    const size = b.n * b.h * b.w * b.c;
    // An offset of 3 with unit-scale noise: a one-pass variance would lose digits here.
    const h = tf.tensor4d(rand(size, seed, 3), shape);
    const gamma = tf.tensor1d(Array.from(rand(b.c, seed + 1, 1)));
    const beta = tf.tensor1d(Array.from(rand(b.c, seed + 2)));
    const w = tf.tensor4d(rand(size, seed + 3), shape);
    const fwd = batchNormTrain(h, gamma, beta, b.groups, b.relu);
    const out = { y: fwd.y.dataSync() as Float32Array, mean: fwd.mean.dataSync() as Float32Array, variance: fwd.variance.dataSync() as Float32Array };
    fwd.mean.dispose();
    fwd.variance.dispose();
    const [dh, dgamma, dbeta] = tf.grads((a: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => {
      const r = batchNormTrain(a as tf.Tensor4D, g, be, b.groups, b.relu);
      r.mean.dispose();
      r.variance.dispose();
      return tf.sum(tf.mul(r.y, w));
    })([h, gamma, beta]);
    return { ...out, dh: dh.dataSync() as Float32Array, dgamma: dgamma.dataSync() as Float32Array, dbeta: dbeta.dataSync() as Float32Array };
  });
}

// Every build of kernels.c: wasm relaxed SIMD (fused multiply-add) where this Node runs it, wasm
// exact, and native (AVX2/FMA addon) where scripts/build-native.mjs built it and this CPU runs it.
const native = nativeKernels() !== null;

interface PassOutcome { loss: number; grads: Float32Array; stats: Float32Array }

/** One ResNet-8 (width 8, 12 px) training pass on the active backend, with whichever kernels are set. */
function resnetPass(): PassOutcome {
  const spec: ModelSpec = { arch: 'resnet8', width: 8, inputHeight: 12, inputWidth: 12, inputChannels: 3, numClasses: 10 };
  const st = initParams(spec, 3);
  const n = 8;
  const req: PassRequest = {
    images: rand(n * 12 * 12 * 3, 11), count: n, labels: Int32Array.from({ length: n }, (_, i) => i % 10),
    bn: 'main', training: true, groupSize: 4, lossWeight: 1 / n, paramGrads: true,
  };
  const r = createReplica(spec);
  try {
    r.setState(st.params, st.running);
    const res = r.runPass(req);
    return { loss: res.lossSum, grads: res.grads!, stats: res.bnStats[0].values };
  } finally {
    r.dispose();
  }
}
const variants: KernelBuild[] = native ? ['relaxed', 'exact', 'native'] : ['relaxed', 'exact'];
if (!native) console.log(`    (native kernels not tested: ${nativeKernelsStatus()})`);
function withVariant<T>(v: KernelBuild, f: () => T): T {
  setSimdVariant(v === 'exact' ? 'exact' : 'relaxed');
  setNativeKernels(v === 'native');
  try {
    return f();
  } finally {
    setSimdVariant('relaxed');
    setNativeKernels(true);
  }
}

describe('backend: fast wasm kernels (conv, conv filter and input gradients, ghost BN)', function () {
  this.timeout(120_000);
  const convRefs = new Map<ConvCase, ConvOut>();
  const convInputs = new Map<ConvCase, ConvData>();
  const bnRefs = new Map<BnCase, BnOut>();

  before(async () => {
    await selectBackend('cpu');
    convCases.forEach((c, i) => {
      const d = convData(c, 300 + i);
      convInputs.set(c, d);
      convRefs.set(c, convStock(c, d));
    });
    bnCases.forEach((b, i) => bnRefs.set(b, bnRun(b, 700 + i)));
  });
  after(() => setFastKernels(true));

  it('kernels.wasm was built from the kernels.c in the tree (run scripts/build-kernels.mjs after editing it)', () => {
    const src = readFileSync(join(__dirname, '../../../../src/engine/backend/kernels/kernels.c'));
    assert.equal(createHash('sha256').update(src).digest('hex'), KERNELS_SOURCE_SHA256);
  });

  it('kernelsWasm.ts is byte for byte what kernels.c compiles to (where clang and wasm-ld are installed)', function () {
    const r = spawnSync(process.execPath, [join(__dirname, '../../../../scripts/build-kernels.mjs'), '--check'], { encoding: 'utf8' });
    if (r.status === 3) this.skip(); // no clang on this machine: the sha256 test above still guards the source
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('are active on wasm only, and the backend record says whether they ran', async () => {
    assert.doesNotMatch((await selectBackend('cpu')).reason, /wasm SIMD kernels/);
    assert.equal(fastKernelsActive(), false);
    assert.match((await selectBackend('wasm')).reason, native ? /our native AVX2\/FMA kernels for conv, conv filter and input gradients and batch norm/ : /our wasm SIMD kernels for conv, conv filter and input gradients and batch norm/);
    assert.match(withVariant('relaxed', fastKernelsStatus), native ? /our wasm SIMD kernels .*relaxed SIMD.*native kernels not used: switched off/ : /our wasm SIMD kernels .*relaxed SIMD.*native kernels not used: /);
    assert.equal(fastKernelsActive(), true);
    setFastKernels(false);
    try {
      assert.match((await selectBackend('wasm')).reason, /our wasm kernels switched off/);
    } finally {
      setFastKernels(true);
    }
  });

  it('the relaxed-SIMD build runs wherever this Node validates it (Node 20 after its flag is set), else the exact one', () => {
    const relaxedBytes = Buffer.from(KERNELS_RELAXED_WASM_BASE64, 'base64');
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly;
    assert.equal(relaxedSimdSupported(), wasm.validate(relaxedBytes));
    // Node 20's V8 (11.3) has relaxed SIMD behind a flag that the probe sets; every later V8 ships it.
    assert.equal(relaxedSimdSupported(), true, `Node ${process.version} should run relaxed SIMD`);
    assert.equal(simdVariant(), 'relaxed');
    assert.equal(withVariant('exact', simdVariant), 'exact');
    assert.equal(withVariant('exact', kernelBuild), 'exact');
    assert.equal(withVariant('relaxed', kernelBuild), 'relaxed');
  });

  for (const v of variants) {
    it(`${v}: conv forward, input and filter gradients match the cpu stock kernels within 1e-4 relative`, async () => {
      await selectBackend('wasm');
      withVariant(v, () => {
        assert.equal(kernelBuild(), v);
        assert.match(tf.getBackend(), /wasm/);
        for (const c of convCases) {
          const before = fastKernelCalls();
          const got = convViaGrads(c, convInputs.get(c)!);
          assert.ok(used('conv2d', before) >= 2, `${convLabel(c)}: forward did not run on our kernel`);
          assert.ok(used('conv2d_filter_grad', before) >= 1, `${convLabel(c)}: filter gradient did not run on our kernel`);
          assert.equal(used('conv2d_input_grad', before) >= 1, c.ci % 8 === 0, `${convLabel(c)}: input gradient on our kernel iff Ci % 8 == 0`);
          const ref = convRefs.get(c)!;
          assert.ok(relErr(got.y, ref.y) < 1e-4, `y ${convLabel(c)}: ${relErr(got.y, ref.y)}`);
          assert.ok(relErr(got.df, ref.df) < 1e-4, `filter ${convLabel(c)}: ${relErr(got.df, ref.df)}`);
          assert.ok(relErr(got.dx, ref.dx) < 1e-4, `input ${convLabel(c)}: ${relErr(got.dx, ref.dx)}`);
        }
      });
    });
  }

  it('the input-gradient kernel takes the ResNets\' strided and padded shapes (8–24 input channels)', async () => {
    const cases: ConvCase[] = [
      { n: 2, h: 8, w: 8, ci: 16, co: 32, k: 3, s: 2, pad: 'same' }, // stage transition
      { n: 2, h: 9, w: 7, ci: 8, co: 8, k: 3, s: 2, pad: 'same' }, // odd sizes
      { n: 1, h: 6, w: 10, ci: 24, co: 16, k: 3, s: 3, pad: 'valid' }, // stride 3
      { n: 2, h: 8, w: 8, ci: 8, co: 8, k: 2, s: 1, pad: [[0, 0], [0, 1], [1, 0], [0, 0]] },
      { n: 1, h: 11, w: 11, ci: 8, co: 16, k: 5, s: 2, pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
      { n: 2, h: 8, w: 8, ci: 16, co: 8, k: 1, s: 2, pad: 'valid' }, // 1×1 projection shortcut
    ];
    await selectBackend('cpu');
    const data = cases.map((c, i) => convData(c, 1300 + i));
    const refs = cases.map((c, i) => convStock(c, data[i]));
    await selectBackend('wasm');
    for (const v of variants) {
      withVariant(v, () => cases.forEach((c, i) => {
        const before = fastKernelCalls();
        const got = convViaGrads(c, data[i]);
        assert.ok(used('conv2d_input_grad', before) >= 1, `${v} ${convLabel(c)}: not on our kernel`);
        assert.ok(relErr(got.dx, refs[i].dx) < 1e-4, `${v} input ${convLabel(c)}: ${relErr(got.dx, refs[i].dx)}`);
      }));
    }
  });

  it('with the fast kernels off, the same conv cases run on the stock paths and agree too', async () => {
    await selectBackend('wasm');
    setFastKernels(false);
    try {
      const before = fastKernelCalls();
      for (const c of convCases.slice(0, 8)) {
        const got = convViaGrads(c, convInputs.get(c)!);
        const ref = convRefs.get(c)!;
        assert.ok(relErr(got.y, ref.y) < 1e-4 && relErr(got.df, ref.df) < 1e-4 && relErr(got.dx, ref.dx) < 1e-4, convLabel(c));
      }
      assert.deepEqual(fastKernelCalls(), before);
    } finally {
      setFastKernels(true);
    }
  });

  for (const v of variants) it(`${v}: ghost BN (+ReLU) forward, statistics and all three gradients match the tf-op formulation on cpu`, async () => {
    await selectBackend('wasm');
    withVariant(v, () => bnCases.forEach((b, i) => {
      const before = fastKernelCalls();
      const got = bnRun(b, 700 + i);
      assert.ok(used('bn_forward', before) >= 2 && used('bn_backward', before) >= 1, `${bnLabel(b)}: not on our kernels`);
      const ref = bnRefs.get(b)!;
      for (const k of ['y', 'mean', 'variance', 'dh', 'dgamma', 'dbeta'] as const) {
        assert.ok(relErr(got[k], ref[k]) < 1e-4, `${k} ${bnLabel(b)}: ${relErr(got[k], ref[k])}`);
      }
    }));
  });

  it('refuse BN groups that do not divide the batch (the kernels would leave rows unwritten)', async () => {
    await selectBackend('wasm');
    tf.tidy(() => {
      const h = tf.tensor4d(rand(4 * 2 * 2 * 4, 5), [4, 2, 2, 4]);
      assert.throws(() => batchNormTrain(h, tf.ones([4]), tf.zeros([4]), 3, false), /3 BN groups do not divide a batch of 4/);
    });
  });

  it('write only their outputs: neighbouring tensors are untouched, also after the memory grows', async () => {
    await selectBackend('wasm');
    const c = convCases.find((k) => k.k === 3 && k.s === 1 && k.pad === 'same')!;
    const d = convInputs.get(c)!;
    const canaries = Array.from({ length: 8 }, (_, i) => tf.tensor1d(rand(4096, 900 + i)));
    const run = (): void => {
      convViaGrads(c, d);
      bnRun(bnCases[2], 702);
    };
    try {
      run();
      const pages = (tf.backend() as unknown as { wasm: { asm: { memory: { buffer: ArrayBuffer } } } }).wasm.asm.memory.buffer.byteLength;
      // Force the backend's memory to grow: the kernels must keep working on the same Memory.
      const big = tf.zeros([64 * 1024 * 1024 / 4]);
      const grown = (tf.backend() as unknown as { wasm: { asm: { memory: { buffer: ArrayBuffer } } } }).wasm.asm.memory.buffer.byteLength;
      assert.ok(grown > pages, 'memory did not grow');
      const got = convViaGrads(c, d);
      const ref = convRefs.get(c)!;
      assert.ok(relErr(got.y, ref.y) < 1e-4 && relErr(got.df, ref.df) < 1e-4 && relErr(got.dx, ref.dx) < 1e-4, 'after growth');
      big.dispose();
      run();
      canaries.forEach((t, i) => assert.deepEqual(t.dataSync(), rand(4096, 900 + i), `canary ${i} changed`));
    } finally {
      for (const t of canaries) t.dispose();
    }
  });

  it('do not leak tensors', async () => {
    await selectBackend('wasm');
    const c = convCases[10];
    convViaGrads(c, convInputs.get(c)!);
    bnRun(bnCases[1], 701);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      convViaGrads(c, convInputs.get(c)!);
      bnRun(bnCases[1], 701);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  for (const v of variants) it(`${v}: a ResNet training pass on wasm gives the same loss and gradients with and without them`, async () => {
    await selectBackend('wasm');
    const pass = (on: boolean): PassOutcome => {
      setFastKernels(on);
      try {
        const before = fastKernelCalls();
        const res = resnetPass();
        assert.equal(used('conv2d', before) > 0, on, `fast conv used: ${on}`);
        return res;
      } finally {
        setFastKernels(true);
      }
    };
    const off = pass(false);
    const on = withVariant(v, () => pass(true));
    assert.ok(Math.abs(on.loss - off.loss) / Math.abs(off.loss) < 1e-5, `loss ${on.loss} vs ${off.loss}`);
    assert.ok(relErr(on.grads, off.grads) < 1e-4, `grads: ${relErr(on.grads, off.grads)}`);
    assert.ok(relErr(on.stats, off.stats) < 1e-5, `BN statistics: ${relErr(on.stats, off.stats)}`);
  });
  describe('native build (AVX2/FMA N-API addon)', () => {
    before(function () {
      if (!native) this.skip(); // not built here (no compiler, not x86-64, or no AVX2/FMA): wasm only
    });

    // Each width in turn (capped with max_lanes): a call runs the widest build whose 2·lanes divide
    // its channels, so the ResNet-like cases below (16–64 channels) reach the 8- and 16-lane builds.
    const wide: ConvCase[] = [
      { n: 2, h: 8, w: 8, ci: 32, co: 32, k: 3, s: 1, pad: 'same' },
      { n: 2, h: 9, w: 9, ci: 16, co: 32, k: 3, s: 2, pad: 'same' },
      { n: 1, h: 5, w: 4, ci: 64, co: 64, k: 3, s: 1, pad: 'same' },
      { n: 2, h: 8, w: 8, ci: 3, co: 32, k: 3, s: 1, pad: 'same' },
      { n: 2, h: 6, w: 6, ci: 32, co: 16, k: 1, s: 2, pad: 'valid' },
    ];
    for (const lanes of [4, 8, 16]) {
      it(`at ${lanes} lanes, computes bit for bit what the relaxed wasm build computes: convs, their gradients, ghost BN`, async function () {
        const addon = nativeKernels()!;
        if (addon.max_lanes(lanes) < lanes) this.skip(); // this CPU has no such vectors (16: AVX-512)
        try {
          await selectBackend('wasm');
          const cases = [...convCases.map((c) => [c, convInputs.get(c)!] as const), ...wide.map((c, i) => [c, convData(c, 1500 + i)] as const)];
          for (const [c, d] of cases) {
            const wasm = withVariant('relaxed', () => convViaGrads(c, d));
            const before = fastKernelCalls();
            const nat = withVariant('native', () => convViaGrads(c, d));
            assert.ok(used('conv2d', before) >= 2, `${convLabel(c)}: not on the native kernels`);
            for (const k of ['y', 'df', 'dx'] as const) assert.deepEqual(nat[k], wasm[k], `${k} ${convLabel(c)}`);
          }
          [...bnCases, { n: 4, h: 4, w: 4, c: 64, groups: 2, relu: true }, { n: 2, h: 3, w: 5, c: 32, groups: 1, relu: false }].forEach((b, i) => {
            const wasm = withVariant('relaxed', () => bnRun(b, 700 + i));
            const nat = withVariant('native', () => bnRun(b, 700 + i));
            for (const k of ['y', 'mean', 'variance', 'dh', 'dgamma', 'dbeta'] as const) assert.deepEqual(nat[k], wasm[k], `${k} ${bnLabel(b)}`);
          });
        } finally {
          addon.max_lanes(16);
        }
      });
    }

    it('refuses a tensor outside the memory, a shape its loops do not take, and wrong arguments, before running', () => {
      const addon = nativeKernels()!;
      const mem = new ArrayBuffer(4096);
      // conv2d(x, w, y, zeros, N, H, W, Ci, KH, KW, Co, OH, OW, sh, sw, top, left): y would need 8 KB.
      const conv = (...a: number[]): void => addon.conv2d(mem, ...a);
      assert.throws(() => conv(0, 256, 512, 1024, 1, 8, 8, 1, 1, 1, 32, 8, 8, 1, 1, 0, 0), /conv2d y \(2048 floats at byte 512\) does not lie inside the 4096-byte memory/);
      assert.throws(() => conv(0, 256, 512, 1024, 1, 2, 2, 1, 1, 1, 12, 2, 2, 1, 1, 0, 0), /output channels a multiple of 8/);
      assert.throws(() => conv(-4, 256, 512, 1024, 1, 2, 2, 1, 1, 1, 8, 2, 2, 1, 1, 0, 0), /conv2d x/);
      assert.throws(() => conv(0, 256, 512), /expected 18 arguments, got 4/);
      // 65536⁴ floats: a 64-bit product of the sizes would wrap to 0 and pass.
      assert.throws(() => conv(0, 256, 512, 1024, 65536, 65536, 65536, 65536, 1, 1, 8, 1, 1, 1, 1, 0, 0), /conv2d x \(\d+ floats at byte 0\) does not lie inside/);
      assert.throws(() => addon.conv2d(new Float32Array(4) as unknown as ArrayBuffer, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 8, 1, 1, 1, 1, 0, 0), /the wasm memory's ArrayBuffer/);
      // In range, it runs: a 1×1 conv of one pixel with 8 outputs.
      const f = new Float32Array(mem);
      f.set([2], 0);
      f.set([1, 2, 3, 4, 5, 6, 7, 8], 64);
      conv(0, 256, 512, 1024, 1, 1, 1, 1, 1, 1, 8, 1, 1, 1, 1, 0, 0);
      assert.deepEqual(Array.from(f.subarray(128, 136)), [2, 4, 6, 8, 10, 12, 14, 16]);
    });

    it('an exception thrown by the BN team callback (a team member failed) reaches the caller, and the next call runs', () => {
      const addon = nativeKernels()!;
      const mem = new ArrayBuffer(4096);
      const f = new Float32Array(mem);
      f.set([1, 2, 3, 4, 3, 4, 5, 6], 0); // h: 2 rows × 4 channels
      f.set([1, 1, 1, 1], 16); // gamma
      // bn_forward(h, gamma, beta, y, mean, var, rstd, scratch, G, M, Mtot, C, relu, eps)
      const args = [0, 64, 128, 256, 512, 576, 640, 768, 1, 2, 2, 4, 0, 1e-5];
      assert.throws(() => addon.bn_forward(mem, () => { throw new Error('member 1 failed'); }, ...args), /member 1 failed/);
      let calls = 0;
      addon.bn_forward(mem, () => { calls++; }, ...args);
      assert.equal(calls, 2); // Σh, then Σ(h − mean)²
      assert.deepEqual(Array.from(f.subarray(128, 132)), [2, 3, 4, 5]); // the column means
      addon.bn_forward(mem, undefined, ...args);
      assert.deepEqual(Array.from(f.subarray(128, 132)), [2, 3, 4, 5]);
    });

    it('a ResNet training pass gives the same loss, gradients and BN statistics as on the relaxed wasm build, bit for bit', async () => {
      await selectBackend('wasm');
      const wasm = withVariant('relaxed', resnetPass);
      const nat = withVariant('native', resnetPass);
      assert.equal(nat.loss, wasm.loss);
      assert.deepEqual(nat.grads, wasm.grads);
      assert.deepEqual(nat.stats, wasm.stats);
    });
  });
});
