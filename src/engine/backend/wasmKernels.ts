// Zero-copy Identity and same-dtype Cast for the wasm backend.
//
// While a gradient tape records, tfjs-core saves every kernel input/output the gradient needs by
// engine.clone(), i.e. an Identity kernel, and many gradients cast float32 tensors to float32
// (mulGrad, reluGrad …). The stock wasm kernels copy the data each time (630 Identity and 174 Cast
// copies per ResNet-20 training step). tfjs tensors are immutable and the wasm backend refcounts
// its buffers (Reshape shares its input the same way), so these may share the input's buffer, as the
// cpu backend's Identity already does.
import * as tf from '@tensorflow/tfjs';
import { overrideWasmKernel } from './kernelOverride';

type KernelArgs = { inputs: { x: tf.TensorInfo }; attrs?: { dtype?: string }; backend: tf.KernelBackend };

function share(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  (args.backend as unknown as { incRef(id: unknown): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Replaces wasm's Identity and Cast kernels (idempotent); strings and real casts keep the stock
 * kernels. `on = false` restores the stock kernels (for same-process A/B timing).
 */
export function installWasmKernels(on = true): void {
  for (const name of ['Identity', 'Cast']) {
    overrideWasmKernel(name, on ? (stockFunc) => ((args: KernelArgs) => {
      const { x } = args.inputs;
      const same = x.dtype !== 'string' && (name === 'Identity' || args.attrs?.dtype === x.dtype);
      return same ? share(args) : stockFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    }) as unknown as tf.KernelFunc : null);
  }
}
