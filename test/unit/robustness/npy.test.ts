import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, openNpy, readNpy, toInt32 } from '../../../src/engine/robustness/npy';
import { openCifar10C } from '../../../src/engine/robustness/cifar10c';

/** A .npy written byte by byte as numpy would, independent of encodeNpy. */
function handWritten(version: 1 | 2 | 3, header: string, payload: Uint8Array): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  out[8] = h.length & 0xff;
  out[9] = h.length >> 8;
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  out.set(payload, pre + h.length);
  return out;
}

describe('robustness: .npy reader', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'npy-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a hand-written v1 uint8 4-D array in C order', () => {
    const payload = Uint8Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => (i * 7) % 256);
    const bytes = handWritten(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3, 3), }", payload);
    const a = readNpy(bytes, 'x.npy');
    assert.equal(a.dtype, '|u1');
    assert.deepEqual(a.shape, [2, 2, 3, 3]);
    assert.deepEqual(Array.from(a.data as Uint8Array), Array.from(payload));
  });

  it('reads a hand-written v2 header with int64 labels', () => {
    const labels = BigInt64Array.from([3n, 0n, 9n, 1n, 4n]);
    const bytes = handWritten(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", new Uint8Array(labels.buffer));
    const a = readNpy(bytes, 'labels.npy');
    assert.equal(a.dtype, '<i8');
    assert.deepEqual(a.shape, [5]);
    assert.deepEqual(Array.from(toInt32(a.data)), [3, 0, 9, 1, 4]);
  });

  it('round-trips float32/float64/int32 through encodeNpy, from a file on disk, row by row', () => {
    const f32 = Float32Array.from([0.5, -1.25, 3, 4, 5, 6]);
    const path = join(dir, 'f.npy');
    writeFileSync(path, encodeNpy('<f4', [3, 2], f32, 2));
    const f = openNpy(path);
    try {
      assert.deepEqual(f.header.shape, [3, 2]);
      assert.equal(f.header.version, 2);
      assert.deepEqual(Array.from(f.readRows(1, 2) as Float32Array), [3, 4, 5, 6]);
      assert.throws(() => f.readRows(2, 2), /outside the array's 3 rows/);
    } finally {
      f.close();
    }
    assert.deepEqual(Array.from(readNpy(encodeNpy('<f8', [2], Float64Array.from([1.5, 2.5]))).data as Float64Array), [1.5, 2.5]);
    assert.deepEqual(Array.from(readNpy(encodeNpy('<i4', [2], Int32Array.from([-7, 8]))).data as Int32Array), [-7, 8]);
  });

  it('reports a truncated file with its name and the fix', () => {
    const full = encodeNpy('|u1', [4, 32, 32, 3], new Uint8Array(4 * 32 * 32 * 3));
    const path = join(dir, 'fog.npy');
    writeFileSync(path, full.subarray(0, full.length - 100));
    assert.throws(() => openNpy(path), (e: Error) => /fog\.npy is truncated/.test(e.message) && /download it again/.test(e.message));
    assert.throws(() => readNpy(full.subarray(0, full.length - 1), 'fog.npy'), /fog\.npy is truncated/);
    assert.throws(() => readNpy(full.subarray(0, 20), 'fog.npy'), /fog\.npy is truncated inside the \.npy header/);
  });

  it('rejects wrong magic, Fortran order and unsupported dtypes with a clear message', () => {
    assert.throws(() => readNpy(new TextEncoder().encode('PK\x03\x04 this is a zip'), 'a.npz'), /a\.npz is not a \.npy file \(wrong magic bytes\)/);
    const fortran = handWritten(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(4));
    assert.throws(() => readNpy(fortran, 'f.npy'), /f\.npy is stored in Fortran.*ascontiguousarray/);
    const big = handWritten(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4));
    assert.throws(() => readNpy(big, 'b.npy'), /b\.npy has dtype '>f4', which is not supported.*astype/);
    const f16 = handWritten(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(4));
    assert.throws(() => readNpy(f16, 'h.npy'), /'<f2'/);
  });

  it('opens a CIFAR-10-C style folder, validating shapes and slicing severities', () => {
    const per = 4;
    const images = new Uint8Array(5 * per * 32 * 32 * 3);
    // Pixel value encodes the severity block and image index so slicing errors show.
    for (let s = 0; s < 5; s++) for (let i = 0; i < per; i++) images.fill(s * 40 + i, ((s * per + i) * 3072), (s * per + i + 1) * 3072);
    writeFileSync(join(dir, 'fog.npy'), encodeNpy('|u1', [5 * per, 32, 32, 3], images));
    const labels = BigInt64Array.from({ length: 5 * per }, (_, i) => BigInt(i % per));
    writeFileSync(join(dir, 'labels.npy'), encodeNpy('<i8', [5 * per], labels));
    writeFileSync(join(dir, 'contrast.npy'), encodeNpy('|u1', [5 * per, 32, 32, 1], new Uint8Array(5 * per * 1024)));

    const c = openCifar10C(dir, ['fog']);
    try {
      assert.equal(c.perSeverity, per);
      assert.deepEqual(Array.from(c.labels), [0, 1, 2, 3]);
      assert.deepEqual(c.available, ['fog', 'contrast']);
      const block = c.load('fog', 3, 1, 2);
      assert.equal(block.length, 2 * 3072);
      assert.equal(block[0], Math.fround((2 * 40 + 1) / 255));
      assert.equal(block[3072], Math.fround((2 * 40 + 2) / 255));
      assert.throws(() => c.load('contrast', 1), /contrast\.npy has \|u1 shape \(20, 32, 32, 1\); expected uint8 \(20, 32, 32, 3\)/);
      assert.throws(() => c.load('fog', 6), /severity/);
      assert.throws(() => c.load('fog', 1, 3, 2), /4 images per severity/);
    } finally {
      c.close();
    }
    assert.throws(() => openCifar10C(dir, ['fog', 'snow']), /lacks snow\.npy/);
    assert.throws(() => openCifar10C(join(dir, 'nope')), /labels\.npy not found/);
    // A link loop where a file should be is named as such, not as a missing download.
    const loop = join(dir, 'snow.npy');
    symlinkSync(loop, loop);
    assert.throws(() => openCifar10C(dir, ['snow']).load('snow', 1), (e: Error) => e.message === `${loop}: cannot be read: a symbolic link loop (ELOOP); point the CIFAR-10-C folder at the released .npy files`);
  });
});
