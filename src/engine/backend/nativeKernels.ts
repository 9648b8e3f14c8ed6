// The native build of our kernels (kernels/native/: kernels.c with its wasm SIMD mapped to
// AVX2/FMA, in an N-API addon) that fastKernels.ts runs in place of the wasm module where it loads.
// Built by scripts/build-native.mjs into dist/native/<platform>-<arch>/; optional everywhere: when
// the file is missing, the platform is not x86-64, or the CPU lacks AVX2/FMA (the addon refuses to
// load), the wasm kernels run and nativeKernelsStatus() says why.
// FAST_ADVPROP_NATIVE=0 keeps the wasm kernels; FAST_ADVPROP_NATIVE=1 makes a failure to load an error
// (backend selection then reports wasm unavailable, with the reason).
import { openAddon } from '../util/nativeAddon';

/** The addon's exports: the wasm module's, each taking the memory's ArrayBuffer first (BN: then the team reduce callback). */
export interface NativeKernelAddon {
  conv2d(memory: ArrayBuffer, ...args: number[]): void;
  conv2d_filter_grad(memory: ArrayBuffer, ...args: number[]): void;
  conv2d_input_grad(memory: ArrayBuffer, ...args: number[]): void;
  bn_forward(memory: ArrayBuffer, reduce: ((ptr: number, count: number) => void) | undefined, ...args: number[]): void;
  bn_backward(memory: ArrayBuffer, reduce: ((ptr: number, count: number) => void) | undefined, ...args: number[]): void;
  /** Caps this thread's builds at `lanes` (4, 8, 16) when given; returns the widest lane count in use. */
  max_lanes(lanes?: number): number;
}

export const NATIVE_FILE = 'fast-advprop-kernels.node';

let loaded: NativeKernelAddon | null | undefined;
let why = '';

/** The addon, or null (nativeKernelsStatus says why). Loaded once per thread. */
export function nativeKernels(): NativeKernelAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.FAST_ADVPROP_NATIVE === '0') {
    why = 'FAST_ADVPROP_NATIVE=0';
    return null;
  }
  const opened = openAddon<NativeKernelAddon>(NATIVE_FILE);
  if ('why' in opened) why = opened.why;
  else loaded = opened.addon;
  if (!loaded && process.env.FAST_ADVPROP_NATIVE === '1') throw new Error(`FAST_ADVPROP_NATIVE=1, but the native kernels are unavailable: ${why}`);
  return loaded;
}

/** Why the native kernels are not in use ('' when they loaded). */
export function nativeKernelsUnavailable(): string {
  nativeKernels();
  return loaded ? '' : why;
}
