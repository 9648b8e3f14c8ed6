// Where one wasm training step's time goes, kernel by kernel (`fast-advprop bench --profile`): the
// measurement behind docs/performance.md's "Where the time goes now", reproducible on any machine.
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend/select';
import { createReplica } from '../exec/replica';
import { planUnits, sliceRequest } from '../exec/shard';
import type { ModelSpec, PassRequest } from '../exec/types';
import { initParams } from '../model/init';

export interface KernelShare {
  kernel: string;
  calls: number;
  /** Summed kernel wall time in this step (ms; tf.profile's kernelTimeMs). */
  ms: number;
}

export interface StepProfile {
  /** Wall time of the profiled step (profiling adds some overhead to it). */
  stepMs: number;
  /** Sum over the kernels listed (custom-gradient wrappers, whose time is their kernels', left out). */
  kernelMs: number;
  kernels: KernelShare[];
}

/**
 * Profiles one in-process wasm training pass of `spec` on `req` after `warmupPasses` unprofiled
 * ones, computed one BN group at a time as every executor does for training (exec/shard.ts).
 */
export async function profileStep(spec: ModelSpec, req: PassRequest, warmupPasses = 3): Promise<StepProfile> {
  await selectBackend('wasm');
  const replica = createReplica(spec);
  try {
    const st = initParams(spec, 1);
    replica.setState(st.params, st.running);
    const units = planUnits(req, 1).map((u) => sliceRequest(req, u));
    const pass = (): void => {
      for (const u of units) replica.runPass(u);
    };
    for (let i = 0; i < warmupPasses; i++) pass();
    const t0 = process.hrtime.bigint();
    const info = await tf.profile(pass);
    const stepMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const by = new Map<string, KernelShare>();
    let kernelMs = 0;
    for (const k of info.kernels) {
      // tf.customGrad ops (our BN and shortcut ops as 'forward', tfjs' own logSoftmax…) are
      // recorded too, and their time includes the kernels they ran, which are listed as well:
      // only registered kernels count, or the wrappers would count twice.
      if (!tf.getKernel(k.name, 'wasm')) continue;
      const e = by.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
      e.calls++;
      e.ms += Number(k.kernelTimeMs) || 0;
      kernelMs += Number(k.kernelTimeMs) || 0;
      by.set(k.name, e);
    }
    return { stepMs, kernelMs, kernels: [...by.values()].sort((a, b) => b.ms - a.ms) };
  } finally {
    replica.dispose();
  }
}

/** The profile as Markdown table lines: the `top` largest kernels, then the rest in one row. */
export function formatProfile(p: StepProfile, top = 12): string[] {
  const pct = (ms: number): string => `${((100 * ms) / (p.kernelMs || 1)).toFixed(1)} %`;
  const lines = [
    `one wasm step, profiled: ${p.stepMs.toFixed(0)} ms wall, ${p.kernelMs.toFixed(0)} ms in ${p.kernels.reduce((a, k) => a + k.calls, 0)} kernels`,
    '| kernel | calls | ms | share |',
    '|---|---|---|---|',
  ];
  for (const k of p.kernels.slice(0, top)) lines.push(`| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(1)} | ${pct(k.ms)} |`);
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    lines.push(`| ${rest.length} others | ${rest.reduce((a, k) => a + k.calls, 0)} | ${ms.toFixed(1)} | ${pct(ms)} |`);
  }
  return lines;
}
