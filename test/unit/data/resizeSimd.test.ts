import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resizeHWC } from '../../../src/engine/data/resize';
import { RESIZE_KERNEL_SOURCE_SHA256 } from '../../../src/engine/data/resizeKernelWasm';
import { resizeRgb, simdResizeAvailable } from '../../../src/engine/data/resizeSimd';
import { Rng } from '../../../src/engine/util/rng';

describe('data: SIMD resize of the streaming loader', () => {
  it('runs as wasm SIMD here (Node ≥ 20 has it), not through its JS fallback', () => {
    assert.equal(simdResizeAvailable(), true);
  });

  it('gives resizeHWC’s pixels to one level, shrinking, enlarging, odd and tiny sizes, and the same bytes when called again', () => {
    const rng = new Rng(5);
    // [h, w, outH, outW]: widths below and above one 16-byte SIMD step, a single row and column,
    // a large shrink (support 7), the bench's typical crop and an enlargement.
    const cases: [number, number, number, number][] = [[1, 1, 4, 3], [1, 6, 1, 1], [5, 7, 13, 3], [9, 5, 9, 6], [300, 250, 224, 224], [97, 1000, 13, 9], [60, 40, 224, 224], [224, 224, 32, 32]];
    for (const [h, w, oh, ow] of cases) {
      // Smooth field plus noise: every tap weight matters.
      const src = Uint8Array.from({ length: h * w * 3 }, (_, i) => (((i / 3) | 0) % w) * 3 + (rng.next() * 60) | 0);
      const want = resizeHWC(src, h, w, 3, oh, ow);
      const got = resizeRgb(src, h, w, oh, ow);
      assert.equal(got.length, oh * ow * 3);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst <= 1, `${h}×${w} → ${oh}×${ow}: differs from resizeHWC by ${worst}`);
      assert.deepEqual(resizeRgb(src, h, w, oh, ow), got, `${h}×${w} → ${oh}×${ow}: a second call (reused, grown memory) differs`);
    }
    const flat = resizeRgb(new Uint8Array(37 * 41 * 3).fill(77), 37, 41, 224, 224);
    assert.ok(flat.every((v) => v === 77), 'a constant image stays constant');
    const same = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => i);
    const copy = resizeRgb(same, 4, 4, 4, 4);
    assert.deepEqual(copy, same);
    assert.notEqual(copy.buffer, same.buffer, 'the same size returns a copy, not the caller’s array');
  });

  it('resizeKernelWasm.ts was built from the resizeKernel.c in the tree (run scripts/build-resize-kernel.mjs after editing it)', () => {
    const src = readFileSync(join(__dirname, '../../../../src/engine/data/resizeKernel.c'));
    assert.equal(createHash('sha256').update(src).digest('hex'), RESIZE_KERNEL_SOURCE_SHA256);
  });

  it('resizeKernelWasm.ts is byte for byte what resizeKernel.c compiles to (where clang-16 is installed)', function () {
    const r = spawnSync(process.execPath, [join(__dirname, '../../../../scripts/build-resize-kernel.mjs'), '--check'], { encoding: 'utf8' });
    if (r.status === 3) this.skip();
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });
});
