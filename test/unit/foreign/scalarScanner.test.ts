// The wire-level scalar scanner (ScalarScanner, the fast path of every event-file read) against
// protobufjs' reflection decoder (scalarsOfEvent): on every record of the real-writer fixtures, on
// the encodings our own tests build, and on a few thousand mutations of them, the two must give
// the same scalars or both refuse the record.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ScalarScanner, scalarsOfEvent, type ScalarPoint } from '../../../src/shared/foreign/eventProto';
import { TfRecordReader } from '../../../src/shared/foreign/tfrecord';
import { eventBytes } from './eventFixtures';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/foreign');

function recordsOf(file: Uint8Array): Uint8Array[] {
  return new TfRecordReader('f').push(file).records.map((r) => r.slice());
}

function both(rec: Uint8Array): { fast: ScalarPoint[] | string; slow: ScalarPoint[] | string } {
  let fast: ScalarPoint[] | string;
  let slow: ScalarPoint[] | string;
  try {
    fast = [];
    new ScalarScanner().scan(rec, 0, rec.length, fast);
  } catch {
    fast = 'refused';
  }
  try {
    slow = scalarsOfEvent(rec);
  } catch {
    slow = 'refused';
  }
  return { fast, slow };
}

/** Same scalars; NaN equals NaN (a mutated float can be one). */
function same(a: ScalarPoint[] | string, b: ScalarPoint[] | string): boolean {
  return JSON.stringify(a, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v));
}

const le = (arr: Float32Array | Float64Array): Uint8Array => new Uint8Array(arr.buffer);

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const run of ['reference-run', 'tensorboard-run', 'reference-leak']) {
    const dir = path.join(FIXTURES, run);
    const name = fs.readdirSync(dir).find((n) => n.startsWith('events.out'))!;
    out.push(...recordsOf(fs.readFileSync(path.join(dir, name))));
  }
  const made = [
    eventBytes({ wall_time: 1.5, file_version: 'brain.Event:2' }),
    eventBytes({ wall_time: 2.25, step: 3, values: [{ tag: 'Train/loss', simple_value: 2.718 }, { tag: 'Train/acc', simple_value: 0 }] }),
    eventBytes({ step: 2 ** 40 + 7, values: [{ tag: 'x', simple_value: 1 }] }),
    eventBytes({ step: 5, values: [{ tag: 'double_val', tensor: { dtype: 2, tensor_shape: {}, double_val: [0.1] } }] }),
    eventBytes({ step: 6, values: [{ tag: 'content_f', tensor: { dtype: 1, tensor_content: le(new Float32Array([1.25])) } }] }),
    eventBytes({ step: 7, values: [{ tag: 'content_d', tensor: { dtype: 2, tensor_shape: { dim: [{ size: 1 }] }, tensor_content: le(new Float64Array([1e-3])) } }] }),
    eventBytes({ step: 8, values: [{ tag: 'img', image: new Uint8Array([1, 2, 3]) }, { tag: 'ü/tag', simple_value: 4 }] }),
    eventBytes({ step: 9, values: [{ tag: 'vec', tensor: { dtype: 1, tensor_shape: { dim: [{ size: 2 }] }, float_val: [1, 2] } }] }),
    eventBytes({ step: 10, values: [{ tag: 'text', tensor: { dtype: 7, tensor_shape: {} } }, { tag: '', simple_value: 3 }] }),
  ];
  for (const m of made) out.push(...recordsOf(m));
  return out;
}

/** A small seeded generator, so a failure names a reproducible case. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('the wire-level scalar scanner agrees with protobufjs\' reflection decoder', () => {
  it('on every record of the real-writer fixtures and of our own encodings', () => {
    const recs = corpus();
    assert.ok(recs.length > 100);
    let scalars = 0;
    recs.forEach((rec, i) => {
      const { fast, slow } = both(rec);
      assert.ok(same(fast, slow), `record ${i}: ${JSON.stringify(fast)} vs ${JSON.stringify(slow)}`);
      if (Array.isArray(fast)) scalars += fast.length;
    });
    assert.ok(scalars > 200);
  });

  it('on 20,000 mutations of them (flipped bits, changed bytes, cut ends): the same scalars or both refuse', () => {
    const recs = corpus();
    const rnd = lcg(18);
    let refusedBoth = 0;
    for (let k = 0; k < 20000; k++) {
      const rec = recs[Math.floor(rnd() * recs.length)].slice();
      const kind = rnd();
      if (rec.length === 0) continue;
      const at = Math.floor(rnd() * rec.length);
      let m = rec;
      if (kind < 0.4) rec[at] ^= 1 << Math.floor(rnd() * 8);
      else if (kind < 0.8) rec[at] = Math.floor(rnd() * 256);
      else m = rec.subarray(0, at);
      const { fast, slow } = both(m);
      if (fast === 'refused' && slow === 'refused') refusedBoth++;
      assert.ok(same(fast, slow), `mutation ${k} (${Buffer.from(m).toString('hex')}): ${JSON.stringify(fast)} vs ${JSON.stringify(slow)}`);
    }
    assert.ok(refusedBoth > 100, 'mutations reach the refusal path too');
  });

  it('one scanner reused over records with tags that share length, first and last byte keeps them apart', () => {
    const sc = new ScalarScanner();
    const out: ScalarPoint[] = [];
    for (const tag of ['Train/acc', 'Test/xacc', 'Train/acc', 'Tr/ab/acc']) {
      const rec = recordsOf(eventBytes({ step: 1, values: [{ tag, simple_value: 1 }] }))[0];
      sc.scan(rec, 0, rec.length, out);
    }
    assert.deepEqual(out.map((p) => p.tag), ['Train/acc', 'Test/xacc', 'Train/acc', 'Tr/ab/acc']);
  });
});
