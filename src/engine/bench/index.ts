// `fast-advprop bench`: how fast this machine trains, on every backend it has, in one process.
// The figure that matters is images/s of a ResNet-20 training step (one clean forward/backward with
// parameter gradients, as vanilla training does) at batch 64, next to the machine's matMul rate so
// the achieved fraction of peak is visible, and next to the wasm SIMD multiply-add ceiling of the
// kernel build in use (bench/ceiling.ts): what a wasm engine could reach at most.
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { adapterLabel } from '../../shared/backendLabel';
import type { BackendName } from '../../shared/config';
import type { AdapterDescription } from '../../shared/runFormat';
import { fastKernelsEnabled, kernelBuild, setFastKernels, setNativeKernels, setSimdVariant, simdVariant } from '../backend/fastKernels';
import { BackendUnavailableError, selectBackend } from '../backend/select';
import { releaseWebGpu, vulkanLoaderMissing } from '../backend/webgpu';
import { createExecutor } from '../exec/createExecutor';
import type { Executor, ModelSpec, PassRequest } from '../exec/types';
import { initParams } from '../model/init';
import { madCeiling, type MadCeiling } from './ceiling';
import { benchKernels, formatKernelBench, type KernelBenchRow } from './kernels';
import { benchLoader, type LoaderBenchRow } from './loader';
import { formatProfile, profileStep, type StepProfile } from './profile';
import { DEFAULT_PYTHONS, runPeer, type PeerReport } from './peer';
import { describeNet, type ConvDef } from '../model/net';

export interface BenchOptions {
  json?: boolean;
  /** Fewer timed steps (for smoke tests); the figures get noisier. */
  quick?: boolean;
  /** Seconds of warm-up steps before each wasm/native row (default WARMUP_SECONDS; quick: one step). */
  warmupSeconds?: number;
  /** Also profile one wasm step kernel by kernel (report.profile). */
  profile?: boolean;
  /** Also time our conv kernels against the stock paths per layer shape (report.kernels). */
  kernels?: boolean;
  /**
   * Time the webgpu rows on a software adapter (Mesa llvmpipe) too. By default they run only on a
   * hardware adapter: llvmpipe figures say nothing about a GPU and take minutes at batch 512.
   */
  webgpuSoftware?: boolean;
  /** Batches of the webgpu rows (default WEBGPU_BATCHES). */
  webgpuBatches?: number[];
  /**
   * Batches of the wasm rows (default [64]). Rows at 64 keep their keys (wasm-<workers>); other
   * batches add wasm-<workers>@<batch> rows, each with its PyTorch peer at that batch.
   */
  cpuBatches?: number[];
  /** Only the webgpu rows: no cpu/wasm/native rows, stock-kernel baseline or corruption timing. */
  gpuOnly?: boolean;
  /** The loader rows at full size even with `quick`. */
  fullLoader?: boolean;
  /** The python3 whose PyTorch times the same step for each wasm row (default python3 on PATH); false: no peer. */
  peerPython?: string | false;
}

export interface BenchRow {
  key: string;
  backend: string;
  workers: number;
  batch: number;
  steps: number;
  /** Untimed steps run first. */
  warmupSteps: number;
  imagesPerSecond: number;
  /**
   * Achieved GFLOP/s and its fraction of the matMul-rate bound for this many cores. The one-core
   * matMul rate is re-measured right before each row (matMulOneCore): on a shared machine the
   * rate measured at the start can be far from the one the row ran under. A GPU row has no such
   * bound from the CPU's matMul rate: null there.
   */
  gflops: number;
  fractionOfPeak: number | null;
  matMulOneCore: number | null;
  /**
   * gflops over the wasm SIMD multiply-add ceiling of this many cores (bench/ceiling.ts, the build
   * in use), re-measured on one core right before the row (ceilingOneCore); null for GPU rows.
   */
  fractionOfCeiling: number | null;
  ceilingOneCore: number | null;
  /** webgpu rows: adapterLabel() of the adapter, and whether it is a software one (llvmpipe). */
  adapter?: string;
  software?: boolean;
  /** tf.memory().numTensors on the main thread before and after the timed steps. */
  tensorsBefore: number;
  tensorsAfter: number;
}

export interface BenchReport {
  /** When, where and with what it was measured: figures from different machines are not comparable. */
  measuredAt: string;
  machine: { cpu: string; node: string; platform: string; quick: boolean; fastKernels: boolean };
  model: { arch: string; width: number; input: number[]; numClasses: number; params: number; gflopPerImageStep: number };
  cores: number;
  matMulGflops: { oneCore: number; machine: number };
  /** The one-core wasm SIMD multiply-add ceiling, exact (mul + add) and relaxed (FMA), at the start. */
  ceiling: MadCeiling;
  trainImagesPerSecond: Record<string, number>;
  rows: BenchRow[];
  skipped: { key: string; reason: string }[];
  corruptions?: { imagesPerSecond: number; images: number; seconds: number } | { skipped: string };
  target: { key: string; imagesPerSecond: number; met: boolean };
  /** The adapter the webgpu-1@<batch> rows ran on, or why there are none. */
  webgpu: { adapter: AdapterDescription; label: string; software: boolean } | { skipped: string };
  /** On a hardware adapter: the GPU target (issue #11) at batch 256. */
  gpuTarget?: { key: string; imagesPerSecond: number; met: boolean };
  /** With --profile: one in-process wasm step, kernel by kernel. */
  profile?: StepProfile | { skipped: string };
  /**
   * The wasm-1 step with our kernels switched off, timed in the same process right after wasm-1:
   * what the kernels are worth on this machine (ratio = wasm-1 / this).
   */
  stockKernels?: { imagesPerSecond: number; steps: number; warmupSteps: number; ratio: number } | { skipped: string };
  /**
   * The wasm-1 step on the exact (mul + add) build of our kernels, timed right after wasm-1 when
   * that ran on the relaxed-SIMD (FMA) build: what FMA is worth here (ratio = wasm-1 / this).
   */
  exactSimd?: { imagesPerSecond: number; steps: number; warmupSteps: number; ratio: number } | { skipped: string };
  /**
   * Where wasm-1 ran on the native kernels (kernels/native/): the same step on the relaxed wasm
   * build, timed right after (ratio = wasm-1 / this). Absent where the native kernels did not run.
   */
  relaxedWasm?: { imagesPerSecond: number; steps: number; warmupSteps: number; ratio: number } | { skipped: string };
  /** With --kernels: GFLOP/s of our conv kernels and the stock paths, per ResNet-20 layer shape. */
  kernels?: KernelBenchRow[] | { skipped: string };
  /** The same step in PyTorch eager on this machine, right after our rows, with ours/PyTorch per wasm row. */
  peer?: PeerReport;
  /** Training images/s the data loader delivers: 32 px from arrays, 224 px from JPEGs per decode-thread count. */
  loader?: LoaderBenchRow[] | { skipped: string };
}

export const SPEC: ModelSpec = { arch: 'resnet20', width: 16, inputHeight: 32, inputWidth: 32, inputChannels: 3, numClasses: 10 };
const BATCH = 64;
/**
 * BN groups as a training run has them: the default config's two, whatever the worker count. On
 * wasm, more workers than groups split each group across a team (exec/shard.ts), as training does,
 * so the rows past wasm-2 measure that split with the results of the 2-group step.
 */
function benchGroupSize(batch: number): number {
  return Math.max(1, batch / 2);
}
const TARGET = 150;
/** The GPU rows' batches: where a GPU's throughput levels off is part of the answer. */
export const WEBGPU_BATCHES = [64, 128, 256, 512];
const GPU_TARGET = { batch: 256, imagesPerSecond: 3000 };
/**
 * A GPU's warm-up is shader compilation and buffer allocation in the first step or two of a batch
 * size, not the V8 re-optimisation the wasm rows wait out (WARMUP_SECONDS): a few seconds do.
 */
const WEBGPU_WARMUP_SECONDS = 3;

/** Forward multiply-adds ×2 of every conv and the classifier, walking the spatial sizes ('same' padding). */
export function forwardFlopsPerImage(spec: ModelSpec): number {
  const net = describeNet(spec);
  let h = spec.inputHeight;
  let w = spec.inputWidth;
  let flops = 0;
  const conv = (c: ConvDef, ih: number, iw: number): [number, number] => {
    const oh = Math.ceil(ih / c.stride);
    const ow = Math.ceil(iw / c.stride);
    flops += 2 * c.k * c.k * c.cin * c.cout * oh * ow;
    return [oh, ow];
  };
  [h, w] = conv(net.stem.conv, h, w);
  if (net.stem.maxPool) [h, w] = [Math.ceil(h / 2), Math.ceil(w / 2)];
  for (const b of net.blocks) {
    const [ih, iw] = [h, w];
    [h, w] = conv(b.conv1, h, w);
    [h, w] = conv(b.conv2, h, w);
    if (b.type === 'bottleneck') [h, w] = conv(b.conv3, h, w);
    if (b.shortcut.type === 'proj') conv(b.shortcut.conv, ih, iw);
  }
  flops += 2 * net.fc.cin * net.fc.cout;
  return flops;
}

export function request(batch: number): PassRequest {
  const px = SPEC.inputHeight * SPEC.inputWidth * SPEC.inputChannels;
  return {
    images: Float32Array.from({ length: batch * px }, (_, i) => Math.sin(i * 0.0137) * 0.8),
    count: batch,
    labels: Int32Array.from({ length: batch }, (_, i) => i % SPEC.numClasses),
    bn: 'main', training: true, groupSize: benchGroupSize(batch), lossWeight: 1 / batch, paramGrads: true,
  };
}

/** Single-core wasm matMul rate (GFLOP/s), 1024×1024, best of a few. */
async function matMulGflops(quick: boolean): Promise<number> {
  await selectBackend('wasm');
  const n = 1024;
  return tf.tidy(() => {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    tf.matMul(a, b).dataSync();
    let best = Infinity;
    for (let r = 0; r < (quick ? 2 : 4); r++) {
      const t0 = process.hrtime.bigint();
      tf.matMul(a, b).dataSync();
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return (2 * n ** 3) / best / 1e9;
  });
}

/**
 * Warm-up before the timed steps, in seconds of stepping (at least one step). A fresh thread's
 * passes run 15–30 % slower for their first ~15 passes (~10 s) while V8 (re)optimises tfjs' JS
 * (docs/performance.md, "Why two workers scale poorly"). With one warm-up step the pool rows were
 * timed entirely in that phase, the in-process row mostly after it.
 */
export const WARMUP_SECONDS = 12;

async function timeSteps(ex: Executor, batch: number, steps: number, warmupSeconds: number): Promise<{ seconds: number; before: number; after: number; warmupSteps: number }> {
  const state = initParams(SPEC, 1);
  await ex.setState(state.params, state.running);
  // Built once: at batch 512 building it (1.5 M sines) would take a tenth of a GPU step's time.
  const req = request(batch);
  const w0 = process.hrtime.bigint();
  let warmupSteps = 0;
  do {
    await ex.run([req]); // warm-up: kernels, wasm memory growth, JIT, shader compilation
    warmupSteps++;
  } while (Number(process.hrtime.bigint() - w0) / 1e9 < warmupSeconds);
  const before = tf.memory().numTensors;
  const t0 = process.hrtime.bigint();
  for (let s = 0; s < steps; s++) await ex.run([req]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, before, after: tf.memory().numTensors, warmupSteps };
}

/** Opens an executor, times `steps` training steps after the warm-up, and disposes of it. */
async function measure(backend: BackendName, workers: number, batch: number, steps: number, warmupSeconds: number): Promise<{ backend: string; workers: number; imagesPerSecond: number; warmupSteps: number; before: number; after: number }> {
  const ex = await createExecutor({ spec: SPEC, backend, workers });
  try {
    const t = await timeSteps(ex, batch, steps, warmupSeconds);
    return { backend: ex.backend.name, workers: ex.workers, imagesPerSecond: (batch * steps) / t.seconds, warmupSteps: t.warmupSteps, before: t.before, after: t.after };
  } finally {
    await ex.dispose();
  }
}

const fmt = (v: number | null, d = 1): string => (v !== null && Number.isFinite(v) ? v.toFixed(d) : '-');

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Why a backend could not be selected, in one line: the attempts, without the fix-it sentence. */
function unavailable(e: unknown): string {
  return e instanceof BackendUnavailableError ? e.attempts.filter((a) => !a.ok).map((a) => `${a.backend}: ${a.error}`).join('; ') : firstLine(e);
}

/**
 * The adapter the webgpu rows would run on, or why there are none. A software adapter counts only
 * when asked for; without a Vulkan loader there can be no hardware one, so Dawn is not even loaded.
 */
async function webGpuAdapter(allowSoftware: boolean): Promise<AdapterDescription | string> {
  const noLoader = vulkanLoaderMissing();
  if (noLoader && !allowSoftware) return `${noLoader} (--webgpu-software times Mesa's software adapter instead)`;
  let adapter: AdapterDescription;
  try {
    adapter = (await selectBackend('webgpu')).adapter!;
  } catch (e) {
    return unavailable(e);
  }
  if (adapter.software && !allowSoftware) {
    releaseWebGpu();
    return `only a software adapter (${adapterLabel(adapter)}), whose figures say nothing about a GPU (--webgpu-software times it anyway)`;
  }
  return adapter;
}

export async function runBench(opts: BenchOptions, out: (s: string) => void): Promise<BenchReport> {
  const quick = !!opts.quick;
  const say = (s: string): void => {
    if (!opts.json) out(s);
  };
  const cores = Math.max(1, os.availableParallelism());
  const fwd = forwardFlopsPerImage(SPEC);
  // Backward costs two more convolutions per conv (input and filter gradients).
  const stepFlops = 3 * fwd;
  const paramCount = initParams(SPEC, 1).params.length;
  const gpuOnly = !!opts.gpuOnly;
  say(`ResNet-20 (w16, 32×32×3, 10 classes, ${paramCount} params): ${fmt(stepFlops / 1e9, 3)} GFLOP per image per training step; ${cores} cores`);
  const one = await matMulGflops(quick || gpuOnly);
  const machine = one * cores;
  say(`wasm matMul 1024×1024: ${fmt(one)} GFLOP/s on one core, ${fmt(machine)} GFLOP/s for ${cores} cores`);
  const ceiling = madCeiling(quick ? 0.3 : 1);
  say(`wasm SIMD multiply-add ceiling, one core: ${fmt(ceiling.exact)} GFLOP/s mul + add, ${ceiling.relaxed === null ? 'no relaxed SIMD in this runtime' : `${fmt(ceiling.relaxed)} GFLOP/s relaxed-SIMD FMA`}; our kernels run the ${kernelBuild() === 'native' ? 'native AVX2/FMA build (wider than wasm\'s 128 bits: rows can pass this ceiling)' : ceiling.used === 'relaxed' ? 'FMA' : 'exact'} build`);

  type Plan = { key: string; backend: BackendName; workers: number; batch: number; steps: number; cores: number; adapter?: AdapterDescription };
  const plans: Plan[] = [];
  const skipped: BenchReport['skipped'] = [];
  if (!gpuOnly) {
    // Stock cpu is two orders slower: a short sample at a small batch says enough.
    plans.push({ key: 'cpu-1', backend: 'cpu', workers: 1, batch: 8, steps: 1, cores: 1 });
    // Every power of two up to the core count, and the core count: how the step scales.
    const counts = new Set<number>([1]);
    for (let n = 2; n <= cores; n *= 2) counts.add(n);
    counts.add(cores);
    for (const batch of opts.cpuBatches ?? [BATCH]) {
      const at = batch === BATCH ? '' : `@${batch}`;
      for (const n of counts) plans.push({ key: `wasm-${n}${at}`, backend: 'wasm', workers: n, batch, steps: n === 1 ? (quick ? 1 : 4) : quick ? 2 : 6, cores: n });
    }
    // Native TensorFlow asked for by name: through "auto", a hardware WebGPU adapter would answer
    // first and hide whether tfjs-node is there.
    const reasons: string[] = [];
    for (const name of ['tensorflow-gpu', 'tensorflow'] as const) {
      try {
        await selectBackend(name);
        plans.push({ key: name, backend: name, workers: 1, batch: BATCH, steps: quick ? 2 : 10, cores });
        reasons.length = 0;
        break;
      } catch (e) {
        reasons.push(unavailable(e));
      }
    }
    if (reasons.length) skipped.push({ key: 'native', reason: reasons.join('; ') });
  }

  const adapter = await webGpuAdapter(!!opts.webgpuSoftware);
  let webgpu: BenchReport['webgpu'];
  if (typeof adapter === 'string') {
    webgpu = { skipped: adapter };
    skipped.push({ key: 'webgpu-1', reason: adapter });
  } else {
    webgpu = { adapter, label: adapterLabel(adapter), software: adapter.software };
    say(`webgpu adapter: ${adapterLabel(adapter)} via ${adapter.api}${adapter.software ? ' (software: correct, not a GPU figure)' : ''}`);
    for (const batch of opts.webgpuBatches ?? WEBGPU_BATCHES) plans.push({ key: `webgpu-1@${batch}`, backend: 'webgpu', workers: 1, batch, steps: quick ? 2 : 10, cores, adapter });
  }

  const rows: BenchRow[] = [];
  const trainImagesPerSecond: Record<string, number> = {};
  const warmupFor = (backend: BackendName): number => (backend === 'cpu' || quick ? 0 : backend === 'webgpu' ? WEBGPU_WARMUP_SECONDS : (opts.warmupSeconds ?? WARMUP_SECONDS));
  for (const p of plans) {
    try {
      const oneNow = p.backend === 'wasm' ? await matMulGflops(true) : one;
      const ceilingNow = p.backend === 'webgpu' ? null : p.backend === 'wasm' ? madCeiling(0.2).oneCore : ceiling.oneCore;
      const m = await measure(p.backend, p.workers, p.batch, p.steps, warmupFor(p.backend));
      const gflops = (m.imagesPerSecond * stepFlops) / 1e9;
      const gpu = p.backend === 'webgpu';
      rows.push({
        key: p.key, backend: m.backend, workers: m.workers, batch: p.batch, steps: p.steps, warmupSteps: m.warmupSteps, imagesPerSecond: m.imagesPerSecond,
        gflops, fractionOfPeak: gpu ? null : gflops / (oneNow * p.cores), matMulOneCore: gpu ? null : oneNow,
        fractionOfCeiling: ceilingNow === null ? null : gflops / (ceilingNow * p.cores), ceilingOneCore: ceilingNow, tensorsBefore: m.before, tensorsAfter: m.after,
        ...(p.adapter ? { adapter: adapterLabel(p.adapter), software: p.adapter.software } : {}),
      });
      trainImagesPerSecond[p.key] = Math.round(m.imagesPerSecond * 10) / 10;
      say(`  ${p.key}: ${fmt(m.imagesPerSecond)} images/s${p.adapter ? ` on ${adapterLabel(p.adapter)}` : ''}`);
    } catch (e) {
      skipped.push({ key: p.key, reason: firstLine(e) });
      say(`  ${p.key}: skipped (${firstLine(e)})`);
    }
  }
  // Each webgpu row's executor released its device on dispose; this covers a row that failed first.
  releaseWebGpu();

  // The wasm-1 row again on the stock paths (XNNPACK conv, conv-as-gradient filter gradient, tf-op
  // BN): the baseline the kernels are measured against, in this process, after the same warm-up.
  let stockKernels: BenchReport['stockKernels'];
  const wasm1 = plans.find((p) => p.key === 'wasm-1');
  const oursIps = trainImagesPerSecond['wasm-1'];
  if (wasm1 && oursIps) {
    try {
      setFastKernels(false);
      const m = await measure(wasm1.backend, wasm1.workers, wasm1.batch, wasm1.steps, warmupFor(wasm1.backend));
      stockKernels = { imagesPerSecond: Math.round(m.imagesPerSecond * 10) / 10, steps: wasm1.steps, warmupSteps: m.warmupSteps, ratio: oursIps / m.imagesPerSecond };
      say(`  wasm-1 on the stock kernels: ${fmt(m.imagesPerSecond)} images/s`);
    } catch (e) {
      stockKernels = { skipped: (e as Error).message.split('\n')[0] };
    } finally {
      setFastKernels(true);
    }
  }

  // The same row on the relaxed wasm build where it ran on the native kernels: what they are worth.
  let relaxedWasm: BenchReport['relaxedWasm'];
  if (wasm1 && oursIps && !gpuOnly && kernelBuild() === 'native') {
    try {
      setNativeKernels(false);
      const m = await measure(wasm1.backend, wasm1.workers, wasm1.batch, wasm1.steps, warmupFor(wasm1.backend));
      relaxedWasm = { imagesPerSecond: Math.round(m.imagesPerSecond * 10) / 10, steps: wasm1.steps, warmupSteps: m.warmupSteps, ratio: oursIps / m.imagesPerSecond };
      say(`  wasm-1 on the relaxed wasm build instead of the native kernels: ${fmt(m.imagesPerSecond)} images/s`);
    } catch (e) {
      relaxedWasm = { skipped: (e as Error).message.split('\n')[0] };
    } finally {
      setNativeKernels(true);
    }
  }

  // The same row on the exact build: what fused multiply-add is worth, in this process.
  let exactSimd: BenchReport['exactSimd'];
  if (wasm1 && oursIps && !gpuOnly) {
    if (simdVariant() !== 'relaxed') exactSimd = { skipped: 'the kernels already run the exact build (no relaxed SIMD, or FAST_ADVPROP_EXACT_SIMD=1)' };
    else try {
      setSimdVariant('exact');
      const m = await measure(wasm1.backend, wasm1.workers, wasm1.batch, wasm1.steps, warmupFor(wasm1.backend));
      exactSimd = { imagesPerSecond: Math.round(m.imagesPerSecond * 10) / 10, steps: wasm1.steps, warmupSteps: m.warmupSteps, ratio: oursIps / m.imagesPerSecond };
      say(`  wasm-1 on the exact (mul + add) build: ${fmt(m.imagesPerSecond)} images/s`);
    } catch (e) {
      exactSimd = { skipped: (e as Error).message.split('\n')[0] };
    } finally {
      setSimdVariant('relaxed');
    }
  }

  let profile: BenchReport['profile'];
  if (opts.profile) {
    try {
      profile = await profileStep(SPEC, request(BATCH), quick ? 1 : 3);
    } catch (e) {
      profile = { skipped: (e as Error).message.split('\n')[0] };
    }
  }

  let kernels: BenchReport['kernels'];
  if (opts.kernels) {
    try {
      kernels = await benchKernels(quick ? 3 : 9);
    } catch (e) {
      kernels = { skipped: (e as Error).message.split('\n')[0] };
    }
  }

  let corruptions: BenchReport['corruptions'];
  if (gpuOnly) corruptions = { skipped: '--gpu-only' };
  else try {
    // require, not import(): the unbundled out/ build keeps import() as an ESM load, which needs file extensions.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../robustness/bench') as { benchCorruptions?: (o: { images?: number }) => { imagesPerSecond: number; images: number; seconds: number } };
    if (typeof mod.benchCorruptions === 'function') {
      const r = mod.benchCorruptions({ images: quick ? 200 : 2000 });
      corruptions = { imagesPerSecond: r.imagesPerSecond, images: r.images, seconds: r.seconds };
    } else corruptions = { skipped: 'src/engine/robustness/bench.ts exports no benchCorruptions' };
  } catch (e) {
    corruptions = { skipped: `corruption benchmark unavailable: ${(e as Error).message.split('\n')[0]}` };
  }

  let loader: BenchReport['loader'];
  if (gpuOnly) loader = { skipped: '--gpu-only' };
  else {
    try {
      loader = await benchLoader({ quick: quick && !opts.fullLoader, say });
    } catch (e) {
      loader = { skipped: (e as Error).message.split('\n')[0] };
    }
  }

  let peer: PeerReport | undefined;
  if (opts.peerPython === false) peer = { skipped: '--no-peer' };
  else if (gpuOnly) peer = { skipped: '--gpu-only' };
  else {
    // Each wasm row's peer: PyTorch with as many threads as the row has workers, at its batch.
    const wasmRows = rows.filter((r) => r.backend === 'wasm');
    peer = runPeer(wasmRows, { python: opts.peerPython || DEFAULT_PYTHONS, seconds: quick ? 1 : 8, warmup: quick ? 1 : 3 }, say);
    if ('skipped' in peer) say(`  peer: skipped (${peer.skipped})`);
  }

  const cpuRows = rows.filter((r) => r.backend !== 'webgpu');
  const targetKey = cpuRows.some((r) => r.key === 'wasm-2') ? 'wasm-2' : cpuRows[cpuRows.length - 1]?.key ?? 'none';
  const gpuKey = `webgpu-1@${GPU_TARGET.batch}`;
  const gpuTarget = typeof adapter !== 'string' && !adapter.software && trainImagesPerSecond[gpuKey] !== undefined
    ? { key: gpuKey, imagesPerSecond: GPU_TARGET.imagesPerSecond, met: trainImagesPerSecond[gpuKey] >= GPU_TARGET.imagesPerSecond }
    : undefined;
  const targetIps = trainImagesPerSecond[targetKey] ?? 0;
  const report: BenchReport = {
    measuredAt: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model?.trim() ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}`, quick, fastKernels: fastKernelsEnabled() },
    model: { arch: SPEC.arch, width: SPEC.width, input: [SPEC.inputHeight, SPEC.inputWidth, SPEC.inputChannels], numClasses: SPEC.numClasses, params: paramCount, gflopPerImageStep: stepFlops / 1e9 },
    cores,
    matMulGflops: { oneCore: one, machine },
    ceiling,
    trainImagesPerSecond,
    rows,
    skipped,
    corruptions,
    target: { key: targetKey, imagesPerSecond: TARGET, met: targetKey === 'wasm-2' && targetIps >= TARGET },
    webgpu,
    ...(gpuTarget ? { gpuTarget } : {}),
    ...(stockKernels ? { stockKernels } : {}),
    ...(exactSimd ? { exactSimd } : {}),
    ...(relaxedWasm ? { relaxedWasm } : {}),
    ...(profile ? { profile } : {}),
    ...(kernels ? { kernels } : {}),
    ...(peer ? { peer } : {}),
    ...(loader ? { loader } : {}),
  };

  if (opts.json) {
    out(JSON.stringify(report, null, 2));
  } else {
    out('');
    out(`| run | backend | workers | batch | warm-up + timed steps | images/s | GFLOP/s | of the ${ceiling.used === 'relaxed' ? 'FMA' : 'mul + add'} ceiling (1-core rate just before) | of matMul peak (1-core rate just before) | tensors before → after |`);
    out('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const peak = r.fractionOfPeak === null ? '-' : `${fmt(100 * r.fractionOfPeak, 0)} % (${fmt(r.matMulOneCore)} GFLOP/s)`;
      const ceil = r.fractionOfCeiling === null ? '-' : `${fmt(100 * r.fractionOfCeiling, 0)} % (${fmt(r.ceilingOneCore)} GFLOP/s)`;
      out(`| ${r.key} | ${r.backend}${r.adapter ? ` · ${r.adapter}` : ''} | ${r.workers} | ${r.batch} | ${r.warmupSteps} + ${r.steps} | ${fmt(r.imagesPerSecond)} | ${fmt(r.gflops)} | ${ceil} | ${peak} | ${r.tensorsBefore} → ${r.tensorsAfter}${r.workers > 1 ? ' (main thread)' : ''} |`);
    }
    for (const s of skipped) out(`skipped ${s.key}: ${s.reason}`);
    if (Array.isArray(loader)) {
      out('');
      const pct = (f: number | undefined): string => (f === undefined ? '-' : `${fmt(100 * f, 0)} %`);
      out('| loader | decoder | threads | images | images/s | per thread | per CPU-second | of decode-only | of crop decode |');
      out('|---|---|---|---|---|---|---|---|---|');
      for (const r of loader) out(`| ${r.key} | ${r.decoder} | ${r.threads} | ${r.images} | ${fmt(r.imagesPerSecond, 0)} | ${fmt(r.perThread, 0)} | ${fmt(r.perCpuSecond, 0)} | ${pct(r.fractionOfDecode)} | ${pct(r.fractionOfCropDecode)} |`);
    } else if (loader) out(`loader: skipped (${loader.skipped})`);
    if (corruptions && 'imagesPerSecond' in corruptions) out(`corruptions: ${fmt(corruptions.imagesPerSecond, 0)} images/s (${corruptions.images} images)`);
    else if (corruptions) out(`corruptions: skipped (${corruptions.skipped})`);
    if (stockKernels && 'ratio' in stockKernels) out(`our wasm kernels: wasm-1 ${fmt(oursIps)} vs ${fmt(stockKernels.imagesPerSecond)} images/s on the stock kernels, ×${fmt(stockKernels.ratio, 2)} (same process)`);
    else if (stockKernels) out(`our wasm kernels: baseline skipped (${stockKernels.skipped})`);
    if (exactSimd && 'ratio' in exactSimd) out(`fused multiply-add: wasm-1 ${fmt(oursIps)} vs ${fmt(exactSimd.imagesPerSecond)} images/s on the exact build, ×${fmt(exactSimd.ratio, 2)} (same process)`);
    else if (exactSimd) out(`fused multiply-add: exact baseline skipped (${exactSimd.skipped})`);
    if (relaxedWasm && 'ratio' in relaxedWasm) out(`native kernels: wasm-1 ${fmt(oursIps)} vs ${fmt(relaxedWasm.imagesPerSecond)} images/s on the relaxed wasm build, ×${fmt(relaxedWasm.ratio, 2)} (same process)`);
    else if (relaxedWasm) out(`native kernels: relaxed wasm baseline skipped (${relaxedWasm.skipped})`);
    if (peer && 'rows' in peer) {
      for (const r of peer.rows) out(`peer ${r.key}: PyTorch ${peer.torch} eager, ${r.threads} thread${r.threads > 1 ? 's' : ''}, batch ${r.batch}: ${fmt(r.channelsLast)} images/s channels-last, ${fmt(r.nchw)} NCHW; ours/PyTorch ${fmt(r.ratio, 2)}`);
      for (const f of peer.failed) out(`peer ${f.key}: failed (${f.reason})`);
    } else if (peer) out(`peer: skipped (${peer.skipped})`);
    out(`target: ResNet-20 ≥ ${TARGET} images/s on 2 cores (${targetKey}: ${fmt(targetIps)} images/s${report.target.met ? ', met' : ', not met'})`);
    if (gpuTarget) out(`GPU target: ResNet-20 ≥ ${GPU_TARGET.imagesPerSecond} images/s at batch ${GPU_TARGET.batch} (${gpuKey}: ${fmt(trainImagesPerSecond[gpuKey])} images/s${gpuTarget.met ? ', met' : ', not met'})`);
    if (profile && 'kernels' in profile) {
      out('');
      for (const l of formatProfile(profile)) out(l);
    } else if (profile) out(`profile: skipped (${profile.skipped})`);
    if (kernels && Array.isArray(kernels)) {
      out('');
      for (const l of formatKernelBench(kernels)) out(l);
    } else if (kernels) out(`kernels: skipped (${kernels.skipped})`);
  }
  return report;
}
