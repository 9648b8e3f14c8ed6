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
