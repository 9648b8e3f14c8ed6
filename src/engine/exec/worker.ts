// Entry point of one pool thread (bundled to dist/worker.js; transpiled to out/src/engine/exec/worker.js
// for tests). Each thread owns its tfjs instance, backend and Replica: wasm in Node is single
// threaded, so parallelism comes from running one of these per core.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/select';
import { createReplica } from './replica';
import type { FromWorker, RunTiming, ToWorker, WorkerInit } from './pool';
import type { ModelSpec, PassResult, Replica } from './types';

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && e && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

function factory(modulePath: string | undefined): (spec: ModelSpec) => Replica {
  if (!modulePath) return createReplica;
  // Computed so esbuild leaves this runtime path alone.
  const mod = module.require([modulePath][0]) as { createReplica: (spec: ModelSpec) => Replica };
  return mod.createReplica;
}

function transferables(results: PassResult[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const r of results) {
    for (const a of [r.grads, r.advImages, r.logits, ...r.bnStats.map((b) => b.values)]) {
      if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
    }
  }
  return [...out];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('worker.ts must run as a worker thread');
  const init = workerData as WorkerInit;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  let replica: Replica;
  try {
    const backend = await selectBackend(init.backend);
    replica = factory(init.replicaModule)(init.spec);
    post({ type: 'ready', layout: replica.layout, backend });
  } catch (e) {
    post({ type: 'initError', message: errorText(e) });
    return;
  }
  port.on('message', (m: ToWorker) => {
    try {
      if (m.type === 'setState') {
        // Copy out of the shared buffer: the cpu backend would otherwise alias it in its tensors.
        const params = new Float32Array(new Float32Array(m.buffer, 0, m.paramCount));
        const running = new Float32Array(new Float32Array(m.buffer, m.paramCount * 4, m.runningCount));
        replica.setState(params, running);
        post({ type: 'done', id: m.id });
      } else if (m.type === 'run') {
        // Wall-clock stamps (epoch ms, comparable across threads) for the pool's timing report.
        const startMs = performance.timeOrigin + performance.now();
        const passMs: number[] = [];
        const results = m.requests.map((r) => {
          const t0 = performance.now();
          const res = replica.runPass(r);
          passMs.push(performance.now() - t0);
          return res;
        });
        const timing: RunTiming = { startMs, endMs: performance.timeOrigin + performance.now(), passMs };
        post({ type: 'done', id: m.id, results, timing }, transferables(results));
      }
    } catch (e) {
      post({ type: 'error', id: m.id, message: errorText(e) });
    }
  });
}

main().catch((e) => {
  parentPort?.postMessage({ type: 'initError', message: errorText(e) } satisfies FromWorker);
});
