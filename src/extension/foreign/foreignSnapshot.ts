// A foreign run as the views see our own: the per-epoch figures become metrics records (one `step`
// record per epoch, numbered 1…N so the stream charts and the test-accuracy chart share their x
// axis), the last epoch's test figures its results, the ImageNet-C log its robustness record. No
// vscode import: unit tested.
import type { ForeignEpoch, ForeignOrigin, ForeignRun, ForeignRunDescription } from '../../shared/foreign/foreignRun';
import { updateLeak, newLeakState, type LeakState } from '../../engine/train/leak';
import type { RobustnessRecord } from '../../shared/robustness';
import type { LeakFlag, MetricsRecord, RunResults, StreamStats } from '../../shared/runFormat';
import type { RunSnapshot } from '../runSnapshot';

/** What tells a foreign run from ours in the views; its presence hides Stop / Resume / Evaluate / Delete. */
export interface ForeignInfo {
  origin: ForeignOrigin;
  description?: ForeignRunDescription;
  warnings: string[];
}

/**
 * The leak check on per-epoch figures: each is already a mean over an epoch's steps, so 3 epochs
 * is as steady a window as our detector's 5 logging intervals; the margin is our default's.
 */
export const FOREIGN_LEAK = { window: 3, margin: 0.02 } as const;

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const iso = (unixSeconds: number | undefined): string => (finite(unixSeconds) ? new Date(unixSeconds * 1000).toISOString() : '');

function stream(s: { loss?: number; acc?: number } | undefined): StreamStats | undefined {
  if (!s || (!finite(s.loss) && !finite(s.acc))) return undefined;
  // NaN travels as null and the charts skip it: a stream with only a loss still draws its loss.
  return { loss: s.loss ?? NaN, acc: s.acc ?? NaN, images: 0 };
}

/** One step record and, where the epoch has figures, one epoch record per epoch, leak verdicts included. */
export function foreignMetrics(epochs: readonly ForeignEpoch[]): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  let leak: LeakState = newLeakState();
  epochs.forEach((e, i) => {
    const x = i + 1;
    const t = iso(e.wallTime);
    const clean = stream(e.clean);
    const rec: MetricsRecord = {
      v: 1, kind: 'step', t, step: x, epoch: i, lr: e.lr ?? NaN, loss: e.clean?.loss ?? NaN,
      clean: clean ?? { loss: NaN, acc: NaN, images: 0 }, imagesPerSecond: NaN, passes: { clean: 0, attack: 0, adv: 0 },
    };
    const noise = stream(e.noise);
    const adv = stream(e.adv);
    if (noise) rec.noise = noise;
    if (adv) rec.adv = adv;
    if (finite(e.clean?.acc) && finite(e.adv?.acc)) {
      const u = updateLeak(leak, { step: x, clean: e.clean.acc, adv: e.adv.acc }, FOREIGN_LEAK);
      leak = u.state;
      if (u.flag) rec.leak = { ...u.flag, message: u.flag.message.replace(/intervals/, 'epochs') };
    }
    out.push(rec);
    if (e.test && (finite(e.test.acc) || finite(e.test.loss))) {
      out.push({
        v: 1, kind: 'epoch', t, epoch: i, step: x, seconds: NaN,
        test: { loss: e.test.loss ?? NaN, acc: e.test.acc ?? NaN },
        train: { loss: e.clean?.loss ?? NaN, acc: e.clean?.acc ?? NaN },
      });
    }
  });
  return out;
}

function lastLeak(metrics: readonly MetricsRecord[]): LeakFlag | undefined {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const r = metrics[i];
    if (r.kind === 'step' && r.leak) return r.leak;
  }
  return undefined;
}

/** The last epoch with a test accuracy stands for the run's clean accuracy, as our results.json's final evaluation does. */
export function foreignResults(run: ForeignRun, metrics: readonly MetricsRecord[]): RunResults | undefined {
  const tested = [...run.epochs].reverse().find((e) => finite(e.test?.acc));
  if (!tested) return undefined;
  const times = run.epochs.map((e) => e.wallTime).filter(finite);
  const out: RunResults = {
    schema: 1,
    state: 'completed',
    clean: { accuracy: tested.test!.acc!, loss: tested.test?.loss ?? NaN },
    epochs: run.epochs.length,
    steps: NaN,
    // Between the first and the last epoch's stamps: the first epoch's own time is not in the file.
    wallSeconds: times.length > 1 ? Math.max(...times) - Math.min(...times) : NaN,
    imagesPerSecond: NaN,
    passes: { clean: 0, attack: 0, adv: 0, total: 0 },
    plannedPasses: NaN,
  };
  const leak = lastLeak(metrics);
  if (leak) out.leak = leak;
  return out;
}

/**
 * The ImageNet-C log as a robustness record. The log has no clean error of its own: the clean
 * accuracy is the run's last test accuracy when there is one, else the record is left out (a
 * made-up clean figure would show as a result).
 */
export function foreignRobustness(run: ForeignRun, results: RunResults | undefined, dir: string): RobustnessRecord | undefined {
  const c = run.imagenetC;
  if (!c || !results) return undefined;
  const corruptions: RobustnessRecord['corruptions'] = {};
  for (const [name, v] of Object.entries(c.corruptions)) {
    // A log cut down to its Distortion lines has no cells: none are made up (its means are in the summary).
    corruptions[name] = { family: v.family, errors: v.errors ?? [null, null, null, null, null] };
  }
  return {
    schema: 1,
    createdAt: '',
    source: 'imagenet-c-log',
    run: { dir, checkpoint: c.file },
    images: 0,
    clean: { accuracy: results.clean.accuracy, error: 1 - results.clean.accuracy },
    corruptions,
    summary: c.summary,
  };
}

/** The snapshot the views read; `name` carries the origin so every list and export says where the run came from. */
export function foreignSnapshot(dir: string, folderName: string, run: ForeignRun, createdMs: number): RunSnapshot {
  const metrics = foreignMetrics(run.epochs);
  const results = foreignResults(run, metrics);
  const robustness = foreignRobustness(run, results, dir);
  const foreign: ForeignInfo = { origin: run.origin, warnings: run.warnings };
  if (run.description) foreign.description = run.description;
  const snap: RunSnapshot = {
    runDir: dir,
    name: `${folderName} (${run.origin})`,
    metrics,
    alive: false,
    crashed: false,
    createdMs,
    foreign,
  };
  if (results) snap.results = results;
  if (robustness) snap.robustness = robustness;
  return snap;
}
