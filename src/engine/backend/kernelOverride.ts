// Swapping one of the wasm backend's registered kernels for ours and back. The kernel registry is
// global per thread; the stock config (with its setupFunc, already run when the backend started)
// is kept so that switching off restores exactly what tfjs registered.
import * as tf from '@tensorflow/tfjs';

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Registers `wrap(stock kernelFunc)` as the wasm kernel `name`, or the stock kernel again when
 * `wrap` is null. Idempotent; does nothing when wasm has no such kernel.
 */
export function overrideWasmKernel(name: string, wrap: ((stock: tf.KernelFunc) => tf.KernelFunc) | null): void {
  if (!stockKernels.has(name)) {
    const k = tf.getKernel(name, 'wasm');
    if (!k) return;
    stockKernels.set(name, k);
  }
  const stock = stockKernels.get(name)!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(wrap ? { ...stock, kernelFunc: wrap(stock.kernelFunc) } : stock);
}
