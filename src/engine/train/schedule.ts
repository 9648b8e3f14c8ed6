// Step LR as torch.optim.lr_scheduler.MultiStepLR stepped once per epoch: during epoch e
// (0-based) the rate is lr · decay^(number of milestones ≤ e).

export function lrAtEpoch(baseLr: number, decay: number, milestones: readonly number[], epoch: number): number {
  let lr = baseLr;
  for (const m of milestones) if (epoch >= m) lr *= decay;
  return lr;
}
