import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Rng } from '../util/rng';
import { epochOrder } from './augment';
import type { LoaderInit, LoaderReply, LoaderTask } from './loaderWorker';
import type { FileDataset, StreamSettings } from './types';

// The streaming loader: a pool of decode threads (loaderWorker.ts) fed with file paths, and a
// bounded look-ahead of training steps. Memory holds the file list, `prefetch` steps of decoded
// uint8 images and the float batch in use, whatever the size of the folder. Unreadable images
// are replaced by the next readable one in dataset order (counted, the first few named in the
// log) so an epoch never stops on one bad file, and a replacement is the same on every run.

const MAX_CHUNK = 32;
const SHOW_SKIPPED = 5;
const MAX_SUBSTITUTES = 64;
/** Batch buffers kept for reuse (recycle), on top of the steps decoded ahead. */
const MAX_SPARE = 2;

export interface StreamLoaderOptions {
  settings: StreamSettings;
  seed: number;
  /** Random-resized crop for training (else the evaluation center crop). */
  crop: boolean;
  flip: boolean;
  log?: (line: string) => void;
  /** Worker script; defaults to loaderWorker.js next to this file (dist/ bundle or out/ transpile). */
  script?: string;
}

export interface LoadedImages {
  /** count × res × res × 3, 0..255. */
  images: Uint8Array;
  labels: Int32Array;
}

interface Job {
  task: LoaderTask;
  resolve: (r: LoaderReply) => void;
  reject: (e: Error) => void;
}

/** Decode threads: one per core up to 8 unless set; at least 1. */
export function loaderThreads(settings: StreamSettings): number {
  return settings.workers > 0 ? settings.workers : Math.max(1, Math.min(8, os.availableParallelism() - 1));
}

export class StreamLoader {
  readonly decoder: string;
  readonly decoderName: string;
  readonly threads: number;
  /** Images replaced because they could not be read or decoded (each counted once). */
  skipped = 0;
  readonly firstSkipped: string[] = [];
  private readonly bad = new Set<number>();
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly spare: SharedArrayBuffer[] = [];

  private constructor(private readonly workers: Worker[], init: { decoder: string; name: string }, private readonly o: StreamLoaderOptions) {
    this.decoder = init.decoder;
    this.decoderName = init.name;
    this.threads = workers.length;
    for (const w of workers) {
      this.idle.push(w);
      w.on('message', (r: LoaderReply) => this.done(w, r));
      w.on('error', (e) => this.fail(w, e));
      w.on('exit', (code) => { if (!this.closed) this.fail(w, new Error(`a decode thread exited (code ${code})`)); });
    }
  }

  static async open(o: StreamLoaderOptions): Promise<StreamLoader> {
    const n = loaderThreads(o.settings);
    const script = o.script ?? path.join(__dirname, 'loaderWorker.js');
    const workers: Worker[] = [];
    const inits: Promise<LoaderInit>[] = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker(script, { workerData: { decoder: o.settings.decoder } });
      workers.push(w);
      inits.push(new Promise<LoaderInit>((resolve, reject) => {
        const onError = (e: Error): void => reject(e);
        w.once('message', (m: LoaderInit) => {
          w.off('error', onError);
          resolve(m);
        });
        w.once('error', onError);
      }));
    }
    let first: LoaderInit;
    try {
      const all = await Promise.all(inits);
      first = all[0];
      const bad = all.find((m) => m.kind === 'init-error');
      if (bad && bad.kind === 'init-error') throw new Error(bad.message);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    if (first.kind !== 'ready') throw new Error('decode thread did not start');
    return new StreamLoader(workers, first, o);
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.postMessage(job.task);
    }
  }

  private done(w: Worker, r: LoaderReply): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    this.idle.push(w);
    job?.resolve(r);
    this.pump();
  }

  private fail(w: Worker, e: Error): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    job?.reject(e);
    for (const q of this.queue.splice(0)) q.reject(e);
  }

  private run(task: Omit<LoaderTask, 'id'>): Promise<LoaderReply> {
    if (this.closed) return Promise.reject(new Error('the image loader is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { ...task, id: this.nextId++ }, resolve, reject });
      this.pump();
    });
  }

  private noteBad(index: number, file: string, reason: string): void {
    if (this.bad.has(index)) return;
    this.bad.add(index);
    this.skipped++;
    if (this.firstSkipped.length < SHOW_SKIPPED) {
      this.firstSkipped.push(file);
      this.o.log?.(`skipped an unreadable image (${reason}); it is replaced by the next readable one${this.firstSkipped.length === SHOW_SKIPPED ? '; further ones are only counted' : ''}`);
    }
  }

  /** The first readable image at or after `index` (wrapping), skipping those known to be bad. */
  private substitute(ds: FileDataset, index: number): number {
    for (let k = 0; k < ds.count; k++) {
      const j = (index + k) % ds.count;
      if (!this.bad.has(j)) return j;
    }
    return index;
  }

  /** Decodes the images at `indices` (train: augmented per (seed, epoch, index); eval: center crop). */
  async images(ds: FileDataset, indices: ArrayLike<number>, mode: 'train' | 'eval', epoch: number): Promise<LoadedImages> {
    const res = ds.height;
    const px = res * res * 3;
    const n = indices.length;
    const reuse = this.spare.findIndex((b) => b.byteLength === n * px);
    // Every slot is written (or the call throws), so a recycled buffer's old bytes never show.
    const images = new Uint8Array(reuse >= 0 ? this.spare.splice(reuse, 1)[0] : new SharedArrayBuffer(n * px));
    const labels = new Int32Array(n);
    const chosen = Int32Array.from({ length: n }, (_, i) => this.substitute(ds, indices[i]));
    const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.ceil(n / this.threads)));
    const base = { res, mode, seed: this.o.seed, epoch, crop: this.o.crop, flip: this.o.flip, out: images.buffer as SharedArrayBuffer };
    const parts: Promise<void>[] = [];
    for (let start = 0; start < n; start += chunk) {
      const pos = Array.from({ length: Math.min(chunk, n - start) }, (_, k) => start + k);
      parts.push(this.run({ ...base, items: pos.map((p) => ({ index: chosen[p], file: ds.files[chosen[p]], at: p })) }).then(async (r) => {
        const failed = new Set(r.failed.map((f) => f.pos));
        pos.forEach((p, k) => {
          if (!failed.has(k)) labels[p] = ds.labels[chosen[p]];
        });
        for (const f of r.failed) await this.replace(ds, pos[f.pos], chosen[pos[f.pos]], f.reason, base, labels);
      }));
    }
    await Promise.all(parts);
    return { images, labels };
  }

  private async replace(ds: FileDataset, p: number, index: number, reason: string, base: Omit<LoaderTask, 'id' | 'items'>, labels: Int32Array): Promise<void> {
    let at = index;
    let why = reason;
    for (let t = 0; t < MAX_SUBSTITUTES; t++) {
      this.noteBad(at, ds.files[at], why);
      at = this.substitute(ds, at);
      if (this.bad.has(at)) break;
      const r = await this.run({ ...base, items: [{ index: at, file: ds.files[at], at: p }] });
      if (r.failed.length === 0) {
        labels[p] = ds.labels[at];
        return;
      }
      why = r.failed[0].reason;
    }
    throw new Error(`${ds.source}: ${this.skipped} images could not be decoded, ${MAX_SUBSTITUTES} of them in a row (first: ${this.firstSkipped.join(', ')}); check the folder`);
  }

  /**
   * Hands back a batch from images() whose bytes nobody reads any more (the trainer and the
   * evaluation convert each batch to floats at once), so that a later batch of the same size is
   * written into it: a fresh buffer's page faults and zeroing cost about a twentieth of an image's
   * CPU time.
   */
  recycle(images: Uint8Array): void {
    const b = images.buffer;
    if (!(b instanceof SharedArrayBuffer) || images.byteOffset !== 0 || images.byteLength !== b.byteLength) return;
    // A run hands one back just before it asks for the next step, which takes it: one spare is the
    // steady state; a second covers an evaluation's chunks, and none stays beyond that.
    if (this.spare.length < MAX_SPARE && !this.spare.includes(b)) this.spare.push(b);
  }

  /** "N unreadable images skipped (first: …)" for the log, or undefined when none were. */
  skippedLine(): string | undefined {
    if (!this.skipped) return undefined;
    return `${this.skipped} unreadable image${this.skipped === 1 ? '' : 's'} skipped, each replaced by the next readable one (first: ${this.firstSkipped.join(', ')})`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('the image loader is closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Training steps decoded ahead: asking for step s also starts steps s+1 … s+depth (across the
 * epoch boundary: the next epoch's order depends only on (seed, epoch)), and forgets older ones.
 */
export class StepPrefetch {
  private readonly ahead = new Map<number, Promise<LoadedImages>>();
  private readonly orders = new Map<number, Int32Array>();

  constructor(
    private readonly loader: StreamLoader,
    private readonly ds: FileDataset,
    private readonly o: { seed: number; imagesPerStep: number; stepsPerEpoch: number; depth: number; now?: () => number },
  ) {}

  /** The order an epoch visits the images in: the trainer's own (seed, epoch) permutation. */
  private order(epoch: number): Int32Array {
    let o = this.orders.get(epoch);
    if (!o) {
      o = epochOrder(this.ds.count, Rng.derive(this.o.seed, `epoch-${epoch}`));
      this.orders.set(epoch, o);
      for (const e of this.orders.keys()) if (e < epoch - 1) this.orders.delete(e);
    }
    return o;
  }

  private start(step: number): void {
    if (this.ahead.has(step)) return;
    const epoch = Math.floor(step / this.o.stepsPerEpoch);
    const first = (step % this.o.stepsPerEpoch) * this.o.imagesPerStep;
    const p = this.loader.images(this.ds, this.order(epoch).subarray(first, first + this.o.imagesPerStep), 'train', epoch);
    p.catch(() => undefined); // awaited (and thrown) when its step comes
    this.ahead.set(step, p);
  }

  /** The images of global step `step` and how long training waited for them. */
  async get(step: number): Promise<LoadedImages & { waitSeconds: number }> {
    for (const s of this.ahead.keys()) if (s < step) this.ahead.delete(s);
    for (let s = step; s <= step + this.o.depth; s++) this.start(s);
    const now = this.o.now ?? (() => performance.now() / 1000);
    const t0 = now();
    const got = await this.ahead.get(step)!;
    this.ahead.delete(step);
    return { ...got, waitSeconds: now() - t0 };
  }

  /** A step's images once read (StreamLoader.recycle). */
  recycle(images: Uint8Array): void {
    this.loader.recycle(images);
  }
}

/** uint8 HWC → the engine's [-1, 1] floats. */
export function toUnitFloats(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = images[i] / 127.5 - 1;
  return out;
}
