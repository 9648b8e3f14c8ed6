// TFRecord framing: uint64 LE length, masked CRC-32C of those 8 bytes, the data, masked CRC-32C of
// the data. A writer that is still running (or was killed) leaves a partial last record: it is
// kept back until its bytes arrive, never reported as an error. A CRC that does not match means
// the framing can no longer be trusted, so reading stops there with one error.

import { maskedCrc32c } from './crc32c';

const HEADER = 12;
const FOOTER = 4;
/** Far above any scalar event; a length past it is corruption that the length CRC missed. */
const MAX_RECORD = 1 << 30;

export interface TfRecordChunk {
  /** Payloads of the whole records completed by this append, in file order. */
  records: Uint8Array[];
  /** Set once, by the append that met a bad record; later appends return nothing. */
  error?: string;
}

/** Sees one record's payload, buf[start, end); the bytes are valid only during the call. */
export type RecordVisitor = (buf: Uint8Array, start: number, end: number) => void;

/** A copy, also of a Node Buffer (whose slice() is a view). */
function copyOf(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Incremental reader: give it the bytes appended since the last call, it returns the records they
 * complete. It holds back only the bytes of the unfinished last record, so following a growing
 * file costs the new bytes, and memory stays bounded by the largest record.
 */
export class TfRecordReader {
  /** Bytes of whole records consumed so far (the file offset of the next record). */
  offset = 0;
  private pending: Uint8Array[] = [];
  private pendingLen = 0;
  private broken = false;

  constructor(private readonly file: string) {}

  get failed(): boolean {
    return this.broken;
  }

  /** Bytes received but not yet part of a whole record (a truncated or still-growing tail). */
  get heldBack(): number {
    return this.pendingLen;
  }

  /**
   * `chunk` is not kept: the caller may reuse its buffer once this returns (the records returned
   * are views into it, to be decoded before then).
   */
  push(chunk: Uint8Array): TfRecordChunk {
    const records: Uint8Array[] = [];
    const { error } = this.pushEach(chunk, (buf, start, end) => void records.push(buf.subarray(start, end)));
    return error ? { records, error } : { records };
  }

  /**
   * As push(), but hands each whole record's payload to `visit` as buf[start, end) instead of
   * making a view per record (a million small records make a million views otherwise). `visit`
   * runs before `offset` moves past its record, so a visitor that throws leaves `offset` at the
   * start of the record it refused.
   */
  pushEach(chunk: Uint8Array, visit: RecordVisitor): { records: number; error?: string } {
    if (this.broken || chunk.length === 0) return { records: 0 };
    let count = 0;
    let at = 0;
    if (this.pendingLen) {
      const held = this.pendingLen;
      this.pending.push(chunk);
      this.pendingLen += chunk.length;
      const needed = this.needed();
      // Gathering only once the held record is complete keeps a large record spread over many
      // appends from being copied once per append.
      if (needed === undefined || this.pendingLen < needed) {
        this.pending[this.pending.length - 1] = copyOf(chunk);
        return { records: 0 };
      }
      // Only the record that straddles the appends is joined; the rest is read in place.
      const first = new Uint8Array(needed);
      let o = 0;
      for (let i = 0; i < this.pending.length - 1; i++) {
        first.set(this.pending[i], o);
        o += this.pending[i].length;
      }
      first.set(chunk.subarray(0, needed - held), o);
      this.pending = [];
      this.pendingLen = 0;
      const got = this.scan(first, 0, visit);
      count += got.records;
      if (got.error) return { records: count, error: got.error };
      at = needed - held;
    }
    const got = this.scan(chunk, at, visit);
    count += got.records;
    if (got.error) return { records: count, error: got.error };
    // A copy: the caller may refill its buffer, and a short tail should not keep it alive.
    const rest = copyOf(chunk.subarray(got.at));
    this.pending = rest.length ? [rest] : [];
    this.pendingLen = rest.length;
    return { records: count };
  }

  /** Whole records of buf from `at` on, to `visit`; stops at an incomplete one, or at a bad one with an error. */
  private scan(buf: Uint8Array, at: number, visit: RecordVisitor): { at: number; records: number; error?: string } {
    let records = 0;
    while (buf.length - at >= HEADER) {
      if (maskedCrc32c(buf, at, at + 8) !== u32(buf, at + 8)) return { at, records, error: this.fail('length CRC mismatch') };
      const len = u32(buf, at + 4) * 2 ** 32 + u32(buf, at);
      if (len > MAX_RECORD) return { at, records, error: this.fail(`record length ${len} is implausible`) };
      const end = at + HEADER + len + FOOTER;
      if (end > buf.length) break;
      const dataStart = at + HEADER;
      if (maskedCrc32c(buf, dataStart, dataStart + len) !== u32(buf, dataStart + len)) return { at, records, error: this.fail('data CRC mismatch') };
      visit(buf, dataStart, dataStart + len);
      records++;
      this.offset += end - at;
      at = end;
    }
    return { at, records };
  }

  /** Bytes the held-back record needs in all, once its header is in; undefined before that. */
  private needed(): number | undefined {
    if (this.pendingLen < HEADER) return undefined;
    let head = this.pending[0];
    if (head.length < HEADER) {
      // The header straddles appends: gather its 12 bytes without touching what is held.
      head = new Uint8Array(HEADER);
      let o = 0;
      for (const p of this.pending) {
        const n = Math.min(p.length, HEADER - o);
        head.set(p.subarray(0, n), o);
        o += n;
        if (o === HEADER) break;
      }
    }
    const len = u32(head, 4) * 2 ** 32 + u32(head, 0);
    // A corrupt length must reach the CRC check now, not be waited for.
    return len > MAX_RECORD ? HEADER : HEADER + len + FOOTER;
  }

  private fail(why: string): string {
    this.broken = true;
    this.pending = [];
    this.pendingLen = 0;
    return `${this.file}: corrupt record at byte ${this.offset} (${why}); read stops there`;
  }
}
