// The extension host reads run folders that anyone may have made (a cloned repository, a shared
// disk). A FIFO named status.json would block the host's thread forever, /dev/zero linked as
// config.json would fill its memory: a run-folder file is read only when it is a regular file
// of sensible size, opened without blocking.
import * as fs from 'node:fs';
import { readBoundedText } from '../engine/util/boundedRead';

const MiB = 1024 * 1024;

/** Size caps per run-folder file; the engine writes far less (docs/run-format.md). */
export const RUN_FILE_CAPS = { status: 1 * MiB, config: 1 * MiB, results: 1 * MiB, robustness: 64 * MiB, queue: 1 * MiB, runConfig: 1 * MiB, report: 16 * MiB } as const;

/** The file's text, or undefined when it is missing, not a regular file, or larger than `max`. */
export function readSmallFile(file: string, max: number): string | undefined {
  try {
    // The engine's bounded reader: opened without blocking, fstat'd, read whole or refused.
    return readBoundedText(file, max);
  } catch {
    return undefined;
  }
}

/**
 * Like readSmallFile, but says why a file cannot be read, in words for a one-line error: missing,
 * not a regular file (a FIFO or device would block or never end), or over the cap.
 */
export function readSmallFileOrExplain(file: string, max: number): { text: string } | { why: string } {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { why: code === 'ENOENT' ? 'it does not exist' : code === 'ELOOP' ? 'it is a symbolic link loop' : `it cannot be read (${code ?? (e as Error).message})` };
  }
  if (st.isDirectory()) return { why: 'it is a folder, not a file' };
  if (!st.isFile()) return { why: `it is not a regular file (${st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'a special file'})` };
  if (st.size > max) return { why: `it is ${(st.size / MiB).toFixed(1)} MiB, more than ${(max / MiB).toFixed(0)} MiB` };
  const text = readSmallFile(file, max);
  return text === undefined ? { why: 'it changed while being read; try again' } : { text };
}

/**
 * The text of a log from byte `start` on, at most its last `max` bytes: an engine's console file
 * can grow without bound, and only its end is shown when a job fails.
 */
export function readLogTail(file: string, start: number, max = 64 * 1024): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return '';
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return '';
    const from = Math.max(start, st.size - max);
    const buf = Buffer.alloc(Math.max(0, st.size - from));
    const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, from) : 0;
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return '';
  } finally {
    fs.closeSync(fd);
  }
}

