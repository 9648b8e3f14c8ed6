import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileWriteError } from './writeError';

// Watchers (the extension, `tail -f`, a second engine resuming) may read any of these files at any
// moment, and the process may be killed at any moment. Rename is the only atomic step a POSIX file
// system offers, so every rewrite goes temp → fsync → rename → fsync(dir).
//
// A full disk (or quota, or a read-only remount) shows up as a short write followed by ENOSPC /
// EDQUOT / EROFS. Node's writeSync does not retry a short write, so writeAll does; a rewrite that
// fails removes its temp file and leaves the old file as it was, and an append that fails is cut
// back to where it started, so no half record stays behind.

/**
 * The file-system calls every run-folder write goes through (writeFileAtomic, and RunWriter's
 * appends to metrics.jsonl and engine.log). One object so that a test can make a write fail the
 * way a full disk does without root or a real full disk; production code never swaps them.
 */
export const runFs = {
  openSync: fs.openSync,
  writeSync: fs.writeSync as (fd: number, buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => number,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  ftruncateSync: fs.ftruncateSync,
  mkdirSync: fs.mkdirSync,
};

let counter = 0;

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a directory for fsync; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function bytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Writes all of `data` at the fd's position, retrying short writes (a nearly full disk takes part). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = bytes(data);
  let done = 0;
  while (done < buf.length) {
    const n = runFs.writeSync(fd, buf, done, buf.length - done);
    if (!(n > 0)) throw Object.assign(new Error(`EIO: write returned ${n} of ${buf.length - done} bytes`), { code: 'EIO' });
    done += n;
  }
}

/**
 * Appends `data` to a file opened with flag 'a', all or nothing: when the write fails part way
 * (disk full), the file is cut back to its previous length, so readers never see a half line
 * that a later append would glue onto. Throws a FileWriteError naming `file`.
 */
export function appendAll(fd: number, file: string, data: string | Uint8Array): void {
  let start: number;
  try {
    start = fs.fstatSync(fd).size;
  } catch (e) {
    throw new FileWriteError(file, e);
  }
  try {
    writeAll(fd, data);
  } catch (e) {
    try {
      runFs.ftruncateSync(fd, start);
    } catch {
      // The torn tail stays: readers drop a torn last line, and a resume ends it with a newline.
    }
    throw new FileWriteError(file, e);
  }
}

/** Creates `dir` (and its parents); a failure is a FileWriteError naming the folder. */
export function mkdirForWrite(dir: string): void {
  try {
    runFs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileWriteError(dir, e, 'create');
  }
}

/**
 * Replaces `file` with `data` so a reader sees either the old or the new content, never a mix.
 * On any failure (e.g. ENOSPC half way through) the temp file is removed, `file` is untouched,
 * and a FileWriteError naming `file` is thrown.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: { fsync?: boolean } = {}): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
  let fd: number | undefined;
  try {
    fd = runFs.openSync(tmp, 'w');
    writeAll(fd, data);
    if (opts.fsync !== false) runFs.fsyncSync(fd);
    const f = fd;
    fd = undefined; // closed even if close reports an error (NFS reports ENOSPC there)
    runFs.closeSync(f);
    runFs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        runFs.closeSync(fd);
      } catch {
        /* the write error is the one to report */
      }
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing more to do; the temp name starts with a dot and ends in .tmp */
    }
    throw e instanceof FileWriteError ? e : new FileWriteError(file, e);
  }
  if (opts.fsync !== false) fsyncDir(dir);
}

/** `.<name>.<pid>.<n>.tmp`: what writeFileAtomic leaves behind when its process is killed mid-write. */
const TEMP_NAME = /^\..+\.\d+\.\d+\.tmp$/;

/**
 * Removes the temp files a killed writer left in `dir` (a full-size checkpoint each). Only for a
 * folder this process owns (a resume, after its checks): a live writer's temp file would go too.
 * Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!TEMP_NAME.test(n)) continue;
    try {
      if (!fs.lstatSync(path.join(dir, n)).isFile()) continue;
      fs.rmSync(path.join(dir, n), { force: true });
      removed.push(n);
    } catch {
      /* gone already, or not ours to remove: it does no harm but take space */
    }
  }
  return removed;
}
