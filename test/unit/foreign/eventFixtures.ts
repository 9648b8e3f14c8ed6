// Writes TensorBoard event files the way a TF writer does: Event protobufs encoded with protobufjs
// (the same message types the reader decodes), framed as TFRecords with masked CRC-32C.
import { maskedCrc32c } from '../../../src/shared/foreign/crc32c';
import { EventType } from '../../../src/shared/foreign/eventProto';

export function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length, true);
  dv.setUint32(4, 0, true);
  dv.setUint32(8, maskedCrc32c(out, 0, 8), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export type FixtureValue = { tag: string; simple_value?: number; tensor?: Record<string, unknown>; image?: Uint8Array };

export function eventBytes(ev: { wall_time?: number; step?: number; file_version?: string; values?: FixtureValue[] }): Uint8Array {
  const msg: Record<string, unknown> = { wall_time: ev.wall_time ?? 0, step: ev.step ?? 0 };
  if (ev.file_version) msg.file_version = ev.file_version;
  if (ev.values) msg.summary = { value: ev.values };
  return frame(EventType.encode(EventType.create(msg)).finish());
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An event file as the reference writes it: the version header, then per-epoch scalars. */
export function referenceEventFile(epochs: { epoch: number; scalars: Record<string, number> }[], t0 = 1_700_000_000): Uint8Array {
  const parts = [eventBytes({ wall_time: t0, file_version: 'brain.Event:2' })];
  for (const e of epochs) {
    for (const [tag, v] of Object.entries(e.scalars)) parts.push(eventBytes({ wall_time: t0 + e.epoch + 0.5, step: e.epoch, values: [{ tag, simple_value: v }] }));
  }
  return concat(parts);
}
