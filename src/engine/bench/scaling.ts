// Why do two wasm workers not train twice as fast as one? Diagnostics for docs/performance.md
// ("Why two workers scale poorly"), run from the out/ build on an otherwise idle machine:
//   node scripts/build.mjs --tests-only
//   node -e "require('./out/src/engine/bench/scaling').runScaling({ rounds: 3, warmupSeconds: 12 }).then(r => console.log(r.text))"
// It times the bench's ResNet-20 step (batch 64, two BN groups of 32) on three executors created
// side by side and run alternately (ABC CBA ...): in-process (wasm-1), a pool of ONE worker (same
// work as wasm-1, plus the thread hop), and a pool of two (one group each). From the stamps the
// pool and its workers record (pool.ts RunReport, worker.ts RunTiming) each step splits into
//   compute  — runPass time measured inside the worker, per group;
//   dispatch — main thread posted → worker started; return — worker done → main thread received;
//   merge    — last answer received → results merged (main thread);
//   idle     — a worker's share of the wall time it spent waiting for the other one.
// A separate test runs a 1024² wasm matMul loop in one worker alone and in two at once: a pure
// compute kernel with no pool, which shows whether the two cores slow each other down.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { selectBackend } from '../backend/select';
import { InProcessExecutor } from '../exec/inProcess';
import { WorkerPool } from '../exec/pool';
import { createReplica } from '../exec/replica';
import type { Executor } from '../exec/types';
import { initParams } from '../model/init';
import { request, SPEC } from './index';

export interface StepSample {
  /** Main thread: run() call → results, ms. */
  wallMs: number;
  /** Per worker (in-process: the main thread): summed runPass time, ms. */
  computeMs: number[];
  /** Per pass (group) compute, ms. */
  passMs: number[];
  dispatchMs?: number[];
  returnMs?: number[];
  mergeMs?: number;
  /** wall − that worker's compute, ms: what it was not computing. */
  idleMs: number[];
}

export interface ScalingReport {
  samples: Record<string, StepSample[]>;
  matMul: { oneWorkerGflops: number; twoWorkersGflopsEach: number[] };
  stealPercent: number;
  text: string;
}

const med = (a: number[]): number => (a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN);

function stealJiffies(): { steal: number; total: number } {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return { steal: 0, total: 1 };
  }
}

/** GFLOP/s of a 1024² matMul loop for `seconds`, in each of `n` workers started together. */
async function matMulWorkers(n: number, seconds: number): Promise<number[]> {
  const select = path.join(__dirname, '..', 'backend', 'select.js');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const tf = require('@tensorflow/tfjs');
    require(${JSON.stringify(select)}).selectBackend('wasm').then(() => {
      const n = 1024, a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
      tf.matMul(a, b).dataSync();
      parentPort.postMessage('ready');
      parentPort.once('message', () => {
        const t0 = Date.now(); let k = 0;
        while (Date.now() - t0 < workerData * 1000) { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); k++; }
        parentPort.postMessage(2 * n ** 3 * k / ((Date.now() - t0) / 1000) / 1e9);
      });
    });`;
  const ws = Array.from({ length: n }, () => new Worker(code, { eval: true, workerData: seconds }));
  try {
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    const out = ws.map((w) => new Promise<number>((r) => w.once('message', r)));
    for (const w of ws) w.postMessage('go');
    return await Promise.all(out);
  } finally {
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

async function step(ex: Executor): Promise<StepSample> {
  const req = request(64);
  const t0 = performance.now();
  await ex.run([req]);
  const wallMs = performance.now() - t0;
  if (ex instanceof InProcessExecutor) {
    const c = ex.lastPassMs.reduce((a, b) => a + b, 0);
    return { wallMs, computeMs: [c], passMs: ex.lastPassMs, idleMs: [wallMs - c] };
  }
  const r = (ex as WorkerPool).lastRun!;
  const ws = r.workers.map((w) => w!);
  const computeMs = ws.map((w) => w.passMs.reduce((a, b) => a + b, 0));
  return {
    wallMs,
    computeMs,
    passMs: ws.flatMap((w) => w.passMs),
    dispatchMs: ws.map((w) => w.startMs - r.postedMs),
    returnMs: ws.map((w, i) => r.receivedMs[i]! - w.endMs),
    mergeMs: r.mergedMs - Math.max(...r.receivedMs.map((x) => x!)),
    idleMs: computeMs.map((c) => wallMs - c),
  };
}

export async function runScaling(opts: { rounds?: number; steps?: number; matMulSeconds?: number; warmupSeconds?: number } = {}): Promise<ScalingReport> {
  const rounds = opts.rounds ?? 3;
  const warmupSeconds = opts.warmupSeconds ?? 0;
  const steps = opts.steps ?? 2;
  const info = await selectBackend('wasm');
  const mk = (n: number) => WorkerPool.create({ spec: SPEC, backend: 'wasm', workers: n, info });
  const exs: Record<string, Executor> = {
    'inproc-1': new InProcessExecutor(createReplica(SPEC), info),
    'pool-1': await mk(1),
    'pool-2': await mk(2),
  };
  const samples: Record<string, StepSample[]> = {};
  const s0 = stealJiffies();
  try {
    const st = initParams(SPEC, 1);
    for (const [k, ex] of Object.entries(exs)) {
      await ex.setState(st.params, st.running);
      // Warm-up: at least two steps, then until warmupSeconds have passed (see WARMUP_SECONDS).
      const t0 = performance.now();
      for (let k = 0; k < 2 || performance.now() - t0 < warmupSeconds * 1000; k++) await step(ex);
      samples[k] = [];
    }
    const keys = Object.keys(exs);
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? [...keys].reverse() : keys) {
        for (let s = 0; s < steps; s++) samples[k].push(await step(exs[k]));
      }
    }
  } finally {
    for (const ex of Object.values(exs)) await ex.dispose();
  }
  const secs = opts.matMulSeconds ?? 3;
  const one = (await matMulWorkers(1, secs))[0];
  const two = await matMulWorkers(2, secs);
  const s1 = stealJiffies();
  const stealPercent = (100 * (s1.steal - s0.steal)) / Math.max(1, s1.total - s0.total);

  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '-');
  const lines = [
    '| executor | steps | wall ms/step (median) | images/s | compute ms per worker | ms per group of 32 | dispatch ms | return ms | merge ms | idle ms per worker |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [k, ss] of Object.entries(samples)) {
    const nW = ss[0].computeMs.length;
    const per = (g: (s: StepSample) => number[] | undefined): string => {
      if (!ss[0] || !g(ss[0])) return '-';
      return Array.from({ length: nW }, (_, w) => f(med(ss.map((s) => g(s)![w])))).join(' / ');
    };
    const wall = med(ss.map((s) => s.wallMs));
    lines.push(`| ${k} | ${ss.length} | ${f(wall)} | ${(64000 / wall).toFixed(1)} | ${per((s) => s.computeMs)} | ${f(med(ss.flatMap((s) => s.passMs)))} | ${per((s) => s.dispatchMs)} | ${per((s) => s.returnMs)} | ${ss[0].mergeMs === undefined ? '-' : f(med(ss.map((s) => s.mergeMs!)))} | ${per((s) => s.idleMs)} |`);
  }
  lines.push('', `matMul 1024² (wasm, per worker): alone ${one.toFixed(1)} GFLOP/s; two at once ${two.map((g) => g.toFixed(1)).join(' + ')} GFLOP/s`);
  lines.push(`steal time during the run: ${stealPercent.toFixed(1)} % of CPU time`);
  return { samples, matMul: { oneWorkerGflops: one, twoWorkersGflopsEach: two }, stealPercent, text: lines.join('\n') };
}
