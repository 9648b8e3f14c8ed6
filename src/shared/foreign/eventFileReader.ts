// Scalars out of a TensorBoard event file, read incrementally: TFRecord framing, then each record
// decoded as an Event. A record whose CRCs pass but which is not an Event stops the read the same
// way a bad CRC does: one error naming the file and the offset.

import { ScalarScanner, type ScalarPoint } from './eventProto';
import { TfRecordReader } from './tfrecord';

export interface EventChunk {
  scalars: ScalarPoint[];
  /** Whole records decoded by this append. */
  records: number;
  error?: string;
}

export class EventFileReader {
  private readonly framing: TfRecordReader;
  private readonly scanner = new ScalarScanner();
  private stopped = false;

  constructor(private readonly file: string) {
    this.framing = new TfRecordReader(file);
  }

  /** File offset up to which whole records have been read. */
  get offset(): number {
    return this.framing.offset;
  }

  get failed(): boolean {
    return this.stopped || this.framing.failed;
  }

  /** Give it the bytes appended since the last call; returns the scalars of the records they complete. */
  push(chunk: Uint8Array): EventChunk {
    if (this.stopped) return { scalars: [], records: 0 };
    const scalars: ScalarPoint[] = [];
    let decoded = 0;
    try {
      const { error } = this.framing.pushEach(chunk, (buf, start, end) => {
        this.scanner.scan(buf, start, end, scalars);
        decoded++;
      });
      return error ? { scalars, records: decoded, error } : { scalars, records: decoded };
    } catch (e) {
      // The scanner refused a record whose CRCs passed; the framing's offset is still that record's.
      this.stopped = true;
      return { scalars, records: decoded, error: `${this.file}: record at byte ${this.framing.offset} is not a TensorBoard Event (${(e as Error).message}); read stops there` };
    }
  }
}

/** All scalars of an event file held in memory; `wholeBytes` is how far whole records reached. */
export function readEventBytes(file: string, bytes: Uint8Array): EventChunk & { wholeBytes: number } {
  const r = new EventFileReader(file);
  const out = r.push(bytes);
  return { ...out, wholeBytes: r.offset };
}
