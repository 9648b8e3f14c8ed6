// Who owns a run folder. `train` (new and --resume) and `evaluate` create `<run>/run.lock` with
// O_EXCL before they read or write anything else there, and remove it when they end. The lock
// names its owner by pid *and* the process's start time and boot id, so a file cannot make another
// live process look like the owner, and a pid reused by another process or after a reboot reads as
// stale. A stale lock is taken over under a short guard file, so that of two processes recovering
// the same stale lock exactly one wins.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SYSTEM_PROBE, parseRunLock, type ProcessProbe } from './processProbe';
import { RUN_FILES, RUN_LOCK_FILE, type RunLock } from '../../shared/runFormat';
import { RunDirError } from './runDir';

/** A lock file that exists but holds no JSON yet is a writer between create and write, for this long. */
const UNWRITTEN_GRACE_MS = 5000;
/** A takeover guard older than this was left by a process that died mid-takeover. */
const GUARD_STALE_MS = 10_000;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Lock files this process holds, by path → nonce. */
const heldHere = new Map<string, string>();

export type LockVerdict =
  | { owner: 'live'; lock: RunLock }
  | { owner: 'other-host'; lock: RunLock }
  | { owner: 'stale'; lock: RunLock; why: string };

/** Whether the process a lock names is still the one that took it. */
export function judgeLock(lock: RunLock, file?: string, probe: ProcessProbe = SYSTEM_PROBE): LockVerdict {
  if (lock.host !== os.hostname()) return { owner: 'other-host', lock };
  if (lock.pid === process.pid) {
    // Our own pid: live only if this process really holds it (an earlier in-process command that
    // ended without releasing, e.g. in a test, left it stale).
    return file !== undefined && heldHere.get(file) === lock.nonce ? { owner: 'live', lock } : { owner: 'stale', lock, why: 'its command in this process has ended' };
  }
  if (!probe.alive(lock.pid)) return { owner: 'stale', lock, why: `process ${lock.pid} is gone` };
  // Where start times cannot be read (no /proc), a live pid is taken at its word: the engine
  // refuses to train over a run it cannot prove abandoned.
  const now = probe.startTime(lock.pid);
  if (lock.startTime && now) {
    const [lockBoot] = lock.startTime.split(':');
    if (lockBoot !== probe.bootId()) return { owner: 'stale', lock, why: `it was taken before the machine restarted (pid ${lock.pid} is another process now)` };
    if (now !== lock.startTime) return { owner: 'stale', lock, why: `pid ${lock.pid} now belongs to another process` };
  }
  return { owner: 'live', lock };
}

function describeOwner(lock: RunLock): string {
  const verb = /evaluate/.test(lock.command) ? 'evaluated' : 'trained';
  return `being ${verb} by process ${lock.pid} (${lock.command}, started ${lock.acquiredAt})`;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

export interface HeldLock {
  readonly file: string;
  readonly lock: RunLock;
  /** The stale lock this acquisition took over, if any (already reported through `say`). */
  readonly recovered?: RunLock;
  release(): void;
}

export interface AcquireOptions {
  /** The flag named in a refusal (`--resume`, `--run`, `--run-dir`). */
  field: string;
  /** Create the run folder when missing (a new run); otherwise a missing folder means no lock is taken. */
  create?: boolean;
  /** Where "recovered a stale lock" goes (stderr of the CLI). */
  say?: (line: string) => void;
  /** What the OS says about processes; the system's unless a test stands in for another OS. */
  probe?: ProcessProbe;
}

/**
 * Takes `<runDir>/run.lock` or throws a RunDirError naming the live owner. Returns undefined only
 * when the folder does not exist and `create` is off (the caller then fails on its own terms).
 */
export function acquireRunLock(runDir: string, command: string, opts: AcquireOptions): HeldLock | undefined {
  const dir = path.resolve(runDir);
  const file = path.join(dir, RUN_LOCK_FILE);
  const name = path.basename(dir);
  // The first folder this call made (the run folder, or a missing --runs-dir above it).
  let created: string | undefined;
  if (opts.create && !fs.existsSync(dir)) {
    try {
      created = fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new RunDirError(opts.field, `cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a writable folder`);
    }
  }
  let recovered: RunLock | undefined;
  const probe = opts.probe ?? SYSTEM_PROBE;
  for (let attempt = 0; ; attempt++) {
    const lock: RunLock = {
      schema: 1, pid: process.pid, startTime: probe.startTime(process.pid), nonce: randomBytes(16).toString('hex'),
      host: os.hostname(), acquiredAt: new Date().toISOString(), command,
    };
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !opts.create) return undefined;
      if (code === 'ELOOP') throw new RunDirError(opts.field, `${dir}: cannot be opened: a symbolic link loop; point it at the real run folder`);
      if (code === 'ENOTDIR') throw new RunDirError(opts.field, `${dir}: is not a folder; name a run folder`);
      if (code !== 'EEXIST') throw new RunDirError(opts.field, `cannot create ${file} (${code ?? (e as Error).message}); check that the run folder is writable`);
      if (attempt >= 50) throw new RunDirError(opts.field, `could not take ${file}: other processes keep taking it; try again`);
      const text = readText(file);
      const existing = parseRunLock(text);
      if (!existing) {
        if (text !== undefined && text.trim() === '' && ageMs(file) < UNWRITTEN_GRACE_MS) {
          sleepSync(50); // its owner is between create and write
          continue;
        }
        if (text !== undefined && text.trim() !== '' && ageMs(file) < UNWRITTEN_GRACE_MS) {
          throw new RunDirError(opts.field, `${file} is not a lock this engine wrote; if no process is using run ${name}, delete that file and try again`);
        }
        removeIfUnchanged(file, text);
        continue;
      }
      const verdict = judgeLock(existing, file, probe);
      if (verdict.owner === 'live') throw new RunDirError(opts.field, `run ${name} is ${describeOwner(existing)}; stop it first`);
      if (verdict.owner === 'other-host') {
        throw new RunDirError(opts.field, `run ${name} is locked by process ${existing.pid} on host ${existing.host} (${existing.command}, started ${existing.acquiredAt}), which this machine cannot check; stop it there, or delete ${file} if that process is gone`);
      }
      if (removeIfUnchanged(file, text)) {
        recovered = existing;
        opts.say?.(`recovered a stale lock left by process ${existing.pid} (${verdict.why})`);
      }
      continue;
    }
    try {
      fs.writeSync(fd, JSON.stringify(lock) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    heldHere.set(file, lock.nonce);
    installExitCleanup();
    let released = false;
    return {
      file, lock, recovered,
      release(): void {
        if (released) return;
        released = true;
        heldHere.delete(file);
        // After a takeover by someone else (we looked stale to them) the file is theirs.
        if (parseRunLock(readText(file))?.nonce === lock.nonce) fs.rmSync(file, { force: true });
        // A new run whose start failed (before its first status.json) leaves nothing behind: the
        // folder is ours, made a moment before, and RunWriter cannot remove a folder it did not make.
        if (created && !fs.existsSync(path.join(dir, RUN_FILES.status))) fs.rmSync(created, { recursive: true, force: true });
      },
    };
  }
}

/**
 * Removes a stale lock file if it still holds `text`. The guard file makes "check, then remove" one
 * step for every process that follows this protocol: without it, a slow recoverer could remove the
 * fresh lock a faster one had just created.
 */
function removeIfUnchanged(file: string, text: string | undefined): boolean {
  const guard = `${file}.takeover`;
  for (let i = 0; ; i++) {
    try {
      fs.closeSync(fs.openSync(guard, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      if (ageMs(guard) > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
      else if (i > 200) return false;
      else sleepSync(10);
    }
  }
  try {
    if (readText(file) !== text) return false;
    fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

let cleanupInstalled = false;
/**
 * Removes the locks this process holds however it ends: on 'exit' (normal end, process.exit, a
 * thrown error), and on SIGTERM/SIGINT/SIGHUP when nobody else handles them (the engine's graceful
 * stop handler ends the process through 'exit' by itself).
 */
function installExitCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const removeAll = (): void => {
    for (const [file, nonce] of heldHere) {
      try {
        if (parseRunLock(readText(file))?.nonce === nonce) fs.rmSync(file, { force: true });
      } catch {
        /* best effort while exiting */
      }
    }
    heldHere.clear();
  };
  process.on('exit', removeAll);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) return;
      removeAll();
      process.off(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

interface Scope {
  held: Map<string, HeldLock>;
  parent?: Scope;
}
const scopes = new AsyncLocalStorage<Scope>();

/**
 * Runs a command; every lock it takes with `takeRunLock` is released when it settles, so an
 * in-process caller (tests, `study`) never leaks a lock. Scopes nest: a command run inside another
 * (train's autoEvaluate) reuses the outer command's lock on the same folder.
 */
export async function runLockScope<T>(fn: () => Promise<T>): Promise<T> {
  const scope: Scope = { held: new Map(), parent: scopes.getStore() };
  try {
    return await scopes.run(scope, fn);
  } finally {
    for (const h of scope.held.values()) h.release();
  }
}

/** acquireRunLock for the current command scope (see runLockScope). */
export function takeRunLock(runDir: string, command: string, opts: AcquireOptions): void {
  const file = path.join(path.resolve(runDir), RUN_LOCK_FILE);
  const scope = scopes.getStore();
  for (let s = scope; s; s = s.parent) if (s.held.has(file)) return;
  const held = acquireRunLock(runDir, command, opts);
  if (!held) return;
  if (scope) scope.held.set(file, held);
}

/**
 * The CLI's form: takes the lock on an existing run folder for the current scope and runs `fn`, or
 * prints the refusal as one `error:` line and returns 2 without reading the folder.
 */
export async function withRunLock(io: { out(line: string): void; err(line: string): void }, runDir: string, command: string, field: string, fn: () => Promise<number>): Promise<number> {
  try {
    takeRunLock(runDir, command, { field, say: io.out });
  } catch (e) {
    if (!(e instanceof RunDirError)) throw e;
    io.err(`error: ${e.message}`);
    return 2;
  }
  return fn();
}
