// `fast-advprop bench --kernels`: our wasm conv kernels against the stock paths, shape by shape
// (the ResNet-20 layers at batch 64), in one process: GFLOP/s, median of several runs each.
// "ours" is the wasm build the engine runs (relaxed SIMD where available); "exact" the mul+add build;
// "native" the AVX2/FMA addon (nativeKernels.ts) on the same tensors, where it loads.
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradAsConv, conv2dInputGradAsConv } from '../backend/convGrad';
import { fastConv2dFilterGrad, fastConv2dInputGrad, kernelBuild, setFastKernels, setNativeKernels, setSimdVariant, simdVariant, type SimdVariant } from '../backend/fastKernels';
import { nativeKernels } from '../backend/nativeKernels';
import { selectBackend } from '../backend/select';

export interface KernelBenchRow {
  shape: string;
  /** GFLOP/s: forward conv on our kernel (the build in use, and the exact build) vs on XNNPACK. */
  convOurs: number;
  convExact: number;
  convXnnpack: number;
  /** Filter gradient ours vs as a convolution (convGrad.ts). */
  filterGradOurs: number;
  filterGradAsConv: number;
  /** Input gradient ours vs as a convolution (flipped filter; sub-pixel phases at stride 2); null where Ci % 8 ≠ 0. */
  inputGradOurs: number | null;
  inputGradAsConv: number;
  /** The same three kernels on the native addon, capped at 4, 8 and 16 lanes (those the CPU has); empty where it does not load. */
  native: NativeBenchCell[];
}

export interface NativeBenchCell {
  /** The cap; a call runs the widest build ≤ it whose 2·lanes divide its channels. */
  lanes: number;
  conv: number;
  filterGrad: number;
  /** null where Ci % 8 ≠ 0. */
  inputGrad: number | null;
}

const SHAPES: [number, number, number, number, number][] = [
  // [batch, input height = width, in channels, out channels, stride], 3×3 'same'
  [64, 32, 16, 16, 1],
  [64, 16, 32, 32, 1],
  [64, 8, 64, 64, 1],
  [64, 32, 16, 32, 2],
  [64, 32, 3, 16, 1],
];

function median(f: () => tf.Tensor, reps: number): number {
  f().dispose();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    const t = f();
    t.dataSync();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    t.dispose();
  }
  ts.sort((a, b) => a - b);
  return ts[ts.length >> 1];
}

export async function benchKernels(reps = 9): Promise<KernelBenchRow[]> {
  await selectBackend('wasm');
  const rows: KernelBenchRow[] = [];
  const inUse: SimdVariant = simdVariant();
  setNativeKernels(true);
  const addon = inUse === 'relaxed' && kernelBuild() === 'native' ? nativeKernels() : null;
  const widest = addon ? addon.max_lanes(16) : 0;
  const widths = [4, 8, 16].filter((l) => l <= widest);
  try {
    for (const [n, h, ci, co, s] of SHAPES) {
      const oh = Math.ceil(h / s);
      const x = tf.randomNormal([n, h, h, ci]) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
      const dy = tf.randomNormal([n, oh, oh, co]) as tf.Tensor4D;
      const gflops = (ms: number): number => (2 * n * oh * oh * co * 9 * ci) / ms / 1e6;
      setFastKernels(true);
      setNativeKernels(true);
      const native = widths.map((lanes): NativeBenchCell => {
        addon!.max_lanes(lanes);
        return {
          lanes,
          conv: gflops(median(() => tf.conv2d(x, w, s, 'same'), reps)),
          filterGrad: gflops(median(() => fastConv2dFilterGrad(x, dy, w.shape, s, 'same'), reps)),
          inputGrad: ci % 8 === 0 ? gflops(median(() => fastConv2dInputGrad(dy, w, x.shape, s, 'same'), reps)) : null,
        };
      });
      addon?.max_lanes(16);
      setNativeKernels(false);
      const convOurs = gflops(median(() => tf.conv2d(x, w, s, 'same'), reps));
      const filterGradOurs = gflops(median(() => fastConv2dFilterGrad(x, dy, w.shape, s, 'same'), reps));
      const inputGradOurs = ci % 8 === 0 ? gflops(median(() => fastConv2dInputGrad(dy, w, x.shape, s, 'same'), reps)) : null;
      setSimdVariant('exact');
      const convExact = gflops(median(() => tf.conv2d(x, w, s, 'same'), reps));
      setSimdVariant(inUse);
      setFastKernels(false);
      const convXnnpack = gflops(median(() => tf.conv2d(x, w, s, 'same'), reps));
      const filterGradAsConv = gflops(median(() => conv2dFilterGradAsConv(x, dy, w.shape, s, 'same'), reps));
      const inputGradAsConv = gflops(median(() => conv2dInputGradAsConv(dy, w, x.shape, s, 'same'), reps));
      setFastKernels(true);
      rows.push({ shape: `${n}×${h}×${h}×${ci}→${co}${s > 1 ? ` /${s}` : ''}`, convOurs, convExact, convXnnpack, filterGradOurs, filterGradAsConv, inputGradOurs, inputGradAsConv, native });
      tf.dispose([x, w, dy]);
    }
  } finally {
    setFastKernels(true);
    setNativeKernels(true);
    addon?.max_lanes(16);
    setSimdVariant(inUse);
  }
  return rows;
}

export function formatKernelBench(rows: KernelBenchRow[]): string[] {
  const f = (v: number | null): string => (v === null ? '-' : v.toFixed(1));
  const widths = rows[0]?.native.map((c) => c.lanes) ?? [];
  const x = (a: number | null, b: number | null): string => (a === null || b === null ? '-' : `${(a / b).toFixed(2)}×`);
  const cell = (a: number | null, b: number | null): string => `${f(a)} (${x(a, b)})`;
  return [
    `conv kernels, 3×3 'same' (/2: stride 2), GFLOP/s (median); ours = the ${simdVariant() === 'relaxed' ? 'relaxed-SIMD (FMA)' : 'exact'} wasm build:`,
    '| shape | conv: ours | conv: exact build | conv: XNNPACK | filter gradient: ours | filter gradient: as a conv | input gradient: ours | input gradient: as a conv |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.shape} | ${f(r.convOurs)} | ${f(r.convExact)} | ${f(r.convXnnpack)} | ${f(r.filterGradOurs)} | ${f(r.filterGradAsConv)} | ${f(r.inputGradOurs)} | ${f(r.inputGradAsConv)} |`),
    ...(widths.length ? [
      'the same kernels on the native addon at ≤ 4 / 8 / 16 lanes (SSE / AVX2 / AVX-512, each with FMA), GFLOP/s (median) and (× ours above):',
      `| shape | ${widths.map((l) => `conv ≤${l}`).join(' | ')} | ${widths.map((l) => `filter grad ≤${l}`).join(' | ')} | ${widths.map((l) => `input grad ≤${l}`).join(' | ')} |`,
      `|---|${widths.map(() => '---|---|---|').join('')}`,
      ...rows.map((r) => `| ${r.shape} | ${r.native.map((c) => cell(c.conv, r.convOurs)).join(' | ')} | ${r.native.map((c) => cell(c.filterGrad, r.filterGradOurs)).join(' | ')} | ${r.native.map((c) => cell(c.inputGrad, r.inputGradOurs)).join(' | ')} |`),
    ] : []),
  ];
}
