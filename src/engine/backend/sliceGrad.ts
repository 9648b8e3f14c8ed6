// tfjs-core ships no gradient for StridedSlice on any backend, and the option-A ResNet shortcut
// (x[:, ::2, ::2, :] zero-padded in channels) is most naturally a strided slice. The gradient
// scatters dy back into a zero tensor of x's shape: zero-upsample every strided axis, then pad.
import * as tf from '@tensorflow/tfjs';

interface StridedSliceAttrs {
  begin: number[];
  end: number[];
  strides: number[];
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}

/** dL/dx of tf.stridedSlice(x, ...) for positive strides and no ellipsis / new-axis masks. */
export function stridedSliceGrad(dy: tf.Tensor, xShape: number[], a: StridedSliceAttrs): tf.Tensor {
  if (a.ellipsisMask || a.newAxisMask) throw new Error('StridedSlice gradient: ellipsis and new-axis masks are not supported');
  return tf.tidy(() => {
    const strides = a.strides ?? xShape.map(() => 1);
    const info = tf.slice_util.sliceInfo(xShape, a.begin, a.end, strides, a.beginMask, a.endMask, 0, 0, a.shrinkAxisMask);
    const rank = xShape.length;
    const counts: number[] = [];
    for (let i = 0; i < rank; i++) {
      const s = info.strides[i];
      if (!(s > 0)) throw new Error('StridedSlice gradient: only positive strides are supported');
      counts.push(Math.max(0, Math.ceil((info.end[i] - info.begin[i]) / s)));
    }
    let g = dy.reshape(counts);
    const shape = counts.slice();
    // Zero-upsample one strided axis at a time: [.., c, ..] → [.., c, 1, ..] → pad to s → [.., c*s, ..].
    for (let i = 0; i < rank; i++) {
      const s = info.strides[i];
      if (s === 1 || counts[i] === 0) continue;
      const expanded = [...shape.slice(0, i + 1), 1, ...shape.slice(i + 1)];
      const pads = expanded.map((_, j) => (j === i + 1 ? [0, s - 1] : [0, 0]) as [number, number]);
      shape[i] *= s;
      g = tf.pad(g.reshape(expanded), pads).reshape(shape);
    }
    // Place at begin; the upsampled length may overrun x's end by up to s-1 trailing zeros: crop them.
    const over = shape.map((len, i) => Math.max(0, info.begin[i] + len - xShape[i]));
    if (over.some((o) => o > 0)) {
      g = tf.slice(g, shape.map(() => 0), shape.map((len, i) => len - over[i]));
    }
    const pads = xShape.map((d, i) => [info.begin[i], d - info.begin[i] - (shape[i] - over[i])] as [number, number]);
    return pads.some(([p, q]) => p !== 0 || q !== 0) ? tf.pad(g, pads) : g;
  });
}

export const stridedSliceGradConfig: tf.GradConfig = {
  kernelName: 'StridedSlice',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved;
    return { x: () => stridedSliceGrad(dy as tf.Tensor, x.shape, attrs as unknown as StridedSliceAttrs) };
  },
};
