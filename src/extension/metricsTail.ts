// Incremental reader of metrics.jsonl: remembers the byte offset of the last complete line so a
// long run's file is read once, not every second. A line still being written (or torn by a kill)
// is left for the next read. No vscode import: unit tested.
import * as fs from 'node:fs';
import type { MetricsRecord } from '../shared/runFormat';

const NEWLINE = 0x0a;
const RECORD_START = '{"v":';

function parseLine(line: string): MetricsRecord | undefined {
  const tryParse = (s: string): MetricsRecord | undefined => {
    try {
      const r = JSON.parse(s) as unknown;
      return typeof r === 'object' && r !== null && typeof (r as { kind?: unknown }).kind === 'string' ? (r as MetricsRecord) : undefined;
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(line);
  if (whole) return whole;
  // A torn line from a killed writer followed, after --resume, by a good record on the same line:
  // keep the good one.
  const i = line.lastIndexOf(RECORD_START);
  return i > 0 ? tryParse(line.slice(i)) : undefined;
}

export class MetricsTail {
  private offset = 0;
  private ino: number | undefined;
  readonly records: MetricsRecord[] = [];
  /** Complete lines that were not records (corruption, not tearing). */
  skipped = 0;

  constructor(readonly file: string) {}

  /** Reads what was appended since the last call; returns the number of new records. */
  read(): number {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch {
      return 0;
    }
    try {
      const st = fs.fstatSync(fd);
      // Truncated or replaced (a run folder re-created under the same name): start over.
      if (st.size < this.offset || (this.ino !== undefined && st.ino !== this.ino)) this.reset();
      this.ino = st.ino;
      if (st.size === this.offset) return 0;
      const buf = Buffer.alloc(st.size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      const lastNl = buf.subarray(0, got).lastIndexOf(NEWLINE);
      if (lastNl < 0) return 0;
      // Only whole lines are consumed: cutting at a newline byte never splits a UTF-8 character.
      const text = buf.subarray(0, lastNl + 1).toString('utf8');
      this.offset += lastNl + 1;
      let added = 0;
      for (const raw of text.split('\n')) {
        const line = raw.trim();
        if (!line) continue;
        const rec = parseLine(line);
        if (rec) {
          this.records.push(rec);
          added++;
        } else {
          this.skipped++;
        }
      }
      return added;
    } finally {
      fs.closeSync(fd);
    }
  }

  reset(): void {
    this.offset = 0;
    this.ino = undefined;
    this.records.length = 0;
    this.skipped = 0;
  }
}
