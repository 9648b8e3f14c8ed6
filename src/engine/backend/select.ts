// Picks the tfjs backend that trains. Native TensorFlow (tfjs-node-gpu / tfjs-node) is far faster
// but cannot be installed everywhere (its install script downloads libtensorflow), so it is loaded
// lazily inside try/catch; wasm (one core per thread, see src/engine/exec/pool.ts) is the portable
// fast path; the pure-JS cpu backend is the last resort.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../../shared/config';
import type { BackendInfo } from '../../shared/runFormat';
import { installTrainingGradients } from './convGrad';
import { fastKernelsStatus } from './fastKernels';
import { configureWasmPaths } from './wasmPaths';
import { adapterLabel } from '../../shared/backendLabel';
import { activateWebGpu, vulkanLoaderMissing, WEBGPU_PACKAGE } from './webgpu';

// Set the paths before anything can initialise wasm (tf.ready() would pick it by priority).
configureWasmPaths();
silenceCpuBanner();

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js … install our
 * node backend" on its first write in Node (tfjs-backend-cpu MathBackendCPU.write, once per
 * instance, through tfjs-core's log.warn). In `bench` (its cpu-1 row), in WebGPU's small-op
 * forwarding and wherever else cpu is used, it reads as an error and gives advice that does not
 * apply (we choose the backend ourselves and record why). That first write is made here, with
 * tfjs' PROD flag (the one log.warn honours) set for it alone and then put back, so every later
 * tfjs warning still prints.
 */
export function silenceCpuBanner(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  try {
    env.set('PROD', true);
    const cpu = tf.engine().findBackend('cpu');
    if (cpu) cpu.disposeData(cpu.write(new Float32Array(1), [1], 'float32'));
  } catch {
    // No cpu backend (a build without it): then there is no banner either.
  } finally {
    env.set('PROD', prod);
  }
}

export interface SelectOptions {
  /** Recorded in BackendInfo.workers (the executor fills in the real count). */
  workers?: number;
  /** Loads a native package; tests replace it. Defaults to a require that esbuild leaves alone. */
  load?: (pkg: string) => unknown;
}

/** What a candidate's try() may report back besides success. */
interface Outcome {
  /** The package that provided the backend when it is not the candidate's own. */
  pkg?: string;
  /** Overrides the candidate's `gpu` (a software WebGPU adapter is not a GPU). */
  gpu?: boolean;
  /** Appended to the reason, e.g. the adapter's name. */
  detail?: string;
  adapter?: BackendInfo['adapter'];
}

type Attempt = BackendInfo['attempts'][number];

const PKG_GPU = '@tensorflow/tfjs-node-gpu';
const PKG_NODE = '@tensorflow/tfjs-node';
const PKG_WASM = '@tensorflow/tfjs-backend-wasm';
const PKG_CPU = '@tensorflow/tfjs';

/** A require whose argument esbuild cannot see, so the native packages are never bundled. */
function nativeRequire(pkg: string): unknown {
  const req: (id: string) => unknown = typeof module !== 'undefined' && typeof module.require === 'function' ? module.require.bind(module) : require;
  return req([pkg][0]);
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  return m.split('\n')[0];
}

export class BackendUnavailableError extends Error {
  constructor(readonly requested: BackendName, readonly attempts: Attempt[], fix: string) {
    super(`backend "${requested}" is not available (${attempts.map((a) => `${a.backend}: ${a.error ?? 'ok'}`).join('; ')}). ${fix}`);
    this.name = 'BackendUnavailableError';
  }
}

/** Whether the loaded tfjs-node-gpu sees a GPU. The binding exposes isUsingGpuDevice(); absent → unknown (false). */
function nativeSeesGpu(): boolean {
  const b = tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } };
  try {
    return typeof b.binding?.isUsingGpuDevice === 'function' ? Boolean(b.binding.isUsingGpuDevice()) : false;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

interface Candidate {
  backend: Exclude<BackendName, 'auto'>;
  pkg: string;
  tfName: string;
  gpu: boolean;
  /** Activates the backend. `explicit`: the user named this backend (not reached through auto). */
  try: (load: (pkg: string) => unknown, explicit: boolean) => Promise<Outcome | void>;
}

const candidates: Record<Candidate['backend'], Candidate> = {
  'tensorflow-gpu': {
    backend: 'tensorflow-gpu', pkg: PKG_GPU, tfName: 'tensorflow', gpu: true,
    try: async (load) => {
      load(PKG_GPU);
      await activate('tensorflow');
      if (!nativeSeesGpu()) throw new Error('tfjs-node-gpu loaded but TensorFlow sees no GPU (CUDA/cuDNN missing or no device)');
    },
  },
  webgpu: {
    backend: 'webgpu', pkg: WEBGPU_PACKAGE, tfName: 'webgpu', gpu: true,
    try: async (load, explicit) => {
      const missing = vulkanLoaderMissing();
      // Without the Vulkan loader only the software adapter could answer, which auto never uses;
      // skipping here also keeps Dawn's own warnings out of every CPU run's log.
      if (missing && !explicit) throw new Error(missing);
      const adapter = await activateWebGpu({ allowSoftware: explicit, load });
      return {
        gpu: !adapter.software,
        adapter,
        detail: adapter.software
          ? `${adapterLabel(adapter)} via ${adapter.api}: a software adapter, correct but far slower than wasm`
          : `${adapterLabel(adapter)} via ${adapter.api}`,
      };
    },
  },
  tensorflow: {
    backend: 'tensorflow', pkg: PKG_NODE, tfName: 'tensorflow', gpu: false,
    try: async (load) => {
      // Either native package provides the 'tensorflow' backend; package.json ships the GPU one.
      let pkg = PKG_NODE;
      try {
        load(PKG_NODE);
      } catch (e) {
        try {
          load(PKG_GPU);
          pkg = PKG_GPU;
        } catch {
          throw e;
        }
      }
      await activate('tensorflow');
      return { pkg };
    },
  },
  wasm: {
    backend: 'wasm', pkg: PKG_WASM, tfName: 'wasm', gpu: false,
    try: async () => {
      if (!configureWasmPaths()) throw new Error('the tfjs wasm binaries (tfjs-backend-wasm-simd.wasm) were not found next to the engine or in node_modules');
      await activate('wasm');
    },
  },
  cpu: {
    backend: 'cpu', pkg: PKG_CPU, tfName: 'cpu', gpu: false,
    try: async () => activate('cpu'),
  },
};

const FIX: Record<Exclude<BackendName, 'auto'>, string> = {
  'tensorflow-gpu': 'Install @tensorflow/tfjs-node-gpu on a machine with CUDA and a GPU, or set the "backend" setting to "auto".',
  webgpu: 'Install the Vulkan loader and your GPU driver (Debian: apt-get install libvulkan1), or Mesa\'s software adapter for testing (libegl1 libegl-mesa0 libgl1-mesa-dri), or set the "backend" setting to "auto".',
  tensorflow: 'Install @tensorflow/tfjs-node (needs to download libtensorflow), or set the "backend" setting to "auto".',
  wasm: 'Reinstall the extension (the .wasm files must sit next to dist/cli.js), or set the "backend" setting to "cpu" or "auto".',
  cpu: 'The pure-JS backend ships with @tensorflow/tfjs; reinstall the extension.',
};

/**
 * Makes `requested` the active tfjs backend of this thread and describes the outcome. `auto` tries
 * tfjs-node-gpu (with a GPU), webgpu (a hardware adapter only), tfjs-node, wasm, cpu in that order;
 * an explicit name loads only that one (webgpu then also accepts a software adapter) and throws
 * BackendUnavailableError naming the `backend` setting when it cannot.
 * Also installs the replacement gradients every backend trains with (see convGrad.ts).
 */
export async function selectBackend(requested: BackendName, opts: SelectOptions = {}): Promise<BackendInfo> {
  const load = opts.load ?? nativeRequire;
  installTrainingGradients();
  const order: Candidate[] = requested === 'auto'
    ? [candidates['tensorflow-gpu'], candidates.webgpu, candidates.tensorflow, candidates.wasm, candidates.cpu]
    : [candidates[requested]];
  if (order.some((c) => c === undefined)) throw new Error(`unknown backend "${requested}": set the "backend" setting to auto, tensorflow-gpu, webgpu, tensorflow, wasm or cpu`);
  const attempts: Attempt[] = [];
  for (const c of order) {
    try {
      const out = (await c.try(load, requested !== 'auto')) || {};
      const pkg = out.pkg ?? c.pkg;
      attempts.push({ backend: c.backend, ok: true });
      const failed = attempts.filter((a) => !a.ok);
      const kernels = c.backend === 'wasm' ? `; ${fastKernelsStatus()}` : '';
      const detail = out.detail ? ` on ${out.detail}` : '';
      const reason = requested === 'auto'
        ? `auto: using ${c.backend} (${pkg})${detail}${kernels}${failed.length ? `; ${failed.map((a) => `${a.backend} unavailable: ${a.error}`).join('; ')}` : ''}`
        : `${c.backend} requested and loaded (${pkg})${detail}${kernels}`;
      const info: BackendInfo = { name: c.tfName, requested, package: pkg, gpu: out.gpu ?? c.gpu, reason, attempts, workers: opts.workers ?? 1 };
      if (out.adapter) info.adapter = out.adapter;
      return info;
    } catch (e) {
      attempts.push({ backend: c.backend, ok: false, error: message(e) });
      // A tfjs-node-gpu that loaded without seeing a GPU is picked up again by the tensorflow
      // candidate (native CPU kernels), after webgpu has had its chance at a hardware adapter.
    }
  }
  if (requested === 'auto') throw new BackendUnavailableError(requested, attempts, 'No tfjs backend could be loaded; reinstall the extension.');
  throw new BackendUnavailableError(requested, attempts, FIX[requested]);
}
