import * as assert from 'node:assert/strict';
import { crc32c, maskCrc, maskedCrc32c } from '../../../src/shared/foreign/crc32c';
import { EventFileReader, readEventBytes } from '../../../src/shared/foreign/eventFileReader';
import { TfRecordReader } from '../../../src/shared/foreign/tfrecord';
import { concat, eventBytes, frame } from './eventFixtures';

const f32 = (x: number): number => new Float32Array([x])[0];
const le = (arr: Float32Array | Float64Array): Uint8Array => new Uint8Array(arr.buffer);

describe('TensorBoard event files', () => {
  it("CRC-32C matches the standard check value, and a masked CRC matches a real event file's header", () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    // Every TF event file opens with the 24-byte file_version record, whose header reads
    // 18 00 00 00 00 00 00 00 a3 7f 4b 22: the masked CRC of that length.
    assert.equal(maskedCrc32c(new Uint8Array([0x18, 0, 0, 0, 0, 0, 0, 0])), 0x224b7fa3);
    assert.equal(maskCrc(0), 0xa282ead8);
  });

  it('reads the values written, as simple_value and as rank-0 float/double tensors', () => {
    const file = concat([
      eventBytes({ wall_time: 1.5, file_version: 'brain.Event:2' }),
      eventBytes({ wall_time: 2.25, step: 3, values: [{ tag: 'Train/loss', simple_value: 2.718 }, { tag: 'Train/acc', simple_value: 0 }] }),
      eventBytes({ step: 4, values: [{ tag: 'float_val', tensor: { dtype: 1, tensor_shape: {}, float_val: [0.375] } }] }),
      eventBytes({ step: 5, values: [{ tag: 'double_val', tensor: { dtype: 2, tensor_shape: {}, double_val: [0.1] } }] }),
      eventBytes({ step: 6, values: [{ tag: 'content_f', tensor: { dtype: 1, tensor_content: le(new Float32Array([1.25])) } }] }),
      eventBytes({ step: 7, values: [{ tag: 'content_d', tensor: { dtype: 2, tensor_shape: { dim: [] }, tensor_content: le(new Float64Array([1e-3])) } }] }),
      // Not scalars: an image, a 2-element tensor, a string tensor.
      eventBytes({ step: 8, values: [{ tag: 'img', image: new Uint8Array([1, 2, 3]) }] }),
      eventBytes({ step: 9, values: [{ tag: 'vec', tensor: { dtype: 1, tensor_shape: { dim: [{ size: 2 }] }, float_val: [1, 2] } }] }),
      eventBytes({ step: 10, values: [{ tag: 'text', tensor: { dtype: 7, tensor_shape: {} } }] }),
    ]);
    const got = readEventBytes('events.out.tfevents.1', file);
    assert.equal(got.error, undefined);
    assert.equal(got.records, 9);
    assert.equal(got.wholeBytes, file.length);
    assert.deepEqual(got.scalars, [
      { tag: 'Train/loss', step: 3, wallTime: 2.25, value: f32(2.718) },
      // proto3 leaves a zero simple_value off the wire: it is still a scalar 0.
      { tag: 'Train/acc', step: 3, wallTime: 2.25, value: 0 },
      { tag: 'float_val', step: 4, wallTime: 0, value: 0.375 },
      { tag: 'double_val', step: 5, wallTime: 0, value: 0.1 },
      { tag: 'content_f', step: 6, wallTime: 0, value: 1.25 },
      { tag: 'content_d', step: 7, wallTime: 0, value: 1e-3 },
    ]);
  });

  it('reads a step beyond 2^32 (int64) exactly', () => {
    const got = readEventBytes('f', eventBytes({ step: 2 ** 40 + 7, values: [{ tag: 'x', simple_value: 1 }] }));
    assert.equal(got.scalars[0].step, 2 ** 40 + 7);
  });

  it('a corrupted data CRC stops the read there with one error naming the file and the offset', () => {
    const recs = [0, 1, 2, 3].map((s) => eventBytes({ step: s, values: [{ tag: 'Test/acc', simple_value: s }] }));
    const file = concat(recs);
    const at = recs[0].length + recs[1].length;
    file[at + 14] ^= 0x40; // a byte of record 2's data
    const r = new EventFileReader('/runs/ref/events.out.tfevents.9');
    const got = r.push(file);
    assert.deepEqual(got.scalars.map((s) => s.step), [0, 1]);
    assert.equal(got.error, `/runs/ref/events.out.tfevents.9: corrupt record at byte ${at} (data CRC mismatch); read stops there`);
    assert.equal(r.failed, true);
    assert.deepEqual(r.push(recs[3]), { scalars: [], records: 0 });
  });

  it('a corrupted length CRC is reported at once, not waited on as a huge record', () => {
    const rec = eventBytes({ step: 1, values: [{ tag: 'a', simple_value: 1 }] });
    rec[5] = 0x7f; // high bytes of the length: 2^54-ish bytes "to come"
    const r = new TfRecordReader('f');
    const got = r.push(rec);
    assert.match(got.error ?? '', /^f: corrupt record at byte 0 \(length CRC mismatch\)/);
  });

  it('a truncated last record is held back, and read whole once its bytes arrive', () => {
    const recs = [0, 1, 2].map((s) => eventBytes({ step: s, values: [{ tag: 'Train/loss', simple_value: s + 0.5 }] }));
    const file = concat(recs);
    const cut = file.length - 5;
    const r = new EventFileReader('f');
    const first = r.push(file.subarray(0, cut));
    assert.equal(first.error, undefined);
    assert.deepEqual(first.scalars.map((s) => s.step), [0, 1]);
    assert.equal(r.offset, recs[0].length + recs[1].length);
    const rest = r.push(file.subarray(cut));
    assert.deepEqual(rest.scalars.map((s) => [s.step, s.value]), [[2, 2.5]]);
    assert.equal(r.offset, file.length);
  });

  it('byte-by-byte appends give the same scalars as one read', () => {
    const file = concat([0, 1, 2, 3, 4].map((s) => eventBytes({ wall_time: 10 + s, step: s, values: [{ tag: 'Test/loss', simple_value: s / 4 }, { tag: 'Test/acc', simple_value: 50 + s }] })));
    const whole = readEventBytes('f', file).scalars;
    const r = new EventFileReader('f');
    const pieces = [];
    for (let i = 0; i < file.length; i++) pieces.push(...r.push(file.subarray(i, i + 1)).scalars);
    assert.equal(whole.length, 10);
    assert.deepEqual(pieces, whole);
  });

  it('a record whose CRCs pass but which is not an Event is one error too', () => {
    const junk = frame(new Uint8Array([0xff, 0xff, 0xff]));
    const got = new EventFileReader('g').push(concat([eventBytes({ step: 1, values: [{ tag: 'a', simple_value: 1 }] }), junk]));
    assert.equal(got.scalars.length, 1);
    assert.match(got.error ?? '', /^g: record at byte \d+ is not a TensorBoard Event \(/);
  });
});

describe('TensorBoard event files: a caller that reuses its read buffer', () => {
  it('bytes held back between appends are the reader\'s own copy, not a view of the caller\'s buffer', () => {
    const file = concat([0, 1, 2, 3, 4, 5].map((s) => eventBytes({ step: s, values: [{ tag: 'Test/acc', simple_value: s }] })));
    const r = new EventFileReader('f');
    const buf = Buffer.alloc(7); // like a follower's fixed read buffer (a Buffer: its slice() is a view), refilled for every read
    const steps: number[] = [];
    for (let at = 0; at < file.length; at += buf.length) {
      const n = Math.min(buf.length, file.length - at);
      buf.set(file.subarray(at, at + n));
      const got = r.push(buf.subarray(0, n));
      assert.equal(got.error, undefined);
      steps.push(...got.scalars.map((s) => s.step));
      buf.fill(0xee);
    }
    assert.deepEqual(steps, [0, 1, 2, 3, 4, 5]);
  });
});

describe('TensorBoard event files: corruption met across appends', () => {
  it('a bad record split over two appends is reported at its own offset, after the good ones', () => {
    const recs = [0, 1, 2].map((s) => eventBytes({ step: s, values: [{ tag: 'Test/acc', simple_value: s }] }));
    const file = concat(recs);
    const bad = recs[0].length + recs[1].length;
    file[file.length - 2] ^= 0x01; // record 2's data CRC
    const r = new EventFileReader('h');
    const a = r.push(file.subarray(0, bad + 5));
    const b = r.push(file.subarray(bad + 5));
    assert.deepEqual([...a.scalars, ...b.scalars].map((s) => s.step), [0, 1]);
    assert.equal(a.error, undefined);
    assert.equal(b.error, `h: corrupt record at byte ${bad} (data CRC mismatch); read stops there`);
  });

  it('a length whose CRC passes but is past 1 GiB is refused at once rather than waited for', () => {
    const head = new Uint8Array(12);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, 0, true);
    dv.setUint32(4, 1, true); // 2^32 bytes
    dv.setUint32(8, maskedCrc32c(head, 0, 8), true);
    const got = new TfRecordReader('big').push(head);
    assert.equal(got.error, 'big: corrupt record at byte 0 (record length 4294967296 is implausible); read stops there');
  });
});
