// `fast-advprop bench --kernels`: our wasm conv kernels against the stock paths, shape by shape
// (the ResNet-20 layers at batch 64), in one process: GFLOP/s, median of several runs each.
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterGradAsConv } from '../backend/convGrad';
import { fastConv2dFilterGrad, setFastKernels } from '../backend/fastKernels';
import { selectBackend } from '../backend/select';

export interface KernelBenchRow {
  shape: string;
  /** GFLOP/s: forward conv on our kernel vs on XNNPACK; filter gradient ours vs as a convolution. */
  convOurs: number;
  convXnnpack: number;
  filterGradOurs: number;
  filterGradAsConv: number;
}

const SHAPES: [number, number, number, number][] = [
  // [batch, height = width, in channels, out channels], 3×3 stride 1 'same'
  [64, 32, 16, 16],
  [64, 16, 32, 32],
  [64, 8, 64, 64],
  [64, 32, 3, 16],
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
  try {
    for (const [n, h, ci, co] of SHAPES) {
      const x = tf.randomNormal([n, h, h, ci]) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
      const dy = tf.randomNormal([n, h, h, co]) as tf.Tensor4D;
      const gflops = (ms: number): number => (2 * n * h * h * co * 9 * ci) / ms / 1e6;
      setFastKernels(true);
      const convOurs = gflops(median(() => tf.conv2d(x, w, 1, 'same'), reps));
      const filterGradOurs = gflops(median(() => fastConv2dFilterGrad(x, dy, w.shape, 1, 'same'), reps));
      setFastKernels(false);
      const convXnnpack = gflops(median(() => tf.conv2d(x, w, 1, 'same'), reps));
      const filterGradAsConv = gflops(median(() => conv2dFilterGradAsConv(x, dy, w.shape, 1, 'same'), reps));
      setFastKernels(true);
      rows.push({ shape: `${n}×${h}×${h}×${ci}→${co}`, convOurs, convXnnpack, filterGradOurs, filterGradAsConv });
      tf.dispose([x, w, dy]);
    }
  } finally {
    setFastKernels(true);
  }
  return rows;
}

export function formatKernelBench(rows: KernelBenchRow[]): string[] {
  const f = (v: number): string => v.toFixed(1);
  return [
    'conv kernels, 3×3 stride 1, GFLOP/s (median):',
    '| shape | conv: ours | conv: XNNPACK | filter gradient: ours | filter gradient: as a conv |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.shape} | ${f(r.convOurs)} | ${f(r.convXnnpack)} | ${f(r.filterGradOurs)} | ${f(r.filterGradAsConv)} |`),
  ];
}
