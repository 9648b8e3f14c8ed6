// Streams whatever is appended to a file, line by line. The engine's stdout/stderr go to a file in
// the run folder instead of a pipe so the engine survives a window reload (a pipe to a dead
// extension host would fail its next write) and a re-attached window can keep showing its output.
import * as fs from 'node:fs';

export class FileTail {
  private offset: number;
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
      fd = fs.openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      const lastNl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (lastNl < 0) return;
      this.offset += lastNl + 1;
      const text = buf.subarray(0, lastNl + 1).toString('utf8');
      for (const line of text.split('\n').slice(0, -1)) this.onLine(line.replace(/\r$/, ''));
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Reads what is left, including a last line without a newline. */
  flush(): void {
    this.read();
    try {
      const size = fs.statSync(this.file).size;
      if (size > this.offset) {
        const fd = fs.openSync(this.file, 'r');
        const buf = Buffer.alloc(size - this.offset);
        fs.readSync(fd, buf, 0, buf.length, this.offset);
        fs.closeSync(fd);
        this.offset = size;
        const rest = buf.toString('utf8');
        if (rest.trim()) this.onLine(rest.trimEnd());
      }
    } catch {
      // gone
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
