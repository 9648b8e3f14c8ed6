// The native build of our kernels (kernels/native/: kernels.c with its wasm SIMD mapped to
// AVX2/FMA, in an N-API addon) that fastKernels.ts runs in place of the wasm module where it loads.
// Built by scripts/build-native.mjs into dist/native/<platform>-<arch>/; optional everywhere: when
// the file is missing, the platform is not x86-64, or the CPU lacks AVX2/FMA (the addon refuses to
// load), the wasm kernels run and nativeKernelsStatus() says why.
// FAST_ADVPROP_NATIVE=0 keeps the wasm kernels; FAST_ADVPROP_NATIVE=1 makes a failure to load an error
// (backend selection then reports wasm unavailable, with the reason).
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** Where the addon may be: next to the bundle (dist/native/…), else in a checkout's dist/ above this file. */
export function nativeCandidates(): string[] {
  const plat = `${process.platform}-${process.arch}`;
  const out = [path.join(__dirname, 'native', plat, NATIVE_FILE)];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    out.push(path.join(dir, 'dist', 'native', plat, NATIVE_FILE));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

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
  const file = nativeCandidates().find((f) => fs.existsSync(f));
  if (!file) why = `no ${NATIVE_FILE} for ${process.platform}-${process.arch} (node scripts/build-native.mjs builds it)`;
  else {
    try {
      const m = { exports: {} as NativeKernelAddon };
      process.dlopen(m, file);
      loaded = m.exports;
    } catch (e) {
      why = `${file} did not load: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  if (!loaded && process.env.FAST_ADVPROP_NATIVE === '1') throw new Error(`FAST_ADVPROP_NATIVE=1, but the native kernels are unavailable: ${why}`);
  return loaded;
}

/** Why the native kernels are not in use ('' when they loaded). */
export function nativeKernelsUnavailable(): string {
  nativeKernels();
  return loaded ? '' : why;
}
