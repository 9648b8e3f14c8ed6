// The extension host reads run folders that anyone may have made (a cloned repository, a shared
// disk). A FIFO named status.json would block the host's thread forever, /dev/zero linked as
// config.json would fill its memory: a run-folder file is read only when it is a regular file
// of sensible size, opened without blocking.
import * as fs from 'node:fs';

const MiB = 1024 * 1024;

/** Size caps per run-folder file; the engine writes far less (docs/run-format.md). */
export const RUN_FILE_CAPS = { status: 1 * MiB, config: 1 * MiB, results: 1 * MiB, robustness: 64 * MiB } as const;

/** The file's text, or undefined when it is missing, not a regular file, or larger than `max`. */
export function readSmallFile(file: string, max: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
