// Ours against PyTorch in alternation (A B A B …), for a shared machine where only side-by-side
// ratios mean anything: each pair times our ResNet-20 step on a wasm pool of `workers`, then the
// same step in PyTorch with as many threads (bench/peer.ts), and the answer is the median of the
// per-pair ratios. Optional further arms: the same pool on the exact (mul + add) kernel build, and
// on the relaxed wasm build where "ours" runs the native kernels (FAST_ADVPROP_NATIVE=0 in its workers).
//   node -e "require('./out/src/engine/bench/abab').runAbab({ workers: 2, pairs: 5, wasm: true }).then(r => console.log(r.text))"
import { performance } from 'node:perf_hooks';
import { setNativeKernels, setSimdVariant } from '../backend/fastKernels';
import { createExecutor } from '../exec/createExecutor';
import type { Executor } from '../exec/types';
import { initParams } from '../model/init';
import { DEFAULT_PYTHONS, runPeer } from './peer';
import { request, SPEC, WARMUP_SECONDS } from './index';

export interface AbabOptions {
  workers: number;
  pairs: number;
  batch?: number;
  /** Timed steps of ours per pair. */
  steps?: number;
  /** Also time a pool whose kernels run the exact build (FAST_ADVPROP_EXACT_SIMD=1 in its workers). */
  exact?: boolean;
  /** Also time a pool on the relaxed wasm build instead of the native kernels (FAST_ADVPROP_NATIVE=0 in its workers). */
  wasm?: boolean;
  python?: string | readonly string[];
}

export interface AbabResult {
  ours: number[];
  exact: number[];
  wasm: number[];
  torchChannelsLast: number[];
  torchNchw: number[];
  /** Per pair: ours / PyTorch's faster format. */
  ratios: number[];
  medianRatio: number;
  text: string;
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

type Arm = 'ours' | 'exact' | 'wasm';
// A pool's workers read the build from the environment when they load the kernels; with one worker
// the executor runs in this thread, whose kernels were loaded long before, so the arm's build is
// also switched here around each of its runs.
const ARM_ENV: Record<Arm, Record<string, string>> = { ours: {}, exact: { FAST_ADVPROP_EXACT_SIMD: '1' }, wasm: { FAST_ADVPROP_NATIVE: '0' } };
function inThread(arm: Arm, on: boolean): void {
  if (arm === 'exact') setSimdVariant(on ? 'exact' : 'relaxed');
  if (arm === 'wasm') setNativeKernels(!on);
}

async function pool(workers: number, arm: Arm): Promise<Executor> {
  // Workers read the kernel build from the environment when they load the kernels.
  const env = ARM_ENV[arm];
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await createExecutor({ spec: SPEC, backend: 'wasm', workers });
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function ips(ex: Executor, batch: number, steps: number): Promise<number> {
  const req = request(batch);
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) await ex.run([req]);
  return (batch * steps) / ((performance.now() - t0) / 1000);
}

export async function runAbab(o: AbabOptions): Promise<AbabResult> {
  const batch = o.batch ?? 64;
  const steps = o.steps ?? 6;
  const arms: { name: Arm; ex: Executor }[] = [{ name: 'ours', ex: await pool(o.workers, 'ours') }];
  if (o.exact) arms.push({ name: 'exact', ex: await pool(o.workers, 'exact') });
  if (o.wasm) arms.push({ name: 'wasm', ex: await pool(o.workers, 'wasm') });
  const r: AbabResult = { ours: [], exact: [], wasm: [], torchChannelsLast: [], torchNchw: [], ratios: [], medianRatio: NaN, text: '' };
  const lines: string[] = [];
  try {
    const st = initParams(SPEC, 1);
    for (const a of arms) {
      await a.ex.setState(st.params, st.running);
      const t0 = performance.now();
      inThread(a.name, true);
      try {
        while (performance.now() - t0 < WARMUP_SECONDS * 1000) await a.ex.run([request(batch)]);
      } finally {
        inThread(a.name, false);
      }
    }
    for (let p = 0; p < o.pairs; p++) {
      for (const a of arms) {
        inThread(a.name, true);
        try {
          r[a.name].push(await ips(a.ex, batch, steps));
        } finally {
          inThread(a.name, false);
        }
      }
      const peer = runPeer([{ key: `wasm-${o.workers}`, workers: o.workers, batch, imagesPerSecond: r.ours[p] }], { python: o.python ?? DEFAULT_PYTHONS, seconds: 8, warmup: 3 });
      if (!('rows' in peer) || !peer.rows.length) throw new Error(`PyTorch peer: ${'skipped' in peer ? peer.skipped : peer.failed.map((f) => f.reason).join('; ')}`);
      const t = peer.rows[0];
      r.torchChannelsLast.push(t.channelsLast);
      r.torchNchw.push(t.nchw);
      r.ratios.push(t.ratio);
      lines.push(`| ${p + 1} | ${r.ours[p].toFixed(1)} |${o.exact ? ` ${r.exact[p].toFixed(1)} |` : ''}${o.wasm ? ` ${r.wasm[p].toFixed(1)} | ${(r.ours[p] / r.wasm[p]).toFixed(2)} |` : ''} ${t.channelsLast.toFixed(1)} | ${t.nchw.toFixed(1)} | ${t.ratio.toFixed(2)} |`);
    }
  } finally {
    for (const a of arms) await a.ex.dispose();
  }
  r.medianRatio = median(r.ratios);
  r.text = [
    `ResNet-20 step, batch ${batch}, ${o.workers} wasm workers vs PyTorch ${o.workers} threads, alternating (${o.pairs} pairs):`,
    `| pair | ours, images/s |${o.exact ? ' ours, exact build |' : ''}${o.wasm ? ' ours, wasm relaxed build | ours / wasm |' : ''} PyTorch channels-last | PyTorch NCHW | ours / PyTorch (faster format) |`,
    `|---|---|${o.exact ? '---|' : ''}${o.wasm ? '---|---|' : ''}---|---|---|`,
    ...lines,
    `median ours/PyTorch channels-last: ${median(r.ours.map((v, i) => v / r.torchChannelsLast[i])).toFixed(2)}${o.wasm ? ` (wasm relaxed build: ${median(r.wasm.map((v, i) => v / r.torchChannelsLast[i])).toFixed(2)})` : ''}; median ours/PyTorch: ${r.medianRatio.toFixed(2)}${o.exact ? `; median FMA/exact: ${median(r.ours.map((v, i) => v / r.exact[i])).toFixed(2)}` : ''}${o.wasm ? `; median ours/wasm: ${median(r.ours.map((v, i) => v / r.wasm[i])).toFixed(2)}` : ''}`,
  ].join('\n');
  return r;
}
