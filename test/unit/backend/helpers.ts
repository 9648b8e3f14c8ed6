// Deterministic inputs and the error measure the backend suites compare kernels with.
import * as assert from 'node:assert/strict';

/** n uniform values in [−0.5, 0.5) + offset from a 32-bit LCG (same values on every machine). */
export function rand(n: number, seed: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5 + offset;
  }
  return a;
}

/** max |a-b| / max |b|: relative to the result's scale, so near-zero entries do not dominate. Infinity if a has a non-finite entry. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
