// N worker threads, each with its own backend and Replica (see worker.ts). Every pass is cut at
// BN-group boundaries across the workers (shard.ts) and merged back, so the pool returns what one
// replica would, only faster. With more workers than a step has BN groups (wasm), each group is
// split across a team of workers that reduce its BN sums between them (backend/bnTeam.ts).
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../../shared/config';
import type { BackendInfo } from '../../shared/runFormat';
import { mergeResults, mergeTeam, planUnits, sliceRequest, teamRequests, teamSize } from './shard';
import type { Executor, ModelLayout, ModelSpec, PassRequest, PassResult } from './types';

// ---- protocol (type-only, shared with worker.ts) ----
export interface WorkerInit {
  spec: ModelSpec;
  backend: BackendName;
  /** Module exporting createReplica(spec) to use instead of the real one (tests). */
  replicaModule?: string;
  index: number;
}

export type ToWorker =
  | { type: 'setState'; id: number; buffer: SharedArrayBuffer; paramCount: number; runningCount: number }
  | { type: 'run'; id: number; requests: PassRequest[] };

export type FromWorker =
  | { type: 'ready'; layout: ModelLayout; backend: BackendInfo }
  | { type: 'initError'; message: string }
  | { type: 'done'; id: number; results?: PassResult[]; timing?: RunTiming }
  | { type: 'error'; id: number; message: string };

export interface PoolOptions {
  spec: ModelSpec;
  /** A resolved backend name (not 'auto'): every worker loads exactly this one. */
  backend: BackendName;
  workers: number;
  /** What the main thread decided; `workers` is overwritten with the pool size. */
  info: BackendInfo;
  replicaModule?: string;
  /** Worker script; defaults to worker.js next to this file (dist/ bundle or out/ transpile). */
  script?: string;
  /**
   * Split BN groups across workers when a training step has fewer groups than the pool has workers
   * (shard.ts teamSize). Default: on wasm, whose BN kernels reduce the split group's sums.
   */
  splitGroups?: boolean;
}

/** When one worker's 'run' started and ended (epoch ms, comparable across threads) and each pass's compute time. */
export interface RunTiming {
  startMs: number;
  endMs: number;
  passMs: number[];
}

/**
 * Where the time of the last run() went, for diagnostics (bench/scaling.ts): main-thread stamps
 * (epoch ms) around slicing, posting, receiving and merging, and each worker's own timing.
 */
export interface RunReport {
  /** run() entered, requests sliced, all posted, each worker's answer received (undefined: no work), merged. */
  enterMs: number;
  slicedMs: number;
  postedMs: number;
  receivedMs: (number | undefined)[];
  mergedMs: number;
  workers: (RunTiming | undefined)[];
}

const now = (): number => performance.timeOrigin + performance.now();

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Answer {
  results?: PassResult[];
  timing?: RunTiming;
}

interface Pending {
  resolve: (r: Answer) => void;
  reject: (e: Error) => void;
}

class Thread {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  constructor(readonly worker: Worker, readonly index: number) {}

  call(msg: WithoutId<ToWorker>, transfer: ArrayBuffer[] = []): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Hold the process open only while work is outstanding: an idle, forgotten pool must not.
      this.worker.ref();
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  settle(id: number, f: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    f(p);
  }

  failAll(e: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(e));
  }
}

export class WorkerPool implements Executor {
  readonly workers: number;
  private broken: Error | null = null;
  private disposed = false;
  private shared: SharedArrayBuffer | null = null;
  private rotation = 0;
  /** Timing of the last run() (diagnostics only). */
  lastRun: RunReport | null = null;

  private constructor(
    private readonly threads: Thread[],
    readonly layout: ModelLayout,
    readonly backend: BackendInfo,
    private readonly teamsAllowed: boolean,
  ) {
    this.workers = threads.length;
  }

  static async create(opts: PoolOptions): Promise<WorkerPool> {
    if (!(opts.workers >= 1)) throw new Error(`pool: workers must be ≥ 1 (got ${opts.workers})`);
    const script = opts.script ?? path.join(__dirname, 'worker.js');
    const threads: Thread[] = [];
    const ready: Promise<{ layout: ModelLayout; backend: BackendInfo }>[] = [];
    for (let i = 0; i < opts.workers; i++) {
      const init: WorkerInit = { spec: opts.spec, backend: opts.backend, replicaModule: opts.replicaModule, index: i };
      const worker = new Worker(script, { workerData: init });
      const t = new Thread(worker, i);
      threads.push(t);
      ready.push(new Promise((resolve, reject) => {
        // Named handlers, removed once started: removeAllListeners would also strip the Worker's
        // own bookkeeping listeners (port ref counting) and messages would stop arriving.
        const done = (): void => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        const onMessage = (m: FromWorker): void => {
          if (m.type === 'ready') {
            done();
            resolve({ layout: m.layout, backend: m.backend });
          } else if (m.type === 'initError') {
            done();
            reject(new Error(`worker ${i}: could not start the ${opts.backend} backend/model: ${m.message}`));
          }
        };
        const onError = (e: Error): void => {
          done();
          reject(new Error(`worker ${i} crashed while starting: ${e.message}`));
        };
        const onExit = (code: number): void => {
          done();
          reject(new Error(`worker ${i} exited with code ${code} while starting`));
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      }));
    }
    let started: { layout: ModelLayout; backend: BackendInfo }[];
    try {
      started = await Promise.all(ready);
    } catch (e) {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      throw e;
    }
    const info: BackendInfo = {
      ...opts.info,
      workers: threads.length,
      reason: `${opts.info.reason}; ${threads.length} worker threads, one ${started[0].backend.name} backend each`,
    };
    const pool = new WorkerPool(threads, started[0].layout, info, opts.splitGroups ?? opts.backend === 'wasm');
    for (const t of threads) pool.attach(t);
    return pool;
  }

  private attach(t: Thread): void {
    const w = t.worker;
    w.on('message', (m: FromWorker) => {
      if (m.type === 'done') t.settle(m.id, (p) => p.resolve({ results: m.results, timing: m.timing }));
      else if (m.type === 'error') t.settle(m.id, (p) => p.reject(new Error(`worker ${t.index}: ${m.message}`)));
    });
    w.on('error', (e) => this.fail(t, `crashed: ${e.message}`));
    w.on('exit', (code) => {
      if (!this.disposed) this.fail(t, `exited unexpectedly with code ${code}`);
    });
    w.unref();
  }

  /** A dead worker breaks the pool: reject everything outstanding and stop the other threads. */
  private fail(t: Thread, what: string): void {
    if (this.disposed) return;
    const e = new Error(`worker ${t.index} of ${this.workers} (${this.backend.name}) ${what}; the executor was shut down`);
    if (!this.broken) this.broken = e;
    for (const th of this.threads) th.failAll(this.broken);
    for (const th of this.threads) if (th !== t) void th.worker.terminate();
  }

  private check(): void {
    if (this.disposed) throw new Error('executor: used after dispose');
    if (this.broken) throw this.broken;
  }

  async setState(params: Float32Array, running: Float32Array): Promise<void> {
    this.check();
    const bytes = (params.length + running.length) * 4;
    if (!this.shared || this.shared.byteLength !== bytes) this.shared = new SharedArrayBuffer(bytes);
    const view = new Float32Array(this.shared);
    view.set(params, 0);
    view.set(running, params.length);
    // Workers copy out before acknowledging, so the buffer is free again once all have answered.
    await Promise.all(this.threads.map((t) => t.call({ type: 'setState', buffer: this.shared!, paramCount: params.length, runningCount: running.length })));
  }

  async run(requests: PassRequest[]): Promise<PassResult[]> {
    this.check();
    const enterMs = now();
    const n = this.threads.length;
    const perWorker: PassRequest[][] = this.threads.map(() => []);
    // Per request, per unit, the [worker, index in its list] of each piece (several for a team).
    const where: [number, number][][][] = [];
    // More workers than BN groups: split each group across a team (one share per worker, so all
    // members of every team run at once).
    const team = this.teamsAllowed ? teamSize(requests, n) : 1;
    let next = 0;
    for (const req of requests) {
      const shards = planUnits(req, n);
      if (team > 1) {
        where.push(shards.map((s) => teamRequests(req, s, team).map((sub) => {
          const w = next++;
          perWorker[w].push(sub);
          return [w, perWorker[w].length - 1] as [number, number];
        })));
        continue;
      }
      // Rotate the first worker so requests with fewer shards than workers still spread out.
      where.push(shards.map((s, k) => {
        const w = (this.rotation + k) % n;
        perWorker[w].push(sliceRequest(req, s));
        return [[w, perWorker[w].length - 1]];
      }));
      this.rotation = (this.rotation + shards.length) % n;
    }
    const slicedMs = now();
    const receivedMs: (number | undefined)[] = perWorker.map(() => undefined);
    const calls = perWorker.map((list, w) => {
      if (list.length === 0) return Promise.resolve({ results: [] } as Answer);
      return this.threads[w].call({ type: 'run', requests: list }, requestBuffers(list)).then((a) => {
        receivedMs[w] = now();
        return a;
      });
    });
    const postedMs = now();
    const answers = await Promise.all(calls);
    const merged = where.map((units, r) => mergeResults(units.map((members) => (members.length === 1
      ? answers[members[0][0]].results![members[0][1]]
      : mergeTeam(members.map(([w, j]) => answers[w].results![j]), requests[r].groupSize)))));
    this.lastRun = { enterMs, slicedMs, postedMs, receivedMs, mergedMs: now(), workers: answers.map((a) => a.timing) };
    return merged;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const e = new Error('executor disposed');
    for (const t of this.threads) t.failAll(e);
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

/** The sub-requests' arrays are private copies (sliceRequest), so they can move instead of being cloned. */
function requestBuffers(list: PassRequest[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const r of list) {
    for (const a of [r.images, r.labels, r.softLabels, r.attack?.noise, r.attack?.targetLabels]) {
      if (a && a.buffer instanceof ArrayBuffer) out.add(a.buffer);
    }
  }
  return [...out];
}
