// Our own wasm SIMD kernels (kernels/kernels.c) run inside TensorFlow.js' wasm backend.
//
// The module imports the backend's linear memory, so a kernel reads and writes tensors where the
// backend keeps them (byte offsets from dataIdMap), with no copies. Four things come from it:
//  - Conv2D (replaces XNNPACK's for NHWC, dilation 1, Co % 8 == 0; faster on our 16–64 channel
//    shapes, and on the exact build equal in value: same summation order);
//  - the Conv2D filter gradient, directly from x and dy (the conv-as-gradient path needs x and dy
//    transposed and runs at half the speed);
//  - the Conv2D input gradient (a transposed convolution, Ci % 8 == 0), directly from dy and the
//    filter (convGrad.ts' path flips the filter and, for stride 2, splits dy into phases);
//  - training-mode ghost BN (+ReLU) forward and backward in two passes each, instead of ~15
//    broadcasting elementwise kernels.
// Everything else stays with the stock kernels. `setFastKernels(false)` restores them for A/B timing.
//
// The module comes in two builds of one source: relaxed SIMD (fused multiply-add) where the runtime
// validates it, else exact (separate multiply and add). Node 20's V8 has relaxed SIMD behind
// --experimental-wasm-relaxed-simd, which we set at run time (V8 reads wasm feature flags when it
// validates a module, and the flag is per process, so worker threads see it too); newer V8s
// (Node ≥ 22, VS Code's Electron) ship it on. FAST_ADVPROP_EXACT_SIMD=1 keeps the exact build.
//
// Where the relaxed build would run, the same source compiled natively for AVX2/FMA (an N-API addon,
// nativeKernels.ts) runs instead when it loads: it takes the wasm memory's ArrayBuffer and the same
// offsets, and computes bit for bit what the relaxed build computes (one FMA per `mad`, nothing else
// fused). FAST_ADVPROP_NATIVE=0 keeps the wasm module.
import * as tf from '@tensorflow/tfjs';
import { setFlagsFromString } from 'node:v8';
import { bnTeam, teamReduce } from './bnTeam';
import { overrideWasmKernel } from './kernelOverride';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels/kernelsWasm';
import { nativeKernels, nativeKernelsUnavailable, type NativeKernelAddon } from './nativeKernels';

// The engine's tsconfig has no DOM lib, and @types/node does not declare WebAssembly: the little we use.
interface WasmMemory { readonly buffer: ArrayBuffer }
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

interface KernelExports {
  conv2d(...args: number[]): void;
  conv2d_filter_grad(...args: number[]): void;
  conv2d_input_grad(...args: number[]): void;
  bn_forward(...args: number[]): void;
  bn_backward(...args: number[]): void;
}

interface WasmBackendLike extends tf.KernelBackend {
  wasm: { asm: { memory: WasmMemory }; _malloc(bytes: number): number; _free(ptr: number): void };
  dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

interface Instance {
  k: KernelExports;
  backend: WasmBackendLike;
  /** ≥ `zerosFloats` zero floats: where a conv tap in the padding reads. Never written by kernels. */
  zeros: number;
  zerosFloats: number;
  scratch: number;
  scratchFloats: number;
}

export type SimdVariant = 'relaxed' | 'exact';
/** What actually runs: one of the two wasm builds, or the native addon (the relaxed build's results). */
export type KernelBuild = SimdVariant | 'native';

// (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))): valid
// only where the runtime has relaxed SIMD with the standard opcodes (0xfd 0x105).
const RELAXED_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
]);

let relaxedSupport: boolean | null = null;
/** Whether this runtime runs wasm relaxed SIMD (after setting Node 20's flag for it). */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport === null) {
    if (!WebAssembly.validate(RELAXED_PROBE)) {
      try {
        setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch { /* a runtime without V8 flags: stay exact */ }
    }
    relaxedSupport = WebAssembly.validate(RELAXED_PROBE);
  }
  return relaxedSupport;
}

let wanted: SimdVariant = process.env.FAST_ADVPROP_EXACT_SIMD === '1' ? 'exact' : 'relaxed';
/** The build our kernels run: relaxed (FMA) when wanted and supported, else exact. */
export function simdVariant(): SimdVariant {
  return wanted === 'relaxed' && relaxedSimdSupported() ? 'relaxed' : 'exact';
}
/** Chooses the build for A/B timing and tests ('relaxed' still falls back to exact where unsupported). */
export function setSimdVariant(v: SimdVariant): void {
  wanted = v;
}

let nativeWanted = true;
/** Whether the native kernels replace the relaxed wasm build where they load (A/B timing, tests). */
export function setNativeKernels(on: boolean): void {
  nativeWanted = on;
}
/** The build our kernels run now: native where wanted, the relaxed build would run and the addon loads; else the wasm variant. */
export function kernelBuild(): KernelBuild {
  const v = simdVariant();
  return v === 'relaxed' && nativeWanted && nativeKernels() ? 'native' : v;
}
/** Why kernelBuild() is not 'native' ('' when it is). */
export function nativeKernelsStatus(): string {
  if (kernelBuild() === 'native') return '';
  if (simdVariant() !== 'relaxed') return 'the exact build was asked for';
  return nativeWanted ? nativeKernelsUnavailable() : 'switched off (setNativeKernels)';
}

const compiled: Partial<Record<SimdVariant, object>> = {};
const instances: Record<KernelBuild, WeakMap<object, Instance>> = { relaxed: new WeakMap(), exact: new WeakMap(), native: new WeakMap() };
let enabled = true;
/** How often each of our kernels ran in this thread (tests check that a path really used them). */
const calls: Record<string, number> = {};
export function fastKernelCalls(): Readonly<Record<string, number>> {
  return { ...calls };
}
const count = (name: string): void => {
  calls[name] = (calls[name] ?? 0) + 1;
};

/** The compiled kernel module of one build (bench instantiates it with a memory of its own for its FMA ceiling). */
export function kernelModule(v: SimdVariant): object {
  if (v === 'relaxed' && !relaxedSimdSupported()) throw new Error('fast kernels: this runtime has no wasm relaxed SIMD');
  return (compiled[v] ??= new WebAssembly.Module(Buffer.from(v === 'relaxed' ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64, 'base64')));
}

const failures = new WeakMap<object, string>();

/** The addon's kernels bound to one wasm memory (read afresh on each call: growth replaces the buffer). */
function nativeExports(addon: NativeKernelAddon, memory: WasmMemory): KernelExports {
  const reduce = (ptr: number, count: number): void => teamReduce(memory, ptr, count);
  return {
    conv2d: (...a) => addon.conv2d(memory.buffer, ...a),
    conv2d_filter_grad: (...a) => addon.conv2d_filter_grad(memory.buffer, ...a),
    conv2d_input_grad: (...a) => addon.conv2d_input_grad(memory.buffer, ...a),
    bn_forward: (...a) => addon.bn_forward(memory.buffer, bnTeam() ? reduce : undefined, ...a),
    bn_backward: (...a) => addon.bn_backward(memory.buffer, bnTeam() ? reduce : undefined, ...a),
  };
}

/**
 * Our module bound to this backend's memory, or null when it cannot be (a backend that does not
 * expose its memory, or a shared memory from tfjs' threaded build): then the stock paths run.
 */
function tryInstance(backend: tf.KernelBackend): Instance | null {
  const variant = kernelBuild();
  const known = instances[variant].get(backend);
  if (known) return known;
  if (failures.has(backend)) return null;
  try {
    const b = backend as WasmBackendLike;
    const memory = b.wasm?.asm?.memory;
    if (!memory || !(memory.buffer instanceof ArrayBuffer)) throw new Error('the wasm backend exposes no (unshared) memory');
    const addon = variant === 'native' ? nativeKernels() : null;
    const k = addon ? nativeExports(addon, memory)
      : new WebAssembly.Instance(kernelModule(variant as SimdVariant), { env: { memory, team_reduce: (ptr: number, count: number) => teamReduce(memory, ptr, count) } }).exports as unknown as KernelExports;
    const inst: Instance = { k, backend: b, zeros: 0, zerosFloats: 0, scratch: 0, scratchFloats: 0 };
    instances[variant].set(backend, inst);
    return inst;
  } catch (e) {
    failures.set(backend, (e as Error).message.split('\n')[0]);
    return null;
  }
}

function instanceFor(backend: tf.KernelBackend): Instance {
  const inst = tryInstance(backend);
  if (!inst) throw new Error(`fast kernels: ${failures.get(backend)}`);
  return inst;
}

/** One line for the run's backend record: whether our kernels run on the active backend, or why not. */
export function fastKernelsStatus(): string {
  if (tf.getBackend() !== 'wasm') return 'no wasm kernels of ours on this backend';
  if (!enabled) return 'our wasm kernels switched off';
  if (!tryInstance(tf.backend())) return `stock wasm kernels only (ours could not load: ${failures.get(tf.backend())})`;
  const build = kernelBuild();
  return build === 'native'
    ? 'our native AVX2/FMA kernels for conv, conv filter and input gradients and batch norm (N-API addon, the relaxed wasm build\'s results)'
    : `our wasm SIMD kernels for conv, conv filter and input gradients and batch norm (${build === 'relaxed' ? 'relaxed SIMD, fused multiply-add' : 'exact multiply and add'}${build === 'relaxed' ? `; native kernels not used: ${nativeKernelsStatus()}` : ''})`;
}

/** The backend's malloc; 0 means its memory could not grow, and address 0 is the backend's own data. */
function malloc(inst: Instance, bytes: number): number {
  const p = inst.backend.wasm._malloc(bytes);
  if (!p) throw new Error(`fast kernels: the wasm backend could not allocate ${bytes} bytes (out of memory)`);
  return p;
}

/** Rows per BN group; the kernels would leave the tail of y / dh unwritten if groups did not divide N. */
function groupRows(shape: number[], groups: number): number {
  const [N, H, W] = shape;
  if (!Number.isInteger(groups) || groups < 1 || N % groups !== 0) throw new Error(`fast kernels: ${groups} BN groups do not divide a batch of ${N}`);
  return (N / groups) * H * W;
}

function zeros(inst: Instance, floats: number): number {
  if (inst.zerosFloats < floats) {
    if (inst.zeros) inst.backend.wasm._free(inst.zeros);
    const n = Math.max(floats, 1024);
    inst.zeros = malloc(inst, n * 4);
    new Float32Array(inst.backend.wasm.asm.memory.buffer, inst.zeros, n).fill(0);
    inst.zerosFloats = n;
  }
  return inst.zeros;
}

function scratch(inst: Instance, floats: number): number {
  if (inst.scratchFloats < floats) {
    if (inst.scratch) inst.backend.wasm._free(inst.scratch);
    const n = Math.max(floats, 4096);
    inst.scratch = malloc(inst, n * 4);
    inst.scratchFloats = n;
  }
  return inst.scratch;
}

function offset(inst: Instance, t: tf.TensorInfo): number {
  const d = inst.backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('fast kernels: tensor is not on the wasm backend');
  return d.memoryOffset;
}

/** Whether the fast kernels are switched on (they only run on the wasm backend). */
export function fastKernelsEnabled(): boolean {
  return enabled;
}

/** Whether the fast kernels are on and the active backend is wasm. */
export function fastKernelsActive(): boolean {
  return enabled && tf.getBackend() === 'wasm' && tryInstance(tf.backend()) !== null;
}

type PadAttr = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function unitDilation(d: unknown): boolean {
  return d == null || d === 1 || (Array.isArray(d) && d.every((x) => x === 1));
}

/** Shapes our conv kernels take: NHWC float32, dilation 1, output channels a multiple of 8. */
export function fastConvSupports(co: number, attrs: { dataFormat?: string; dilations?: unknown }): boolean {
  const nhwc = attrs.dataFormat == null || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast';
  return nhwc && unitDilation(attrs.dilations) && co % 8 === 0 && co > 0;
}

function convInfo(xShape: number[], filterShape: number[], a: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
  );
}

function conv2dKernel(inst: Instance, x: tf.TensorInfo, filter: tf.TensorInfo, a: ConvAttrs): tf.TensorInfo {
  const [n, h, w, ci] = x.shape;
  const [kh, kw, , co] = filter.shape;
  const info = convInfo(x.shape, filter.shape, a);
  const out = inst.backend.makeOutput([n, info.outHeight, info.outWidth, co], 'float32');
  count('conv2d');
  if (out.shape.every((d) => d > 0)) {
    inst.k.conv2d(offset(inst, x), offset(inst, filter), offset(inst, out), zeros(inst, ci),
      n, h, w, ci, kh, kw, co, info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
  }
  return out;
}

/**
 * dL/dfilter of y = conv2d(x, filter) from x and dy (NHWC, dilation 1, Co % 8 == 0), on the wasm
 * backend. Not differentiable itself (training never needs second derivatives of a conv).
 */
export function fastConv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], strides: number | [number, number], pad: PadAttr, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.engine().runKernel(FILTER_GRAD, { x, dy }, { strides, pad, dimRoundingMode, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * dL/dx of y = conv2d(x, filter) from dy and the filter (NHWC, dilation 1, Ci % 8 == 0), on the wasm
 * backend. Not differentiable itself.
 */
export function fastConv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, xShape: number[], strides: number | [number, number], pad: PadAttr, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.engine().runKernel(INPUT_GRAD, { dy, filter }, { strides, pad, dimRoundingMode, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Shapes the input-gradient kernel takes: those of fastConvSupports with input channels a multiple of 8. */
export function fastInputGradSupports(ci: number, attrs: { dataFormat?: string; dilations?: unknown }): boolean {
  return fastConvSupports(8, attrs) && ci % 8 === 0 && ci > 0;
}

const FILTER_GRAD = 'FastAdvPropConv2DFilterGrad';
const INPUT_GRAD = 'FastAdvPropConv2DInputGrad';
const BN_FORWARD = 'FastAdvPropBatchNormTrain';
const BN_BACKWARD = 'FastAdvPropBatchNormTrainGrad';

/** Training-mode ghost BN over G groups of h (NHWC, C % 4 == 0) on the fast kernels; see batchNormTrain. */
export function fastBatchNormSupports(c: number): boolean {
  return c % 4 === 0 && c > 0;
}

export interface FastBnForward {
  y: tf.Tensor4D;
  /** [G, C] each. */
  mean: tf.Tensor2D;
  variance: tf.Tensor2D;
  rstd: tf.Tensor2D;
}

export function fastBatchNormForward(h: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, relu: boolean, eps: number): FastBnForward {
  const [y, mean, variance, rstd] = tf.engine().runKernel(BN_FORWARD, { h, gamma, beta }, { groups, relu, eps } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor2D, variance: variance as tf.Tensor2D, rstd: rstd as tf.Tensor2D };
}

/** [dh, dgamma, dbeta] of fastBatchNormForward given its output gradient dy. */
export function fastBatchNormBackward(dy: tf.Tensor, y: tf.Tensor, h: tf.Tensor, mean: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor, groups: number, relu: boolean): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel(BN_BACKWARD, { dy, y, h, mean, rstd, gamma }, { groups, relu } as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
}

type Args = { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, unknown>; backend: tf.KernelBackend };

const ours: tf.KernelConfig[] = [
  {
    kernelName: FILTER_GRAD,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => {
      const inst = instanceFor(args.backend);
      const { x, dy } = args.inputs;
      const a = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
      const [n, h, w, ci] = x.shape;
      const [kh, kw, , co] = a.filterShape;
      const info = convInfo(x.shape, a.filterShape, a);
      const out = inst.backend.makeOutput([kh, kw, ci, co], 'float32');
      count('conv2d_filter_grad');
      inst.k.conv2d_filter_grad(offset(inst, x), offset(inst, dy), offset(inst, out),
        n, h, w, ci, kh, kw, co, info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
      return out;
    }) as unknown as tf.KernelFunc,
  },
  {
    kernelName: INPUT_GRAD,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => {
      const inst = instanceFor(args.backend);
      const { dy, filter } = args.inputs;
      const a = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
      const [n, h, w, ci] = a.inputShape;
      const [kh, kw, , co] = filter.shape;
      const info = convInfo(a.inputShape, filter.shape, a);
      if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth || dy.shape[3] !== co) throw new Error(`fast kernels: dy of shape [${dy.shape}] does not fit a conv of [${a.inputShape}] with filter [${filter.shape}]`);
      const out = inst.backend.makeOutput([n, h, w, ci], 'float32');
      count('conv2d_input_grad');
      if (out.shape.every((d) => d > 0)) {
        // wt first: scratch() may move on growth, zeros() must not be freed after we took its offset.
        const wt = scratch(inst, kh * kw * ci * co);
        inst.k.conv2d_input_grad(offset(inst, dy), offset(inst, filter), offset(inst, out), wt, zeros(inst, co),
          n, h, w, ci, kh, kw, co, info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left);
      }
      return out;
    }) as unknown as tf.KernelFunc,
  },
  {
    kernelName: BN_FORWARD,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => {
      const inst = instanceFor(args.backend);
      const { h, gamma, beta } = args.inputs;
      const { groups, relu, eps } = args.attrs as { groups: number; relu: boolean; eps: number };
      const C = h.shape[3];
      const M = groupRows(h.shape, groups);
      const team = bnTeam();
      const y = inst.backend.makeOutput(h.shape, 'float32');
      const stats = [0, 1, 2].map(() => inst.backend.makeOutput([groups, C], 'float32'));
      count('bn_forward');
      inst.k.bn_forward(offset(inst, h), offset(inst, gamma), offset(inst, beta), offset(inst, y),
        offset(inst, stats[0]), offset(inst, stats[1]), offset(inst, stats[2]), scratch(inst, 4 * C), groups, M, M * (team?.size ?? 1), C, relu ? 1 : 0, eps);
      return [y, ...stats];
    }) as unknown as tf.KernelFunc,
  },
  {
    kernelName: BN_BACKWARD,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => {
      const inst = instanceFor(args.backend);
      const { dy, y, h, mean, rstd, gamma } = args.inputs;
      const { groups, relu } = args.attrs as { groups: number; relu: boolean };
      const C = h.shape[3];
      const M = groupRows(h.shape, groups);
      const dh = inst.backend.makeOutput(h.shape, 'float32');
      const dgamma = inst.backend.makeOutput([C], 'float32');
      const dbeta = inst.backend.makeOutput([C], 'float32');
      const team = bnTeam();
      count('bn_backward');
      inst.k.bn_backward(offset(inst, dy), offset(inst, y), offset(inst, h), offset(inst, mean), offset(inst, rstd), offset(inst, gamma),
        offset(inst, dh), offset(inst, dgamma), offset(inst, dbeta), scratch(inst, 4 * C), groups, M, M * (team?.size ?? 1), C, relu ? 1 : 0, !team || team.index === 0 ? 1 : 0);
      return [dh, dgamma, dbeta];
    }) as unknown as tf.KernelFunc,
  },
];

/**
 * Registers the fast kernels on the wasm backend (idempotent). `on = false` routes Conv2D back to
 * XNNPACK and makes fastKernelsActive() false, so the engine uses its tfjs-op paths (A/B timing,
 * tests); the custom kernel names stay registered.
 */
export function setFastKernels(on = true): void {
  enabled = on;
  for (const k of ours) if (!tf.getKernel(k.kernelName, 'wasm')) tf.registerKernel(k);
  overrideWasmKernel('Conv2D', on ? (stock) => ((args: Args) => {
    const { x, filter } = args.inputs;
    const a = args.attrs as unknown as ConvAttrs;
    const inst = x.dtype === 'float32' && fastConvSupports(filter.shape[3], a) ? tryInstance(args.backend) : null;
    if (inst) return conv2dKernel(inst, x, filter, a);
    return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
  }) as unknown as tf.KernelFunc : null);
}
