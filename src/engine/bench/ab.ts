// Same-process A/B timing of the engine's wasm speed-ups, for a busy machine where only ratios
// measured side by side mean anything. One replica (ResNet-20 w16, batch 64, BN groups of 8) runs
// training steps alternately with a switch off (A) and on (B), in ABBA order.
//   node -e "require('./out/src/engine/bench/ab').runAb('all', 6).then(r => console.log(r))"
// Switches: zeroCopy, fusedBn, subPixel, fastKernels, fma, inputGrad, native, all.
import { selectBackend } from '../backend/select';
import { setInputGradKernel, setSubPixelInputGrad } from '../backend/convGrad';
import { installWasmKernels } from '../backend/wasmKernels';
import { kernelBuild, nativeKernelsStatus, setFastKernels, setNativeKernels, setSimdVariant } from '../backend/fastKernels';
import { createReplica } from '../exec/replica';
import type { ModelSpec, PassRequest } from '../exec/types';
import { setBnImpl } from '../model/forward';
import { initParams } from '../model/init';

export type AbSwitch = 'zeroCopy' | 'fusedBn' | 'subPixel' | 'fastKernels' | 'fma' | 'inputGrad' | 'native' | 'all';

const SWITCHES: Record<AbSwitch, (on: boolean) => void> = {
  zeroCopy: (on) => installWasmKernels(on),
  fusedBn: (on) => setBnImpl(on ? 'fused' : 'moments'),
  subPixel: (on) => setSubPixelInputGrad(on),
  fastKernels: (on) => setFastKernels(on),
  // Our kernels' relaxed-SIMD (FMA) build against their exact (mul + add) build.
  fma: (on) => setSimdVariant(on ? 'relaxed' : 'exact'),
  // Our transposed-conv input-gradient kernel against the flipped-filter / sub-pixel conv path.
  inputGrad: (on) => setInputGradKernel(on),
  // The native AVX2/FMA kernels against the relaxed-SIMD wasm build (the same values bit for bit).
  native: (on) => setNativeKernels(on),
  all: (on) => {
    setFastKernels(on);
    installWasmKernels(on);
    setBnImpl(on ? 'fused' : 'moments');
    setSubPixelInputGrad(on);
  },
};

export interface AbResult {
  switch: AbSwitch;
  offMs: number[];
  onMs: number[];
  /** Median step time off / on (> 1: the switch makes the step faster). */
  ratio: number;
}

export async function runAb(which: AbSwitch, reps = 5, batch = 64, groupSize = 8): Promise<AbResult> {
  await selectBackend('wasm');
  const spec: ModelSpec = { arch: 'resnet20', width: 16, inputHeight: 32, inputWidth: 32, inputChannels: 3, numClasses: 10 };
  const replica = createReplica(spec);
  const st = initParams(spec, 1);
  replica.setState(st.params, st.running);
  const px = spec.inputHeight * spec.inputWidth * spec.inputChannels;
  const req: PassRequest = {
    images: Float32Array.from({ length: batch * px }, (_, i) => Math.sin(i * 0.0137) * 0.8),
    count: batch,
    labels: Int32Array.from({ length: batch }, (_, i) => i % spec.numClasses),
    bn: 'main', training: true, groupSize, lossWeight: 1 / batch, paramGrads: true,
  };
  const set = SWITCHES[which];
  if (which === 'native' && kernelBuild() !== 'native') throw new Error(`runAb('native'): the native kernels are not in use (${nativeKernelsStatus()})`);
  const times: Record<'off' | 'on', number[]> = { off: [], on: [] };
  try {
    for (const on of [false, true]) {
      set(on);
      replica.runPass(req); // warm-up
    }
    for (let k = 0; k < reps; k++) {
      for (const on of k % 2 ? [true, false] : [false, true]) {
        set(on);
        const t0 = process.hrtime.bigint();
        replica.runPass(req);
        times[on ? 'on' : 'off'].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  } finally {
    set(true);
    replica.dispose();
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
  return { switch: which, offMs: times.off, onMs: times.on, ratio: med(times.off) / med(times.on) };
}
