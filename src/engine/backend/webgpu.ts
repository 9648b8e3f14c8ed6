// TensorFlow.js' WebGPU backend on Google's Dawn for Node (npm `webgpu`, a N-API addon that talks
// to Vulkan, or to OpenGL/EGL for Mesa's software rasteriser). tfjs-node-gpu needs CUDA 11 builds
// of libtensorflow that current machines cannot install; Dawn needs only the GPU driver's Vulkan
// ICD and the Vulkan loader, so this is the GPU path that works on a current machine.
//
// Why the wiring is done by hand:
// - tfjs-backend-webgpu registers itself only when navigator.gpu exists at import time, and Node
//   has no navigator.gpu, so we create one from dawn.node and register the backend ourselves.
// - dawn.node is loaded by path (the bundle ships only the target platform's binary under
//   dist/dawn/<platform>-<arch>/; a source checkout finds it in node_modules/webgpu/dist/…),
//   which also avoids the package's ES-module entry in our CommonJS bundle.
// - A shader tfjs generates may be invalid WGSL for some ranks; Dawn then reports a validation
//   error on the device and the kernel's output silently stays zero. Every pass therefore runs in
//   error scopes (see gpuErrorScope) and an uncaptured error fails the next pass, loudly.
// - Dawn keeps the process alive while the device exists, so releaseWebGpu() destroys it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { adapterLabel } from '../../shared/backendLabel';
import type { AdapterDescription } from '../../shared/runFormat';

export const WEBGPU_PACKAGE = 'webgpu';

/** A GPU error the device reported: a kernel's output cannot be trusted after it. */
export class GpuKernelError extends Error {
  constructor(readonly kind: string, detail: string) {
    super(`the GPU rejected a kernel (${kind} error: ${detail}); the results of this step are invalid. `
      + 'Rerun with "backend": "wasm" to train on the CPU, and report the message.');
    this.name = 'GpuKernelError';
  }
}

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

interface Active {
  device: GPUDevice;
  adapter: AdapterDescription;
  /** First error the device reported outside an error scope, not yet surfaced. */
  pending: GpuKernelError | null;
  lost: boolean;
}

let active: Active | null = null;

/** Whether a GPU adapter is the engine's current tfjs backend. */
export function webGpuActive(): boolean {
  return active !== null && !active.lost;
}

export function activeAdapter(): AdapterDescription | null {
  return active?.adapter ?? null;
}

/** Candidate paths of dawn.node for this platform, bundle first. */
function dawnCandidates(): string[] {
  const plat = `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`;
  const out: string[] = [];
  if (process.env.FAST_ADVPROP_DAWN_NODE) out.push(process.env.FAST_ADVPROP_DAWN_NODE);
  out.push(path.join(__dirname, 'dawn', plat, 'dawn.node'));
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    out.push(path.join(dir, 'node_modules', WEBGPU_PACKAGE, 'dist', plat, 'dawn.node'));
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  out.push(path.join(process.cwd(), 'node_modules', WEBGPU_PACKAGE, 'dist', plat, 'dawn.node'));
  return out;
}

export function findDawnNode(): string | null {
  for (const c of dawnCandidates()) if (fs.existsSync(c)) return c;
  return null;
}

function loadDawn(load: (p: string) => unknown): DawnModule {
  const file = findDawnNode();
  if (!file) {
    throw new Error(`the ${WEBGPU_PACKAGE} package (Dawn for Node) is not installed for ${process.platform}-${process.arch}: run npm install ${WEBGPU_PACKAGE}, or reinstall the extension for this platform`);
  }
  const mod = load(file) as DawnModule;
  if (typeof mod?.create !== 'function') throw new Error(`${file} is not a Dawn for Node binary (no create())`);
  return mod;
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];

/**
 * On Linux, why Dawn could not reach any Vulkan driver (no libvulkan.so.1 in the loader cache,
 * LD_LIBRARY_PATH or the usual folders), or null when the loader is there (or the platform
 * is not Linux, where Dawn finds its own API).
 */
export function vulkanLoaderMissing(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    if (fs.readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1')) return null;
  } catch {
    /* no cache: look in the folders */
  }
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  if (dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')))) return null;
  return 'no Vulkan loader (libvulkan.so.1) on this machine, so no GPU adapter: install libvulkan1 and the GPU driver';
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

function describe(adapter: GPUAdapter, api: AdapterDescription['api']): AdapterDescription {
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const text = [i.vendor, i.architecture, i.device, i.description].join(' ');
  const fallback = Boolean(i.isFallbackAdapter);
  return {
    vendor: i.vendor || '',
    architecture: i.architecture || '',
    device: i.device || '',
    description: i.description || '',
    api,
    fallback,
    software: fallback || SOFTWARE.test(text),
  };
}

export interface WebGpuOptions {
  /** Accept a software/fallback adapter (Mesa llvmpipe over OpenGL) when no hardware one exists. */
  allowSoftware: boolean;
  load: (p: string) => unknown;
}

/** Raised limits: tfjs' 256-thread workgroups and large conv buffers fail under the defaults. */
function requiredLimits(l: GPUSupportedLimits): Record<string, number> {
  const keys = [
    'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize',
    'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeInvocationsPerWorkgroup',
    'maxStorageBuffersPerShaderStage',
  ] as const;
  const out: Record<string, number> = {};
  for (const k of keys) if (typeof l[k] === 'number') out[k] = l[k];
  return out;
}

async function requestAdapter(dawn: DawnModule, api: 'vulkan' | 'opengl'): Promise<{ gpu: GPU; adapter: GPUAdapter } | string> {
  if (api === 'opengl' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless'; // headless Mesa: no X/Wayland display
  const gpu = dawn.create(api === 'vulkan' ? ['backend=vulkan'] : ['backend=opengl']);
  const opts: Record<string, unknown> = { powerPreference: 'high-performance' };
  // Dawn exposes its OpenGL backend only at the "compatibility" feature level.
  if (api === 'opengl') opts.featureLevel = 'compatibility';
  const adapter = await gpu.requestAdapter(opts as GPURequestAdapterOptions);
  if (!adapter) {
    return api === 'vulkan'
      ? 'no Vulkan GPU adapter (is libvulkan1 installed and a GPU driver with a Vulkan ICD present?)'
      : 'no OpenGL/EGL adapter (install libegl1 libegl-mesa0 libgl1-mesa-dri for Mesa\'s software one)';
  }
  return { gpu, adapter };
}

/**
 * Finds an adapter (hardware Vulkan first; Mesa's software one over OpenGL only when allowed),
 * creates the device and makes tfjs' webgpu the active backend. Throws with one line saying what
 * was missing; the caller records it as a failed attempt and falls back.
 */
export async function activateWebGpu(opts: WebGpuOptions): Promise<AdapterDescription> {
  if (active && !active.lost) {
    if (active.adapter.software && !opts.allowSoftware) throw new Error(`only a software adapter (${adapterLabel(active.adapter)}) is available`);
    await tf.setBackend('webgpu');
    return active.adapter;
  }
  const dawn = loadDawn(opts.load);
  const g = globalThis as Record<string, unknown>;
  // GPUBufferUsage, GPUMapMode, GPUShaderStage… are globals in a browser; tfjs reads them as such.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;

  const reasons: string[] = [];
  let found: { gpu: GPU; adapter: GPUAdapter; desc: AdapterDescription } | null = null;
  const noLoader = vulkanLoaderMissing();
  for (const api of opts.allowSoftware ? (['vulkan', 'opengl'] as const) : (['vulkan'] as const)) {
    if (api === 'vulkan' && noLoader) {
      reasons.push(noLoader);
      continue;
    }
    const r = await requestAdapter(dawn, api);
    if (typeof r === 'string') {
      reasons.push(r);
      continue;
    }
    const desc = describe(r.adapter, api);
    if (desc.software && !opts.allowSoftware) {
      reasons.push(`only a software adapter (${adapterLabel(desc)}), which "auto" never trains on: ask for "webgpu" explicitly`);
      continue;
    }
    found = { ...r, desc };
    break;
  }
  if (!found) throw new Error(reasons.join('; ') || 'no WebGPU adapter');

  const device = await found.adapter.requestDevice({ requiredLimits: requiredLimits(found.adapter.limits) });
  const state: Active = { device, adapter: found.desc, pending: null, lost: false };
  device.addEventListener('uncapturederror', (ev: Event) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    if (!state.pending) state.pending = new GpuKernelError(err?.constructor?.name?.replace(/^GPU|Error$/g, '').toLowerCase() || 'device', firstLine(err?.message));
  });
  void device.lost.then((info) => {
    state.lost = true;
    if (!state.pending && info.reason !== 'destroyed') state.pending = new GpuKernelError('device lost', firstLine(info.message));
  });

  const nav = (g.navigator ?? {}) as Record<string, unknown>;
  if (!g.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  }
  // WebGPUBackend's constructor checks navigator.gpu; nothing else of ours reads it.
  if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: found.gpu, configurable: true, writable: true });
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, found!.adapter.info), -1);
  // Small tensors would otherwise be computed on the cpu backend and copied: keep every op on the GPU.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  applyFlagOverrides(process.env.FAST_ADVPROP_WEBGPU_FLAGS);
  const ok = await tf.setBackend('webgpu');
  if (!ok || tf.getBackend() !== 'webgpu') {
    device.destroy();
    throw new Error("tf.setBackend('webgpu') failed");
  }
  await tf.ready();
  active = state;
  return found.desc;
}

/**
 * `FAST_ADVPROP_WEBGPU_FLAGS="WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false,…"`: tfjs' WebGPU tuning
 * flags, for A/B timing on a real GPU (scripts/gpu-check.sh); values are numbers or booleans.
 */
export function applyFlagOverrides(spec: string | undefined): Record<string, number | boolean> {
  const applied: Record<string, number | boolean> = {};
  for (const item of (spec ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const m = /^(WEBGPU_[A-Z0-9_]+)=(true|false|-?\d+(?:\.\d+)?)$/.exec(item);
    if (!m) throw new Error(`FAST_ADVPROP_WEBGPU_FLAGS: "${item}" is not FLAG=value (a WEBGPU_* flag, a number or true/false)`);
    const value = m[2] === 'true' ? true : m[2] === 'false' ? false : Number(m[2]);
    tf.env().set(m[1], value);
    applied[m[1]] = value;
  }
  return applied;
}

function firstLine(s: unknown): string {
  return String(s ?? '').split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? 'no message';
}

/** Throws the error the device reported since the last check, if any. */
export function throwPendingGpuError(): void {
  if (!active?.pending) return;
  const e = active.pending;
  active.pending = null;
  throw e;
}

/**
 * Runs `fn` (which must finish its GPU reads before resolving) inside validation, out-of-memory
 * and internal error scopes and throws GpuKernelError when any of them caught something. Off
 * webgpu it just runs `fn`.
 */
export async function gpuErrorScope<T>(fn: () => Promise<T>): Promise<T> {
  const a = active;
  if (!a || tf.getBackend() !== 'webgpu') return fn();
  throwPendingGpuError();
  const kinds: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];
  for (const k of kinds) a.device.pushErrorScope(k);
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
  }
  // Popped in reverse order of pushing; every scope must be popped even after a failure.
  const errors: [string, GPUError | null][] = [];
  for (const k of [...kinds].reverse()) errors.push([k, await a.device.popErrorScope()]);
  const hit = errors.find(([, e]) => e !== null);
  if (hit) throw new GpuKernelError(hit[0], firstLine(hit[1]!.message));
  throwPendingGpuError();
  if (thrown !== undefined) throw thrown;
  return result as T;
}

/** Destroys the device so Dawn lets the process exit; the backend cannot be used afterwards. */
export function releaseWebGpu(): void {
  if (!active) return;
  const a = active;
  active = null;
  try {
    if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  } catch {
    /* the backend may already be gone */
  }
  try {
    a.device.destroy();
  } catch {
    /* already lost */
  }
  const nav = (globalThis as Record<string, unknown>).navigator as Record<string, unknown> | undefined;
  if (nav && 'gpu' in nav) delete nav.gpu;
}
