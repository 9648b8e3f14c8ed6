// Streams whatever is appended to a file, line by line. The engine's stdout/stderr go to a file in
// the run folder instead of a pipe so the engine survives a window reload (a pipe to a dead
// extension host would fail its next write) and a re-attached window can keep showing its output.
import * as fs from 'node:fs';

/** Longer lines are skipped (once); reads go in chunks of CHUNK_BYTES at most. */
const MAX_LINE_BYTES = 1024 * 1024;
const CHUNK_BYTES = 4 * MAX_LINE_BYTES;

export class FileTail {
  private offset: number;
  private discarding = false;
  private timer: NodeJS.Timeout | undefined;

  /** `from`: a byte offset, or 'end' to show only what is written from now on. */
  constructor(private readonly file: string, private readonly onLine: (line: string) => void, from: number | 'end' = 0) {
    if (from === 'end') {
      try {
        this.offset = fs.statSync(file).size;
      } catch {
        this.offset = 0;
      }
    } else {
      this.offset = from;
    }
  }

  start(intervalMs = 250): this {
    this.timer = setInterval(() => this.read(), intervalMs);
    return this;
  }

  read(): void {
    let fd: number;
    try {
      // Non-blocking and regular files only: a FIFO in a run folder must not stall the host.
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch {
      return;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return;
      while (this.offset < st.size) {
        const buf = Buffer.alloc(Math.min(CHUNK_BYTES, st.size - this.offset));
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n === 0) return;
        let start = 0;
        if (this.discarding) {
          const nl = buf.subarray(0, n).indexOf(0x0a);
          if (nl < 0) {
            this.offset += n;
            continue;
          }
          this.discarding = false;
          start = nl + 1;
        }
        const lastNl = buf.subarray(0, n).lastIndexOf(0x0a);
        const end = lastNl >= start ? lastNl + 1 : start;
        if (end > start) {
          const text = buf.subarray(start, end).toString('utf8');
          for (const line of text.split('\n').slice(0, -1)) this.onLine(line.replace(/\r$/, ''));
        }
        this.offset += end;
        if (n - end > MAX_LINE_BYTES) {
          // A line this long is not the engine's output: say so once and skip to its end, never
          // reading it again on the next poll.
          this.onLine(`[a line over ${MAX_LINE_BYTES / 1024 / 1024} MiB was skipped]`);
          this.offset += n - end;
          this.discarding = true;
        } else if (this.offset + (n - end) >= st.size) {
          return; // the rest is a line still being written
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Reads what is left, including a last line without a newline. */
  flush(): void {
    this.read();
    if (this.discarding) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
      const st = fs.fstatSync(fd);
      if (st.isFile() && st.size > this.offset) {
        const buf = Buffer.alloc(Math.min(st.size - this.offset, MAX_LINE_BYTES));
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        this.offset = st.size;
        const rest = buf.subarray(0, n).toString('utf8');
        if (rest.trim()) this.onLine(rest.trimEnd());
      }
    } catch {
      // gone
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
