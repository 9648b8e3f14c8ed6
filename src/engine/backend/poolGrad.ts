// wasm's MaxPoolGrad kernel finds each window's argmax starting from 0 rather than -∞: wherever a
// window's values are all negative (and, for 'same', wherever the zero padding wins) it sends the
// gradient nowhere instead of to the max the forward pass returned. The argmax is invariant under a
// shift, so on wasm we hand the kernel x − min(x) + 1 (all ≥ 1, above any padding). Ties closer than
// float rounding of the shift can resolve differently; that changes nothing measurable. (After a
// ReLU, as in the ImageNet stem, inputs are ≥ 0 and the bug is mostly latent, but a gradient check
// against the cpu backend catches it.)
import * as tf from '@tensorflow/tfjs';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, y: tf.Tensor4D, a: PoolAttrs): tf.Tensor4D {
  const kernel = (input: tf.Tensor4D, pad: PoolAttrs['pad']): tf.Tensor4D => tf.engine().runKernel('MaxPoolGrad', { dy, input, output: y }, {
    filterSize: a.filterSize, strides: a.strides, pad, dimRoundingMode: a.dimRoundingMode,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  if (tf.getBackend() !== 'wasm') return kernel(x, a.pad);
  return tf.tidy(() => kernel(tf.add(x, tf.sub(1, tf.min(x))), a.pad));
}

export const maxPoolGradConfig: tf.GradConfig = {
  kernelName: 'MaxPool',
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
    return { x: () => maxPoolGrad(dy as tf.Tensor4D, x, y, attrs as unknown as PoolAttrs) };
  },
};
