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

interface DecodedTensor {
  dtype?: number;
  tensor_shape?: { dim?: { size?: number }[] };
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
}

interface DecodedEvent {
  wall_time?: number;
  step?: number;
  file_version?: string;
  summary?: { value?: { tag?: string; simple_value?: number; tensor?: DecodedTensor; obsolete_old_style_histogram?: unknown; image?: unknown; histo?: unknown; audio?: unknown }[] };
}

/** A rank-0 (or one-element) float/double tensor's value; undefined for anything else (text, histograms). */
function tensorScalar(t: DecodedTensor): number | undefined {
  const dims = t.tensor_shape?.dim ?? [];
  if (dims.reduce((n, d) => n * Number(d.size ?? 0), 1) !== 1) return undefined;
  if (t.dtype === DT_FLOAT) {
    if (t.float_val?.length) return t.float_val[0];
    const c = t.tensor_content;
    if (c && c.length === 4) return new DataView(c.buffer, c.byteOffset, 4).getFloat32(0, true);
  } else if (t.dtype === DT_DOUBLE) {
    if (t.double_val?.length) return t.double_val[0];
    const c = t.tensor_content;
    if (c && c.length === 8) return new DataView(c.buffer, c.byteOffset, 8).getFloat64(0, true);
  }
  return undefined;
}

/** The scalars one Event record holds (none for the file-version header or a graph). Throws on bytes that are not an Event. */
export function scalarsOfEvent(bytes: Uint8Array): ScalarPoint[] {
  const msg = EventType.decode(bytes);
  const ev = EventType.toObject(msg, { longs: Number, bytes: Uint8Array as unknown as typeof String }) as DecodedEvent;
  const values = ev.summary?.value ?? [];
  const out: ScalarPoint[] = [];
  for (const v of values) {
    if (!v.tag) continue;
    let value: number | undefined;
    if (v.tensor) value = tensorScalar(v.tensor);
    else if (v.image === undefined && v.histo === undefined && v.audio === undefined && v.obsolete_old_style_histogram === undefined) value = v.simple_value ?? 0;
    if (value === undefined) continue;
    out.push({ tag: v.tag, step: ev.step ?? 0, wallTime: ev.wall_time ?? 0, value });
  }
  return out;
}
