import { cachedWeights, resizeHWC } from './resize';
import { RESIZE_KERNEL_WASM_BASE64 } from './resizeKernelWasm';

// resize.ts' antialiased bilinear resample for RGB, run by the wasm SIMD module compiled from
// resizeKernel.c: the streaming loader's crops go through here rather than through libvips'
// resize, which cost about twice as much CPU per 224 px image. The weights are the same
// float32 ones; only the summation order and precision differ (float32 instead of double), so
// results are within one level of resizeHWC and, being plain IEEE arithmetic, the same on every
// machine. One instance per thread (each loader worker has its own module-level copy).

// The engine's tsconfig has no DOM lib, and @types/node does not declare WebAssembly: the little we use.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

interface Kernel {
  memory: WasmMemory;
  resize: (...args: number[]) => void;
  heapBase: number;
}

let kernel: Kernel | null | undefined;

function load(): Kernel | null {
  if (kernel === undefined) {
    try {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(RESIZE_KERNEL_WASM_BASE64, 'base64')), {});
      const e = inst.exports as unknown as { memory: WasmMemory; resize_rgb: (...args: number[]) => void; __heap_base: { value: number } };
      kernel = { memory: e.memory, resize: e.resize_rgb, heapBase: Number(e.__heap_base.value) };
    } catch {
      kernel = null; // no wasm SIMD in this runtime: the JS resize gives the same pixels to ±1
    }
  }
  return kernel;
}

/** Whether the SIMD module runs here (else resizeRgb falls back to resizeHWC). */
export function simdResizeAvailable(): boolean {
  return load() !== null;
}

const align = (n: number): number => (n + 15) & ~15;

/** Resizes one h × w × 3 uint8 image to outH × outW × 3. */
export function resizeRgb(src: Uint8Array, h: number, w: number, outH: number, outW: number): Uint8Array {
  if (h === outH && w === outW) return src.slice();
  const k = load();
  if (!k) return resizeHWC(src, h, w, 3, outH, outW);
  const wy = cachedWeights(h, outH);
  const wx = cachedWeights(w, outW);
  let p = align(k.heapBase);
  const take = (bytes: number): number => {
    const at = p;
    p = align(p + bytes);
    return at;
  };
  const pSrc = take(src.length);
  const pOut = take(outH * outW * 3 + 16);
  const pRow = take((w * 3 + 4 + outW * 3 + 1) * 4); // the source row's floats (+1 spare), then the output row's (+1)
  const pYs = take(outH * 4), pYc = take(outH * 4), pYw = take(wy.w.length * 4);
  const pXs = take(outW * 4), pXc = take(outW * 4), pXw = take(wx.w.length * 4);
  const have = k.memory.buffer.byteLength;
  if (p > have) k.memory.grow(Math.ceil((p - have) / 65536));
  const m = k.memory.buffer;
  new Uint8Array(m, pSrc, src.length).set(src);
  new Int32Array(m, pYs, outH).set(wy.start);
  new Int32Array(m, pYc, outH).set(wy.count);
  new Float32Array(m, pYw, wy.w.length).set(wy.w);
  new Int32Array(m, pXs, outW).set(wx.start);
  new Int32Array(m, pXc, outW).set(wx.count);
  new Float32Array(m, pXw, wx.w.length).set(wx.w);
  k.resize(pSrc, h, w, pOut, outH, outW, pYs, pYc, pYw, wy.span, pXs, pXc, pXw, wx.span, pRow);
  return new Uint8Array(k.memory.buffer, pOut, outH * outW * 3).slice();
}
