// The reference's ImageNet-C evaluation log (imagenet.py --evaluate_imagenet_c writes it as
// eval_imagenet_c.txt beside the loaded checkpoint): per distortion, the tuple of its errors at
// severities 1–5 and then its mean in percent,
//   =Average (0.41, 0.52, 0.63, 0.71, 0.80)
//   Distortion: gaussian_noise   | CE (unnormalized) (%): 61.40
// then print()s of the list of names, the list of mean error rates and their mean. A log cut down
// to the Distortion lines still reads: each corruption then has its mean error and no cells.

import {
  ALEXNET_ERRORS, ALL_CORRUPTIONS, CORRUPTIONS, familyOf, isCorruptionName,
  type CorruptionFamily, type RobustnessSummary, type SeverityErrors,
} from '../robustness';

export interface ForeignRobustness {
  source: 'imagenet-c-log';
  file: string;
  /** Error rate in [0, 1] averaged over severities 1–5, per corruption found. */
  corruptions: Record<string, { family: CorruptionFamily; meanError: number; errors?: SeverityErrors }>;
  /** The mean the log printed, in percent, whatever it averaged over. */
  loggedMean?: number;
  /** Distortion names that are not one of our 19 (kept out of every figure). */
  unknown: string[];
  summary: RobustnessSummary;
}

const LINE = /^\s*Distortion:\s*(\S+)\s*\|\s*CE \(unnormalized\) \(%\):\s*(\S+)\s*$/;
const AVERAGE = /^\s*=Average\s*\((.*)\)\s*$/;
const NP_FLOAT = /np\.float(?:16|32|64)\(([^()]*)\)/g;

/** Python list (or numpy array) literals, possibly wrapped over several lines. */
function lists(text: string): string[][] {
  const out: string[][] = [];
  const re = /\[([^\[\]]*)\]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(m[1].split(/[\s,]+/).map((s) => s.trim()).filter(Boolean));
  }
  return out;
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

export function readImagenetCLog(file: string, text: string): ForeignRobustness {
  const percent = new Map<string, number>();
  const cells = new Map<string, SeverityErrors>();
  const unknown: string[] = [];
  const rest: string[] = [];
  let pending: number[] | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const avg = AVERAGE.exec(line.replace(NP_FLOAT, '$1'));
    if (avg) {
      pending = avg[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
      continue;
    }
    const m = LINE.exec(line);
    if (!m) {
      rest.push(line);
      continue;
    }
    const v = Number(m[2]);
    if (!Number.isFinite(v)) throw new Error(`${file}: line ${i + 1}: distortion ${m[1]} has no number after "CE (unnormalized) (%):" (got "${m[2]}")`);
    percent.set(m[1], v);
    // The tuple printed just before belongs to this distortion; the reference evaluates severities 1–5.
    if (pending && pending.length === 5 && pending.every((e) => Number.isFinite(e) && e >= 0 && e <= 1)) cells.set(m[1], pending as SeverityErrors);
    pending = undefined;
  }
  if (!percent.size) throw new Error(`${file}: not an ImageNet-C log (no "Distortion: <name> | CE (unnormalized) (%): <x>" line)`);

  // The printed lists carry the unrounded rates; use them where they name the same distortions.
  // NumPy 2 prints its floats as np.float64(x).
  const tail = rest.join('\n').replace(NP_FLOAT, '$1');
  const rates = new Map<string, number>();
  const ls = lists(tail);
  const names = ls.find((l) => l.length && l.every((s) => /^['"].*['"]$/.test(s)))?.map((s) => s.slice(1, -1));
  const values = ls.find((l) => l.length && l.every((s) => Number.isFinite(Number(s))))?.map(Number);
  let scale = 1;
  if (names && values && names.length === values.length) {
    // np.mean of fractions, or of percents: whichever matches the per-line figures.
    const probe = names.findIndex((n) => percent.has(n));
    scale = probe >= 0 && Math.abs(values[probe] * 100 - percent.get(names[probe])!) < Math.abs(values[probe] - percent.get(names[probe])!) ? 100 : 1;
    names.forEach((n, i) => rates.set(n, (values[i] * scale) / 100));
  }
  let loggedMean: number | undefined;
  const after = values ? tail.slice(tail.lastIndexOf(']') + 1) : '';
  const meanLine = after.split('\n').map((s) => s.trim()).find((s) => s && Number.isFinite(Number(s)));
  if (meanLine !== undefined) loggedMean = Number(meanLine) * scale;

  const corruptions: ForeignRobustness['corruptions'] = {};
  for (const [name, p] of percent) {
    if (!isCorruptionName(name)) {
      unknown.push(name);
      continue;
    }
    const sev = cells.get(name);
    const r = sev ? mean(sev as number[]) : rates.get(name);
    // The per-line figure is rounded to 0.01 %; an unrounded value further off is not this line's.
    const err = r !== undefined && Math.abs(r * 100 - p) <= 0.006 ? r : p / 100;
    corruptions[name] = { family: familyOf(name), meanError: err };
    if (sev && err === r) corruptions[name].errors = sev;
  }

  const of15 = CORRUPTIONS.filter((c) => c in corruptions);
  const all19 = ALL_CORRUPTIONS.every((c) => c in corruptions);
  const summary: RobustnessSummary = {
    meanCorruptionError: of15.length ? 100 * mean(of15.map((c) => corruptions[c].meanError)) : null,
    mCE: of15.length === CORRUPTIONS.length ? mean(of15.map((c) => (100 * corruptions[c].meanError) / ALEXNET_ERRORS[c])) : null,
    // Relative mCE needs the clean error of the evaluated checkpoint, which this log does not give.
    relativeMCE: null,
    coverage: { corruptions: of15.length, severities: [1, 2, 3, 4, 5], cells: of15.length * 5 },
    meanError19: all19 ? 100 * mean(ALL_CORRUPTIONS.map((c) => corruptions[c].meanError)) : null,
    perCorruptionCE: Object.fromEntries(of15.map((c) => [c, (100 * corruptions[c].meanError) / ALEXNET_ERRORS[c]])),
    missing: CORRUPTIONS.filter((c) => !(c in corruptions)),
  };
  const out: ForeignRobustness = { source: 'imagenet-c-log', file, corruptions, unknown, summary };
  if (loggedMean !== undefined) out.loggedMean = loggedMean;
  return out;
}
