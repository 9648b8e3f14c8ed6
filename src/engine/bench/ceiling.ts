// The wasm SIMD multiply-add ceiling of one core: what a kernel built from kernels.c could reach if
// it did nothing but multiply-adds (kernels.c's peak_mad: 12 independent f32x4 chains, no memory
// traffic). Measured for both builds — exact (mul, then add) and relaxed SIMD (one fused
// f32x4.relaxed_madd) — so every bench row can be printed as a fraction of the ceiling of the build
// it ran on.
import { kernelModule, relaxedSimdSupported, simdVariant, type SimdVariant } from '../backend/fastKernels';

declare const WebAssembly: {
  Memory: new (d: { initial: number }) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

export interface MadCeiling {
  /** GFLOP/s of one core (a multiply-add counts 2), best of several runs. */
  exact: number;
  /** null where the runtime has no relaxed SIMD. */
  relaxed: number | null;
  /** The build our kernels run now, and its ceiling: the bound every row is divided by. */
  used: SimdVariant;
  oneCore: number;
}

const FLOPS_PER_ITER = 12 * 4 * 2;

function rate(v: SimdVariant, seconds: number): number {
  // The module imports a memory and the BN kernels' team reduction; peak_mad uses neither.
  const peak = new WebAssembly.Instance(kernelModule(v), { env: { memory: new WebAssembly.Memory({ initial: 16 }), team_reduce: () => undefined } }).exports.peak_mad as (iters: number, x: number, y: number) => number;
  let iters = 1 << 16;
  peak(iters, 0.999, 1e-3); // compile + tier up (c → 1: no overflow, no denormals)
  let best = 0;
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  do {
    const t0 = process.hrtime.bigint();
    peak(iters, 0.999 + Math.random() * 1e-4, 1e-3);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < 0.02) iters *= 2; // runs of ≥ 20 ms: timer and call overhead below 0.1 %
    else best = Math.max(best, (iters * FLOPS_PER_ITER) / s / 1e9);
  } while (process.hrtime.bigint() < until || best === 0);
  return best;
}

/** Both builds' one-core ceilings, `seconds` of sampling each (the best run counts: a shared machine only slows runs down). */
export function madCeiling(seconds = 0.5): MadCeiling {
  const exact = rate('exact', seconds);
  const relaxed = relaxedSimdSupported() ? rate('relaxed', seconds) : null;
  const used = simdVariant();
  return { exact, relaxed, used, oneCore: used === 'relaxed' && relaxed !== null ? relaxed : exact };
}
