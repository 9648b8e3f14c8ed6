// The parts of TensorFlow's Event protobuf that carry scalars (tensorflow/core/util/event.proto,
// summary.proto, tensor.proto), decoded with protobufjs. Fields not listed here (graphs, images,
// histograms, plugin metadata) are skipped by the decoder as unknown fields.

import * as protobuf from 'protobufjs';

export const EVENT_PROTO = `
syntax = "proto3";
package tensorboard;
message Event {
  double wall_time = 1;
  int64 step = 2;
  string file_version = 3;
  Summary summary = 5;
}
message Summary {
  repeated Value value = 1;
  message Value {
    string node_name = 7;
    string tag = 1;
    float simple_value = 2;
    // Other kinds of value, kept as raw bytes only to tell them from a scalar 0 (proto3 writers
    // leave a zero simple_value off the wire).
    bytes obsolete_old_style_histogram = 3;
    bytes image = 4;
    bytes histo = 5;
    bytes audio = 6;
    TensorProto tensor = 8;
  }
}
message TensorShapeProto {
  message Dim { int64 size = 1; string name = 2; }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
}
`;

const root = protobuf.parse(EVENT_PROTO, { keepCase: true }).root;
export const EventType = root.lookupType('tensorboard.Event');
const TensorType = root.lookupType('tensorboard.TensorProto');

/** TensorFlow's DataType numbers for the two scalar types a summary writer uses. */
export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;

export interface ScalarPoint {
  tag: string;
  step: number;
  wallTime: number;
  value: number;
}

// The decoded messages, read in place: protobufjs sets only the fields that were on the wire and
// leaves proto3 defaults on the prototype, so presence is an own property. Reading them directly
// rather than through toObject() halves the cost per record.
interface DecodedTensor {
  dtype: number;
  tensor_shape: { dim: { size: number | { toNumber(): number } }[] } | null;
  tensor_content: Uint8Array;
  float_val: number[];
  double_val: number[];
}

interface DecodedValue {
  tag: string;
  simple_value: number;
  tensor: DecodedTensor | null;
}

interface DecodedEvent {
  wall_time: number;
  step: number | { toNumber(): number };
  summary: { value: DecodedValue[] } | null;
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const int64 = (v: number | { toNumber(): number }): number => (typeof v === 'number' ? v : v.toNumber());
/** Values that are something else than a scalar; present only to tell them from a scalar 0. */
const NOT_SCALAR = ['image', 'histo', 'audio', 'obsolete_old_style_histogram'];

/** A rank-0 (or one-element) float/double tensor's value; undefined for anything else (text, histograms). */
function tensorScalar(t: DecodedTensor): number | undefined {
  const dims = t.tensor_shape?.dim ?? [];
  let n = 1;
  for (const d of dims) n *= int64(d.size);
  if (n !== 1) return undefined;
  const c = t.tensor_content;
  if (t.dtype === DT_FLOAT) {
    if (t.float_val.length) return t.float_val[0];
    if (c.length === 4) return new DataView(c.buffer, c.byteOffset, 4).getFloat32(0, true);
  } else if (t.dtype === DT_DOUBLE) {
    if (t.double_val.length) return t.double_val[0];
    if (c.length === 8) return new DataView(c.buffer, c.byteOffset, 8).getFloat64(0, true);
  }
  return undefined;
}

/**
 * The scalars one Event record holds (none for the file-version header or a graph), through
 * protobufjs' reflection decoder: every field of every message becomes an object. Throws on bytes
 * that are not an Event. The reference for ScalarScanner below, and its fallback.
 */
export function scalarsOfEvent(bytes: Uint8Array): ScalarPoint[] {
  const ev = EventType.decode(bytes) as unknown as DecodedEvent;
  const values = ev.summary?.value;
  if (!values?.length) return [];
  const step = int64(ev.step);
  const out: ScalarPoint[] = [];
  for (const v of values) {
    if (!v.tag) continue;
    let value: number | undefined;
    if (v.tensor) value = tensorScalar(v.tensor);
    else if (!NOT_SCALAR.some((k) => own(v, k))) value = v.simple_value;
    if (value === undefined) continue;
    out.push({ tag: v.tag, step, wallTime: ev.wall_time, value });
  }
  return out;
}

// Wire types (protobuf encoding): what follows a field's tag.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/**
 * The scalars of Event records read straight off the wire with protobufjs' Reader, the way
 * protobufjs' static code generator decodes (a switch on each field's number), but building no
 * message objects: only `wall_time`, `step` and each Summary.Value's tag and simple_value are
 * read, and every other field (a graph, an image, a histogram, plugin metadata) is skipped by its
 * length without being decoded. A tensor value is handed to the reflection decoder (it is small),
 * and so is any record whose wire types are not the ones the schema declares, so the two agree on
 * every input (test/unit/foreign/scalarScanner.test.ts compares them). One scanner per reader: the
 * protobufjs Reader is reused across records instead of one per record.
 */
const TAG_CACHE = 1024;

export class ScalarScanner {
  private readonly r = new protobuf.Reader(new Uint8Array(0));
  /**
   * Tag strings by their length and first, middle and last byte (the bytes are compared before a
   * hit counts): a file repeats a few tags a million times. Emptied past TAG_CACHE entries, so a
   * file of ever-new tags costs a decode per tag, not memory.
   */
  private readonly tags = new Map<number, { bytes: Uint8Array; tag: string }>();

  /** Appends the scalars of the Event in buf[start, end) to `out`. Throws on bytes that are not an Event. */
  scan(buf: Uint8Array, start: number, end: number, out: ScalarPoint[]): void {
    const r = this.r;
    r.buf = buf;
    r.view = null;
    r.pos = start;
    r.len = end;
    let wallTime = 0;
    let step = 0;
    let sumStart = -1;
    let sumEnd = -1;
    while (r.pos < end) {
      const t = this.fieldTag();
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 1 && wire === FIXED64) wallTime = r.double();
      else if (field === 2 && wire === VARINT) step = this.int64();
      else if (field === 5 && wire === LEN) {
        if (sumStart >= 0) return this.generic(buf, start, end, out); // a second Summary merges into the first
        const n = this.size();
        sumStart = r.pos;
        sumEnd = sumStart + n;
        if (sumEnd > end) return this.generic(buf, start, end, out);
        r.pos = sumEnd;
      } else if (field === 0 || field === 1 || field === 2 || field === 5 || (field === 3 && wire !== LEN)) {
        // A declared field with another wire type than the schema's: the reflection decoder decides.
        return this.generic(buf, start, end, out);
      } else if (field === 3) this.strictString();
      else r.skipType(wire, 0, field);
    }
    if (sumStart < 0) return;
    const first = out.length;
    r.pos = sumStart;
    r.len = sumEnd;
    while (r.pos < sumEnd) {
      const t = this.fieldTag();
      if (t >>> 3 !== 1 || (t & 7) !== LEN) {
        if ((t >>> 3) === 1 || (t >>> 3) === 0) return this.redo(buf, start, end, out, first);
        r.skipType(t & 7, 1, t >>> 3);
        continue;
      }
      const n = this.size();
      const vEnd = r.pos + n;
      if (vEnd > sumEnd) return this.redo(buf, start, end, out, first);
      let tag = '';
      let value = 0;
      /** Bit f set: field f (obsolete histogram, image, histo, audio) was last written non-empty. */
      let notScalar = 0;
      let tensorStart = -1;
      let tensorEnd = -1;
      while (r.pos < vEnd) {
        const vt = this.fieldTag();
        const f = vt >>> 3;
        const w = vt & 7;
        if (f === 1 && w === LEN) tag = this.tag(this.size());
        else if (f === 2 && w === FIXED32) value = r.float();
        else if (f === 8 && w === LEN) {
          if (tensorStart >= 0) return this.redo(buf, start, end, out, first); // a second tensor merges into the first
          const m = this.size();
          tensorStart = r.pos;
          tensorEnd = r.pos + m;
          r.pos = tensorEnd;
        } else if (f >= 3 && f <= 6 && w === LEN) {
          // protobufjs drops a bytes field whose last value is empty (proto3's default), so only a
          // non-empty one makes the value something else than a scalar.
          const m = this.size();
          if (r.pos + m > r.len) throw new RangeError(`index out of range: ${r.pos} + ${m} > ${r.len}`);
          r.pos += m;
          notScalar = m > 0 ? notScalar | (1 << f) : notScalar & ~(1 << f);
        } else if (f === 7 && w === LEN) this.strictString();
        else if (f === 0 || f <= 8) return this.redo(buf, start, end, out, first);
        else r.skipType(w, 2, f);
      }
      if (r.pos !== vEnd || tensorEnd > vEnd) return this.redo(buf, start, end, out, first);
      if (!tag) {
        // Nothing to keep, but a malformed tensor still makes the record malformed.
        if (tensorStart >= 0) TensorType.decode(buf.subarray(tensorStart, tensorEnd));
        continue;
      }
      if (tensorStart >= 0) {
        const v = this.rankZero(tensorStart, tensorEnd) ?? tensorScalar(TensorType.decode(buf.subarray(tensorStart, tensorEnd)) as unknown as DecodedTensor);
        if (v !== undefined) out.push({ tag, step, wallTime, value: v });
      } else if (!notScalar) {
        out.push({ tag, step, wallTime, value });
      }
    }
  }

  /**
   * The common TF2 scalar, a TensorProto of dtype float or double with an empty shape and its one
   * value in float_val, double_val or tensor_content, read in place; undefined for anything else
   * (which the reflection decoder then reads, to the same result or none). Leaves the reader's
   * position where it found it.
   */
  private rankZero(start: number, end: number): number | undefined {
    const r = this.r;
    const pos = r.pos;
    const len = r.len;
    r.pos = start;
    r.len = end;
    let dtype = 0;
    let value: number | undefined;
    let other = false;
    try {
      while (r.pos < end && !other) {
        const t = this.fieldTag();
        const f = t >>> 3;
        const w = t & 7;
        if (f === 1 && w === VARINT) dtype = r.uint32();
        else if (f === 2 && w === LEN) other = r.uint32() !== 0; // a shape with dims: not rank 0 here
        else if (f === 3 && w === VARINT) r.uint32();
        else if ((f === 4 || f === 5 || f === 6) && w === LEN) {
          const n = r.uint32();
          const at = r.pos;
          r.pos = at + n;
          if (value !== undefined || r.pos > end) other = true;
          else if ((f === 5 || (f === 4 && dtype === DT_FLOAT)) && n === 4) value = protobuf.util.float.readFloatLE(r.buf, at);
          else if ((f === 6 || (f === 4 && dtype === DT_DOUBLE)) && n === 8) value = protobuf.util.float.readDoubleLE(r.buf, at);
          else other = true;
          // float_val is only the value of a float tensor, double_val of a double one.
          if ((f === 5 && dtype !== DT_FLOAT) || (f === 6 && dtype !== DT_DOUBLE)) other = true;
        } else other = true;
      }
    } catch {
      other = true;
    }
    if (r.pos !== end) other = true;
    r.pos = pos;
    r.len = len;
    return other || (dtype !== DT_FLOAT && dtype !== DT_DOUBLE) ? undefined : value;
  }

  private generic(buf: Uint8Array, start: number, end: number, out: ScalarPoint[]): void {
    for (const s of scalarsOfEvent(buf.subarray(start, end))) out.push(s);
  }

  /** Undoes what this record appended and decodes it the reflection way. */
  private redo(buf: Uint8Array, start: number, end: number, out: ScalarPoint[], first: number): void {
    out.length = first;
    this.generic(buf, start, end, out);
  }

  /** protobufjs' own tag and length readers: they refuse what its reflection decoder refuses. */
  private fieldTag(): number {
    return this.r.tag();
  }

  private size(): number {
    return this.r.size();
  }

  /** Reads past a string field, refusing invalid UTF-8 as the reflection decoder does (file_version, node_name). */
  private strictString(): void {
    (this.r as unknown as { stringVerify(): string }).stringVerify();
  }

  /** An int64 varint as a number; the 1–4 byte ones (steps below 2^28) without protobufjs' Long. */
  private int64(): number {
    const r = this.r;
    const at = r.pos;
    const b = r.buf;
    let v = 0;
    for (let i = 0; i < 4 && at + i < r.len; i++) {
      v |= (b[at + i] & 0x7f) << (7 * i);
      if (b[at + i] < 0x80) {
        r.pos = at + i + 1;
        return v;
      }
    }
    return int64(r.int64() as unknown as number | { toNumber(): number });
  }

  /** A UTF-8 tag of `n` bytes at the reader's position, decoded once per distinct tag. */
  private tag(n: number): string {
    const r = this.r;
    const at = r.pos;
    if (at + n > r.len) throw new RangeError(`index out of range: ${at} + ${n} > ${r.len}`);
    r.pos = at + n;
    const b = r.buf;
    const key = n ? ((n * 256 + b[at]) * 256 + b[at + n - 1]) * 256 + b[at + (n >> 1)] : 0;
    const hit = this.tags.get(key);
    if (hit) {
      const hb = hit.bytes;
      let same = true;
      for (let i = n - 1; i >= 0; i--) {
        if (hb[i] !== b[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return hit.tag;
    }
    if (this.tags.size >= TAG_CACHE) this.tags.clear();
    const bytes = b.slice(at, at + n);
    // Strict, as the reflection decoder reads a proto3 string: invalid UTF-8 refuses the record.
    const tag = (protobuf.util.utf8 as unknown as { readStrict(b: Uint8Array, s: number, e: number): string }).readStrict(bytes, 0, n);
    this.tags.set(key, { bytes, tag });
    return tag;
  }
}
