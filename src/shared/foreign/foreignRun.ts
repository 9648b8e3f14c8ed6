// A run written by someone else's trainer (the authors' PyTorch code, timm, any TensorBoard writer),
// mapped onto our run model as far as it goes: per-epoch records with the clean / noise / adv
// streams, test figures and LR, plus whatever could not be mapped, kept as named series. Values
// are ours in units: accuracies are fractions in [0, 1] (the reference and timm log percent).

import type { ForeignRobustness } from './imagenetCLog';

export type ForeignOrigin = 'PyTorch reference' | 'timm' | 'TensorBoard';

export interface ForeignStream {
  loss?: number;
  /** Top-1 in [0, 1]. */
  acc?: number;
}

export interface ForeignEpoch {
  /** As the writer numbered it (the reference's TensorBoard step is its epoch; log.txt rows count from 0). */
  epoch: number;
  lr?: number;
  /** Train/loss, Train/acc: the main-BN clean stream. */
  clean?: ForeignStream;
  /** Train/*_attack: the attack's forward pass on the auxiliary BN (our `noise` stream). */
  noise?: ForeignStream;
  /** Train/*_adv: the adversarial training pass (our `adv` stream). */
  adv?: ForeignStream;
  test?: ForeignStream & { top5?: number };
  /** Unix seconds of the latest value of this epoch, where the writer stamped them (TensorBoard). */
  wallTime?: number;
}

export interface SeriesPoint {
  step: number;
  value: number;
  wallTime?: number;
}

export interface ForeignRunDescription {
  model?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
}

export interface ForeignRun {
  origin: ForeignOrigin;
  epochs: ForeignEpoch[];
  /** Series no field above holds, by their writer's name (a TensorBoard tag, a CSV column). */
  extra: Record<string, SeriesPoint[]>;
  description?: ForeignRunDescription;
  /** The reference's ImageNet-C evaluation, where its log is in the folder. */
  imagenetC?: ForeignRobustness;
  /** One line each: what was skipped or could not be read, naming the file. */
  warnings: string[];
}

/** Keeps `epochs` sorted by epoch, one entry per epoch, and returns the entry for `epoch`. */
export function epochEntry(epochs: ForeignEpoch[], byEpoch: Map<number, ForeignEpoch>, epoch: number): ForeignEpoch {
  let e = byEpoch.get(epoch);
  if (!e) {
    e = { epoch };
    byEpoch.set(epoch, e);
    let i = epochs.length;
    while (i > 0 && epochs[i - 1].epoch > epoch) i--;
    epochs.splice(i, 0, e);
  }
  return e;
}
