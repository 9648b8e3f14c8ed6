// Gradient of PadV2 (tf.pad). The stock gradient slices the padding off; wasm's Slice is slow on
// large tensors (~10 ms for the 64×34×34×16 input of ResNet-20's first strided conv). For 4-D
// tensors padded only in H and W, the crop is instead a depthwise 'valid' convolution with a
// one-hot kernel at (top, left): out[i, j] = dy[i + top, j + left], exact (products with 1 and 0),
// and several times faster on wasm. Anything else keeps the slice.
import * as tf from '@tensorflow/tfjs';

type Paddings = Array<[number, number]>;

/** dy with `paddings` cut off (the inverse of tf.pad). */
export function cropPadding(dy: tf.Tensor, paddings: Paddings): tf.Tensor {
  const begin = paddings.map((p) => p[0]);
  const size = dy.shape.map((d, i) => d - paddings[i][0] - paddings[i][1]);
  const spatialOnly = dy.rank === 4 && paddings[0][0] === 0 && paddings[0][1] === 0 && paddings[3][0] === 0 && paddings[3][1] === 0;
  if (!spatialOnly || tf.getBackend() !== 'wasm' || paddings.some((p) => p[0] < 0 || p[1] < 0)) return tf.slice(dy, begin, size);
  const [t, b] = paddings[1];
  const [l, r] = paddings[2];
  if (t + b === 0 && l + r === 0) return dy;
  const c = dy.shape[3] as number;
  const kernel = tf.pad(tf.ones([1, 1, c, 1]), [[t, b], [l, r], [0, 0], [0, 0]]) as tf.Tensor4D;
  return tf.depthwiseConv2d(dy as tf.Tensor4D, kernel, 1, 'valid');
}

export const padGradConfig: tf.GradConfig = {
  kernelName: 'PadV2',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], _saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const paddings = (attrs as unknown as { paddings: Paddings }).paddings;
    return { x: () => cropPadding(dy as tf.Tensor, paddings) };
  },
};
