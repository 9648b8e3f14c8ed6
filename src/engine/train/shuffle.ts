import type { Rng } from '../util/rng';

// Shuffle BN on one device. BN statistics are computed per consecutive group of `groupSize`
// samples (ghost BN emulating devices). The attack ran with one grouping; the adversarial pass
// must see each sample among *other* samples, or batch statistics leak the attack's information
// (paper Sec. 3.2.2). Construction: shuffle inside each group, then rotate the whole batch by k
// positions with groupSize ≤ k ≤ (G−1)·groupSize. A sample at offset o of group j lands in group
// j + ⌊(o+k)/g⌋ (mod G), and for such k that quotient is in [1, G−1], so every sample changes
// group; a k that is not a multiple of g also mixes two source groups into each target group.

/**
 * Returns `perm` with perm[newPosition] = oldPosition. Identity when groups < 2 (nothing to shuffle
 * across) — callers must not rely on it to break leaks then.
 */
export function crossGroupPermutation(count: number, groups: number, rng: Rng): Int32Array {
  if (groups < 1 || count % groups !== 0) throw new Error(`crossGroupPermutation: ${count} samples do not split into ${groups} equal groups`);
  const g = count / groups;
  const perm = new Int32Array(count);
  for (let i = 0; i < count; i++) perm[i] = i;
  if (groups < 2 || g === 0) return perm;
  const within = new Int32Array(count);
  for (let j = 0; j < groups; j++) {
    const p = rng.permutation(g);
    for (let o = 0; o < g; o++) within[j * g + o] = j * g + p[o];
  }
  const k = g + rng.int((groups - 2) * g + 1);
  // Old position q (after the within-group shuffle) moves to (q + k) mod count.
  for (let q = 0; q < count; q++) perm[(q + k) % count] = within[q];
  return perm;
}

/** Gathers rows: out[i] = src[perm[i]] for images of `rowSize` values. */
export function permuteRows<T extends Float32Array | Int32Array>(src: T, perm: Int32Array, rowSize: number): T {
  const out = new (src.constructor as { new (n: number): T })(src.length);
  for (let i = 0; i < perm.length; i++) out.set(src.subarray(perm[i] * rowSize, (perm[i] + 1) * rowSize) as never, i * rowSize);
  return out;
}
