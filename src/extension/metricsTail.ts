// Incremental reader of metrics.jsonl: remembers the byte offset of the last complete line so a
// long run's file is read once, not every second. A line still being written (or torn by a kill)
// is left for the next read. No vscode import: unit tested.
import * as fs from 'node:fs';
import { addMetricsRecord, type MetricsRecord } from '../shared/runFormat';

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

/** A line longer than this is not a record the engine wrote (a step record is ~1 kB): skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Bytes read per read() call at most, so a huge file costs bounded memory per chunk. */
const CHUNK_BYTES = 4 * MAX_LINE_BYTES;

export class MetricsTail {
  private offset = 0;
  private ino: number | undefined;
  private list: MetricsRecord[] = [];
  /** Inside an over-long line: bytes up to its newline are skipped, never read again. */
  private discarding = false;
  /** Complete lines that were not records (corruption, not tearing), over-long lines included. */
  skipped = 0;

  constructor(readonly file: string) {}

  /**
   * One record per step, in file order (see addMetricsRecord). A new array, not the old one
   * grown, after records were superseded: followers compare identities to resend everything.
   */
  get records(): MetricsRecord[] {
    return this.list;
  }

  /** Reads what was appended since the last call; returns the number of new records. */
  read(): number {
    let fd: number;
    try {
      // Non-blocking: a FIFO planted as metrics.jsonl must not stall the extension host.
      fd = fs.openSync(this.file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch {
      return 0;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return 0;
      // Truncated or replaced (a run folder re-created under the same name, a resume cutting the
      // steps after its checkpoint): start over.
      if (st.size < this.offset || (this.ino !== undefined && st.ino !== this.ino)) this.reset();
      this.ino = st.ino;
      let added = 0;
      while (this.offset < st.size) {
        const buf = Buffer.alloc(Math.min(CHUNK_BYTES, st.size - this.offset));
        let got = 0;
        while (got < buf.length) {
          const n = fs.readSync(fd, buf, got, buf.length - got, this.offset + got);
          if (n === 0) break;
          got += n;
        }
        if (got === 0) break;
        let start = 0;
        if (this.discarding) {
          const nl = buf.subarray(0, got).indexOf(NEWLINE);
          if (nl < 0) {
            this.offset += got;
            continue;
          }
          this.discarding = false;
          this.skipped++;
          start = nl + 1;
        }
        const lastNl = buf.subarray(0, got).lastIndexOf(NEWLINE);
        const end = lastNl >= start ? lastNl + 1 : start;
        if (end > start) {
          // Only whole lines are consumed: cutting at a newline byte never splits a UTF-8 character.
          added += this.take(buf.subarray(start, end).toString('utf8'));
        }
        this.offset += end;
        if (got - end > MAX_LINE_BYTES) {
          // No newline within a line's cap: skip to the end of what is there and on to its newline.
          this.offset += got - end;
          this.discarding = true;
        } else if (end === 0 || this.offset + (got - end) >= st.size) {
          break; // the rest is a line still being written (or torn): wait for its newline
        }
      }
      return added;
    } finally {
      fs.closeSync(fd);
    }
  }

  private take(text: string): number {
    let added = 0;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      const rec = line.length > MAX_LINE_BYTES ? undefined : parseLine(line);
      if (rec) {
        this.list = addMetricsRecord(this.list, rec);
        added++;
      } else {
        this.skipped++;
      }
    }
    return added;
  }

  reset(): void {
    this.offset = 0;
    this.ino = undefined;
    this.list = [];
    this.discarding = false;
    this.skipped = 0;
  }
}
