import type { BatchStats, BnLayerInfo, BnSet, ModelLayout } from '../exec/types';

// Running statistics live in the trainer's master state, not in the replicas, so that they are
// checkpointed with everything else and do not depend on how many workers ran the passes.
// PyTorch semantics: running = (1 − m)·running + m·batch, with the variance made unbiased by
// n/(n − 1), n = the number of values per channel that the statistic was computed over.

export const BN_MOMENTUM = 0.1;

/** BN layers of one set, in layout order (the order BatchStats.values follows). */
export function bnLayersOf(layout: ModelLayout, set: BnSet): BnLayerInfo[] {
  return layout.bnLayers.filter((l) => l.set === set);
}

/**
 * Values per channel behind one group's statistic: a conv BN averages over groupSize·H·W
 * (`spatial` from bnSpatialSizes; a layer missing there counts as 1×1).
 */
export function valuesPerChannel(layer: BnLayerInfo, groupSize: number, spatial?: ReadonlyMap<string, number>): number {
  return groupSize * (spatial?.get(layer.name) ?? 1);
}

export function updateRunningStats(
  layout: ModelLayout, set: BnSet, stats: BatchStats, running: Float32Array,
  spatial?: ReadonlyMap<string, number>, momentum = BN_MOMENTUM,
): void {
  const layers = bnLayersOf(layout, set);
  let o = 0;
  for (const layer of layers) {
    const c = layer.channels;
    const n = valuesPerChannel(layer, stats.groupSize, spatial);
    const corr = n > 1 ? n / (n - 1) : 1;
    for (let i = 0; i < c; i++) {
      const mean = stats.values[o + i];
      const v = stats.values[o + c + i];
      running[layer.offset + i] = (1 - momentum) * running[layer.offset + i] + momentum * mean;
      running[layer.offset + c + i] = (1 - momentum) * running[layer.offset + c + i] + momentum * v * corr;
    }
    o += 2 * c;
  }
  if (o !== stats.values.length) {
    throw new Error(`BN statistics of the ${set} set hold ${stats.values.length} values, the layout expects ${o}`);
  }
}
