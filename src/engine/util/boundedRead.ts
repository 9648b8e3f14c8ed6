import * as fs from 'node:fs';

// Every file the engine reads comes from a user or a run folder someone else may have made: a
// FIFO would block the read forever, /dev/zero would grow the buffer until memory runs out, a
// directory or a symlink loop would surface as a bare errno. So a read opens without blocking,
// checks the file type and size on the open descriptor (no race with a swap of the path), and
// only then reads, never more than the size it saw.

const MiB = 1024 * 1024;

/** The most bytes each kind of input may hold; docs/run-format.md states the same numbers. */
export const READ_LIMITS = {
  /** A `*.advprop.json` config or a run's config.json. */
  config: 1 * MiB,
  status: 1 * MiB,
  /** A checkpoint of the largest model (ResNet-50: ~25M params × 2 BN sets + momentum) with room. */
  checkpoint: 2048 * MiB,
  /** An IDX file as stored (gzipped or raw), and what a gzipped one may inflate to. */
  idx: 1024 * MiB,
  /** One CIFAR-10 binary batch is 30 MiB; a CIFAR-10-C .npy is 150 MiB. */
  cifarBatch: 64 * MiB,
  npy: 1024 * MiB,
  image: 64 * MiB,
  /** metrics.jsonl, read whole by a resume and the study summary. */
  metrics: 1024 * MiB,
} as const;

export class FileReadError extends Error {
  constructor(readonly file: string, readonly code: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'FileReadError';
  }
}

const WHY: Record<string, string> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'a symbolic link loop (ELOOP)',
  ENOTDIR: 'a part of the path is not a folder (ENOTDIR)',
  ENAMETOOLONG: 'the path is too long (ENAMETOOLONG)',
  EISDIR: 'is a folder, not a file (EISDIR)',
};

/** "not found", "a symbolic link loop (ELOOP)", … for an fs error; the code otherwise. */
export function fsErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && WHY[code]) ?? (code ? `${code}: ${(e as Error).message.replace(/^\w+: /, '').replace(/, \w+ .*$/, '')}` : (e as Error).message);
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mib(n: number): string {
  return n >= MiB ? `${Math.round(n / MiB)} MiB` : `${n} bytes`;
}

/** A buffer kept between reads by a caller that reads many files one after another (a decode thread). */
export interface ReadScratch {
  buf?: Buffer;
}

/**
 * Reads a regular file of at most `max` bytes. Anything else (missing, a folder, a FIFO, a
 * device, a symlink loop, too large) throws a FileReadError whose message names the file and
 * says what it is; `what` names the kind of file in the size message ("a run config"). With
 * `scratch`, the bytes go into its buffer (grown when short) and the result is valid only until the
 * next read into it: a fresh zero-filled buffer per image cost the loader 2-3 % of its time.
 */
export function readBounded(file: string, max: number, what = 'this file', scratch?: ReadScratch): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new FileReadError(file, (e as NodeJS.ErrnoException).code ?? 'EIO', `cannot be read: ${fsErrorText(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new FileReadError(file, 'ENOTREG', `is ${kindOf(st)}, not a regular file; give a file`);
    if (st.size > max) throw new FileReadError(file, 'EFBIG', `is ${mib(st.size)}, more than ${what} may hold (${mib(max)}); is it the right file?`);
    let buf: Buffer;
    if (scratch) {
      if (!scratch.buf || scratch.buf.length < st.size) scratch.buf = Buffer.allocUnsafeSlow(Math.max(st.size, 1 << 20));
      buf = scratch.buf.subarray(0, st.size);
    } else {
      buf = Buffer.alloc(st.size);
    }
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } catch (e) {
    if (e instanceof FileReadError) throw e;
    throw new FileReadError(file, (e as NodeJS.ErrnoException).code ?? 'EIO', `cannot be read: ${fsErrorText(e)}`);
  } finally {
    fs.closeSync(fd);
  }
}

export function readBoundedText(file: string, max: number, what?: string): string {
  return readBounded(file, max, what).toString('utf8');
}

/**
 * Whether anything is at `file`, following no link: a dangling link or a link loop is *there*, so
 * the read that follows reports what it is instead of "not found".
 */
export function entryExists(file: string): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

/**
 * Why `dir` cannot serve as a data folder ("not found", "a symbolic link loop (ELOOP)", "is a
 * file, not a folder"), or undefined when it is a folder.
 */
export function folderProblem(dir: string): string | undefined {
  try {
    return fs.statSync(dir).isDirectory() ? undefined : 'is a file, not a folder';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'folder not found' : `cannot be opened: ${fsErrorText(e)}`;
  }
}
