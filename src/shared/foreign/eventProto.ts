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

/** The scalars one Event record holds (none for the file-version header or a graph). Throws on bytes that are not an Event. */
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
