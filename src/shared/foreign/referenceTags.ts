// The scalar tags the authors' imagenet.py writes once per epoch, and where each lands in our model.
// Its accuracies are percent (AverageMeter over prec@1 · 100); ours are fractions.

import { epochEntry, type ForeignEpoch, type ForeignRun, type ForeignStream } from './foreignRun';
import type { ScalarPoint } from './eventProto';

type Slot = { stream: 'clean' | 'noise' | 'adv' | 'test'; field: keyof ForeignStream; percent: boolean } | { stream: 'lr' };

export const REFERENCE_TAGS: Readonly<Record<string, Slot>> = {
  'Train/loss': { stream: 'clean', field: 'loss', percent: false },
  'Train/acc': { stream: 'clean', field: 'acc', percent: true },
  'Train/lr': { stream: 'lr' },
  'Train/loss_attack': { stream: 'noise', field: 'loss', percent: false },
  'Train/acc_attack': { stream: 'noise', field: 'acc', percent: true },
  'Train/loss_adv': { stream: 'adv', field: 'loss', percent: false },
  'Train/acc_adv': { stream: 'adv', field: 'acc', percent: true },
  'Test/loss': { stream: 'test', field: 'loss', percent: false },
  'Test/acc': { stream: 'test', field: 'acc', percent: true },
};

/**
 * Folds scalars into a run, as they arrive: the step of a reference scalar is its epoch. A value
 * written again for the same epoch (a resumed run repeats the epoch it was killed in) replaces the
 * earlier one; tags not in REFERENCE_TAGS go to `extra` as they are.
 */
export class ScalarRunBuilder {
  private readonly byEpoch = new Map<number, ForeignEpoch>();

  constructor(readonly run: ForeignRun) {
    for (const e of run.epochs) this.byEpoch.set(e.epoch, e);
  }

  add(points: readonly ScalarPoint[]): void {
    for (const p of points) {
      const slot = REFERENCE_TAGS[p.tag];
      if (!slot) {
        (this.run.extra[p.tag] ??= []).push({ step: p.step, value: p.value, wallTime: p.wallTime });
        continue;
      }
      const e = epochEntry(this.run.epochs, this.byEpoch, p.step);
      if (p.wallTime) e.wallTime = Math.max(e.wallTime ?? 0, p.wallTime);
      if (slot.stream === 'lr') e.lr = p.value;
      else (e[slot.stream] ??= {})[slot.field] = slot.percent ? p.value / 100 : p.value;
    }
  }
}
