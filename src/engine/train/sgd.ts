// SGD with momentum and L2 weight decay in PyTorch's order (torch.optim.SGD, dampening 0,
// nesterov off): d = g + wd·p; buf = μ·buf + d (buf starts at d, which a zero buffer reproduces);
// p -= lr·buf. Weight decay applies to every parameter, BN gamma/beta included, as the reference
// (a plain torch SGD over model.parameters()) does.

export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
}

export function sgdStep(params: Float32Array, grads: Float32Array, momentum: Float32Array, o: SgdOptions): void {
  const n = params.length;
  if (grads.length !== n || momentum.length !== n) throw new Error(`sgdStep: length mismatch (params ${n}, grads ${grads.length}, momentum ${momentum.length})`);
  const { lr, momentum: mu, weightDecay: wd } = o;
  for (let i = 0; i < n; i++) {
    const d = grads[i] + wd * params[i];
    const b = mu * momentum[i] + d;
    momentum[i] = b;
    params[i] -= lr * b;
  }
}

/**
 * The first index whose momentum or weight `sgdStep` would make non-finite, or -1; mutates
 * nothing, so a diverging step can be refused while the master state is still the last good one.
 * Mirrors sgdStep's arithmetic exactly (float64 temporaries, float32 stores), because a value can
 * be finite in float64 and still overflow to Inf when stored.
 */
export function sgdNonFiniteIndex(params: Float32Array, grads: Float32Array, momentum: Float32Array, o: SgdOptions): number {
  const n = params.length;
  const { lr, momentum: mu, weightDecay: wd } = o;
  for (let i = 0; i < n; i++) {
    const d = grads[i] + wd * params[i];
    const b = mu * momentum[i] + d;
    if (!Number.isFinite(Math.fround(b)) || !Number.isFinite(Math.fround(params[i] - lr * b))) return i;
  }
  return -1;
}
