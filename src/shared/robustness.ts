// robustness.json: the corruption-robustness record the engine writes into a run folder and the
// extension reads back. Kept dependency-free so the webview can import it too.

export const ROBUSTNESS_SCHEMA = 1;

/** The 15 ImageNet-C / CIFAR-10-C corruptions, in the reference order (AlexNet errors follow it). */
export const CORRUPTIONS = [
  'gaussian_noise', 'shot_noise', 'impulse_noise',
  'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
  'snow', 'frost', 'fog', 'brightness',
  'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression',
] as const;

/** The 4 held-out corruptions; never part of mCE. */
export const EXTRA_CORRUPTIONS = ['speckle_noise', 'gaussian_blur', 'spatter', 'saturate'] as const;

export const ALL_CORRUPTIONS = [...CORRUPTIONS, ...EXTRA_CORRUPTIONS] as const;

/** AlexNet's ImageNet-C error per corruption, in CORRUPTIONS order (Hendrycks & Dietterich). */
export const ALEXNET_ERRORS: Readonly<Record<string, number>> = Object.fromEntries(
  CORRUPTIONS.map((c, i) => [c, [0.886428, 0.894468, 0.92264, 0.81988, 0.826268, 0.785948, 0.79836, 0.866816, 0.826572, 0.819324, 0.564592, 0.853204, 0.646056, 0.71784, 0.6065][i]]),
);
export const ALEXNET_CLEAN_ERROR = 0.4348;

export type CorruptionName = (typeof ALL_CORRUPTIONS)[number];
export type CorruptionFamily = 'noise' | 'blur' | 'weather' | 'digital';

export const CORRUPTION_FAMILIES: Readonly<Record<CorruptionFamily, readonly CorruptionName[]>> = {
  noise: ['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise'],
  blur: ['defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur', 'gaussian_blur'],
  weather: ['snow', 'frost', 'fog', 'brightness', 'spatter'],
  digital: ['contrast', 'elastic_transform', 'pixelate', 'jpeg_compression', 'saturate'],
};

export function familyOf(name: CorruptionName): CorruptionFamily {
  for (const f of Object.keys(CORRUPTION_FAMILIES) as CorruptionFamily[]) {
    if (CORRUPTION_FAMILIES[f].includes(name)) return f;
  }
  throw new Error(`corruption "${name}" belongs to no family`);
}

export function isCorruptionName(name: string): name is CorruptionName {
  return (ALL_CORRUPTIONS as readonly string[]).includes(name);
}

export type SeverityErrors = [number | null, number | null, number | null, number | null, number | null];

export interface RobustnessSummary {
  /** CIFAR-10-C convention: 100 − mean accuracy (percent) over the cells of the 15 that were evaluated. */
  meanCorruptionError: number | null;
  /**
   * ImageNet-C mCE (percent of AlexNet's error, averaged over the 15 corruptions): only when all
   * 15 × 5 cells were evaluated, since AlexNet's errors are over all five severities; else null.
   */
  mCE: number | null;
  relativeMCE: number | null;
  /** What the figures above average over, among the 15 (absent in records before it was kept). */
  coverage?: { corruptions: number; severities: number[]; cells: number };
  /**
   * The reference's ImageNet-C log figure: the unnormalised mean error (percent) over all 19
   * distortions, each over severities 1–5; null unless all 19 × 5 cells were evaluated.
   */
  meanError19?: number | null;
  perCorruptionCE: Record<string, number>;
  perCorruptionRelativeCE?: Record<string, number>;
  /** CE normalised by a baseline run's errors (100 = as robust as the baseline). */
  baselineCE?: Record<string, number>;
  baselineMCE?: number | null;
  /** Cells that were not evaluated, as "name@severity" or a whole "name". */
  missing?: string[];
}

/** One cell of the thumbnail strip: the sample image under a corruption ("clean", severity 0, for none). */
export interface RobustnessThumbnail {
  corruption: string;
  severity: number;
  /** data:image/png;base64,… */
  src: string;
}

export interface RobustnessRecord {
  schema: 1;
  createdAt: string;
  /** imagenet-c-log: read from the reference's ImageNet-C evaluation log (a foreign run, #18). */
  source: 'in-memory' | 'cifar10-c-npy' | 'imagenet-c-log';
  run?: { id?: string; dir?: string; method?: string; checkpoint?: string; dataset?: string };
  images: number;
  seed?: number;
  clean: { accuracy: number; error: number };
  corruptions: Record<string, { family: CorruptionFamily; errors: SeverityErrors }>;
  summary: RobustnessSummary;
  pgd?: { steps: number; epsilon: number; accuracy: number };
  /** One test image, clean and under each evaluated corruption × severity. */
  thumbnails?: RobustnessThumbnail[];
}

const FAMILIES: readonly string[] = ['noise', 'blur', 'weather', 'digital'];

function fail(what: string): never {
  throw new Error(`robustness.json is not valid: ${what}. Re-run "evaluate robustness" to rewrite it.`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where} must be a finite number (got ${JSON.stringify(v)})`);
  return v;
}

function numOrNull(v: unknown, where: string): number | null {
  return v === null || v === undefined ? null : num(v, where);
}

function numRecord(v: unknown, where: string): Record<string, number> {
  if (!isObj(v)) fail(`${where} must be an object of numbers`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) out[k] = num(x, `${where}.${k}`);
  return out;
}

const PNG_DATA_URI = /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * The thumbnail strip: `[{ corruption, severity, src }]` (what the engine writes) or the older
 * `{ <corruption>: [dataUri per severity] }`. Only base64 PNG data URIs pass.
 */
function parseThumbnails(v: unknown): RobustnessThumbnail[] {
  const out: RobustnessThumbnail[] = [];
  const one = (corruption: unknown, severity: unknown, src: unknown, where: string): void => {
    if (typeof corruption !== 'string' || (corruption !== 'clean' && !isCorruptionName(corruption))) fail(`${where}.corruption must be "clean" or a corruption name (got ${JSON.stringify(corruption)})`);
    if (typeof severity !== 'number' || !Number.isInteger(severity) || severity < 0 || severity > 5) fail(`${where}.severity must be an integer 0..5 (got ${JSON.stringify(severity)})`);
    if (typeof src !== 'string' || !PNG_DATA_URI.test(src)) fail(`${where}.src must be a data:image/png;base64 URI`);
    out.push({ corruption, severity, src });
  };
  if (Array.isArray(v)) {
    v.forEach((t, i) => {
      if (!isObj(t)) fail(`thumbnails[${i}] must be an object { corruption, severity, src }`);
      one(t.corruption, t.severity, t.src, `thumbnails[${i}]`);
    });
  } else if (isObj(v)) {
    for (const [name, x] of Object.entries(v)) {
      if (Array.isArray(x)) x.forEach((src, i) => one(name, i + 1, src, `thumbnails.${name}[${i}]`));
      else one(name, 0, x, `thumbnails.${name}`);
    }
  } else {
    fail('thumbnails must be an array of { corruption, severity, src }');
  }
  return out;
}

/**
 * Tolerant reader: unknown fields are ignored and optional ones may be absent, but anything the
 * viewer would draw (errors, summary numbers) must have the right type, so a bad file fails here
 * with the field named rather than as NaN in a chart.
 */
export function parseRobustness(text: string): RobustnessRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) fail('top level must be an object');
  if (raw.schema !== ROBUSTNESS_SCHEMA) {
    if (typeof raw.schema === 'number' && raw.schema > ROBUSTNESS_SCHEMA) {
      throw new Error(`robustness.json has schema ${raw.schema}, newer than this version understands (${ROBUSTNESS_SCHEMA}); update the extension.`);
    }
    fail(`schema must be ${ROBUSTNESS_SCHEMA} (got ${JSON.stringify(raw.schema)})`);
  }
  const source = raw.source ?? 'in-memory';
  if (source !== 'in-memory' && source !== 'cifar10-c-npy' && source !== 'imagenet-c-log') fail(`source must be "in-memory", "cifar10-c-npy" or "imagenet-c-log" (got ${JSON.stringify(source)})`);
  if (!isObj(raw.clean)) fail('clean must be an object { accuracy, error }');
  const accuracy = num(raw.clean.accuracy, 'clean.accuracy');
  const error = raw.clean.error === undefined ? 1 - accuracy : num(raw.clean.error, 'clean.error');

  if (!isObj(raw.corruptions)) fail('corruptions must be an object keyed by corruption name');
  const corruptions: RobustnessRecord['corruptions'] = {};
  for (const [name, entry] of Object.entries(raw.corruptions)) {
    if (!isCorruptionName(name)) fail(`unknown corruption "${name}" (valid: ${ALL_CORRUPTIONS.join(', ')})`);
    if (!isObj(entry) || !Array.isArray(entry.errors)) fail(`corruptions.${name}.errors must be an array of 5 numbers or nulls`);
    if (entry.errors.length > 5) fail(`corruptions.${name}.errors has ${entry.errors.length} entries, expected 5`);
    const errs: (number | null)[] = [];
    for (let s = 0; s < 5; s++) {
      const e = numOrNull(entry.errors[s], `corruptions.${name}.errors[${s}]`);
      if (e !== null && (e < 0 || e > 1)) fail(`corruptions.${name}.errors[${s}] must be a rate in [0, 1] (got ${e})`);
      errs.push(e);
    }
    const family = entry.family === undefined ? familyOf(name) : entry.family;
    if (typeof family !== 'string' || !FAMILIES.includes(family)) fail(`corruptions.${name}.family must be one of ${FAMILIES.join(', ')}`);
    corruptions[name] = { family: family as CorruptionFamily, errors: errs as SeverityErrors };
  }

  const s = isObj(raw.summary) ? raw.summary : fail('summary must be an object');
  const summary: RobustnessSummary = {
    meanCorruptionError: numOrNull(s.meanCorruptionError, 'summary.meanCorruptionError'),
    mCE: numOrNull(s.mCE, 'summary.mCE'),
    relativeMCE: numOrNull(s.relativeMCE, 'summary.relativeMCE'),
    perCorruptionCE: s.perCorruptionCE === undefined ? {} : numRecord(s.perCorruptionCE, 'summary.perCorruptionCE'),
  };
  if (s.perCorruptionRelativeCE !== undefined) summary.perCorruptionRelativeCE = numRecord(s.perCorruptionRelativeCE, 'summary.perCorruptionRelativeCE');
  if (s.baselineCE !== undefined) summary.baselineCE = numRecord(s.baselineCE, 'summary.baselineCE');
  if (s.baselineMCE !== undefined) summary.baselineMCE = numOrNull(s.baselineMCE, 'summary.baselineMCE');
  if (s.meanError19 !== undefined) summary.meanError19 = numOrNull(s.meanError19, 'summary.meanError19');
  if (s.coverage !== undefined) {
    const c = s.coverage;
    if (!isObj(c) || typeof c.corruptions !== 'number' || typeof c.cells !== 'number' || !Array.isArray(c.severities) || c.severities.some((v) => typeof v !== 'number')) {
      fail('summary.coverage must be { corruptions, severities: number[], cells }');
    }
    summary.coverage = { corruptions: c.corruptions as number, severities: c.severities as number[], cells: c.cells as number };
  }
  if (s.missing !== undefined) {
    if (!Array.isArray(s.missing) || s.missing.some((m) => typeof m !== 'string')) fail('summary.missing must be an array of strings');
    summary.missing = s.missing as string[];
  }

  const record: RobustnessRecord = {
    schema: 1,
    createdAt: typeof raw.createdAt === 'string' ? raw.createdAt : '',
    source,
    images: raw.images === undefined ? 0 : num(raw.images, 'images'),
    clean: { accuracy, error },
    corruptions,
    summary,
  };
  if (isObj(raw.run)) {
    const run: NonNullable<RobustnessRecord['run']> = {};
    for (const k of ['id', 'dir', 'method', 'checkpoint', 'dataset'] as const) if (typeof raw.run[k] === 'string') run[k] = raw.run[k] as string;
    record.run = run;
  }
  if (raw.seed !== undefined) record.seed = num(raw.seed, 'seed');
  if (raw.pgd !== undefined && raw.pgd !== null) {
    if (!isObj(raw.pgd)) fail('pgd must be an object { steps, epsilon, accuracy }');
    record.pgd = { steps: num(raw.pgd.steps, 'pgd.steps'), epsilon: num(raw.pgd.epsilon, 'pgd.epsilon'), accuracy: num(raw.pgd.accuracy, 'pgd.accuracy') };
  }
  if (raw.thumbnails !== undefined && raw.thumbnails !== null) record.thumbnails = parseThumbnails(raw.thumbnails);
  return record;
}

function severityText(sev: number[]): string {
  if (sev.length > 1 && sev.every((v, i) => i === 0 || v === sev[i - 1] + 1)) return `${sev[0]}–${sev[sev.length - 1]}`;
  return sev.join(', ');
}

/**
 * The summary as the CLI prints it, each figure named for what it is: the mean corruption error
 * with what it averages over; "mCE" only when it is the AlexNet-normalised ImageNet-C 15 × 5 one;
 * the reference's unnormalised 19-distortion mean when all 19 × 5 were evaluated.
 */
export function robustnessSummaryLines(s: RobustnessSummary): string[] {
  const out: string[] = [];
  const c = s.coverage;
  const over = c ? ` (${c.corruptions} of the 15 corruptions × severity ${severityText(c.severities)}: ${c.cells} cells)` : '';
  if (s.meanCorruptionError !== null) out.push(`mean corruption error ${s.meanCorruptionError.toFixed(2)}${over}`);
  if (s.mCE !== null) out.push(`mCE (AlexNet-normalised, ImageNet-C 15) ${s.mCE.toFixed(2)}`);
  if (s.meanError19 !== undefined && s.meanError19 !== null) out.push(`mean error over the 19 distortions (unnormalised, as the reference prints it) ${s.meanError19.toFixed(2)}`);
  return out;
}
