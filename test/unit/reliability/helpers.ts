// Shared pieces of the reliability suite: temp folders, the built CLI as a real process, a tiny
// config that trains in seconds, and a seeded generator. Tests never write into the repository.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';

/** The repository root, from out/test/unit/reliability or test/unit/reliability. */
export const REPO = (() => {
  let d = __dirname;
  while (!fs.existsSync(path.join(d, 'package.json')) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
})();

/** The built CLI; RELIABILITY_CLI points the suite at a scratch (deliberately broken) copy. */
export const CLI = process.env.RELIABILITY_CLI ? path.resolve(process.env.RELIABILITY_CLI) : path.join(REPO, 'dist', 'cli.js');

export function requireCli(ctx: Mocha.Context): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  ctx.timeout(180000);
}

export const TINY_CONFIG = {
  method: 'fast-advprop',
  model: { arch: 'resnet8', width: 4 },
  batchSize: 16,
  epochs: 2,
  milestones: [1],
  dataset: { name: 'fashion-mnist-subset', trainLimit: 160, testLimit: 80 },
  workers: 1,
  logEvery: 1,
};

/** Four epochs before same-budget scaling (three after): 24 steps, checkpoints at 8, 16, 24. */
export const CRASH_CONFIG = { ...TINY_CONFIG, epochs: 4, milestones: [2] };

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fa-rel-${tag}-`));
}

export function rmDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export function writeJson(file: string, value: unknown): string {
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (cwd defaults to a temp folder so a stray ./runs lands there). */
export function runCli(args: string[], opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fast-advprop ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 120000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function startCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runCliSync(args: string[], cwd: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 120000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every few ms; fails with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60000, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

export function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Step numbers of the `step` records in a metrics.jsonl text (complete lines only). */
export function stepNumbers(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n').slice(0, text.endsWith('\n') ? undefined : -1)) {
    try {
      const r = JSON.parse(line) as { kind?: string; step?: number };
      if (r.kind === 'step' && typeof r.step === 'number') out.push(r.step);
    } catch {
      /* torn */
    }
  }
  return out;
}

/** Every file under `dir`, relative, sorted (for "nothing else was written" checks). */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      out.push(r);
      if (fs.lstatSync(p).isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** mulberry32: small, fast, seeded; the fuzzers print the seed of a failing case. */
export class SeededRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Max |a-b| over two equally long arrays (throws if the lengths differ). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The trained state a checkpoint holds, as bytes: weights (both BN sets), BN running statistics, momentum. */
export interface StateBytes {
  step: number;
  params: Buffer;
  running: Buffer;
  momentum: Buffer;
}

export function checkpointState(file: string): StateBytes {
  // The engine's own decoder (checksums checked); the header's timings differ between runs, the arrays must not.
  const c = loadCheckpoint(file);
  const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return { step: c.step, params: bytes(c.params), running: bytes(c.running), momentum: bytes(c.momentum) };
}

/** Fails naming the first array and float index that differ, unless all three arrays are byte-identical. */
export function assertSameState(a: StateBytes, b: StateBytes, what: string): void {
  if (a.step !== b.step) throw new Error(`${what}: checkpoint steps differ (${a.step} vs ${b.step})`);
  for (const k of ['params', 'running', 'momentum'] as const) {
    if (a[k].length !== b[k].length) throw new Error(`${what}: ${k} lengths differ (${a[k].length} vs ${b[k].length} bytes)`);
    if (!a[k].equals(b[k])) {
      let i = 0;
      while (i < a[k].length && a[k][i] === b[k][i]) i++;
      const f = Math.floor(i / 4);
      throw new Error(`${what}: ${k} differ first at float ${f} (${a[k].readFloatLE(f * 4)} vs ${b[k].readFloatLE(f * 4)})`);
    }
  }
}
