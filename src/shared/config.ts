// The run configuration: what a `*.advprop.json` file holds, what the CLI flags override, and
// what config.json records once resolved. Shared by the engine (which trains from it) and the
// extension (which validates a file before it starts anything), so it must stay free of node
// and vscode imports.

export const METHODS = ['vanilla', 'advprop', 'fast-advprop'] as const;
export type Method = (typeof METHODS)[number];

export const MODEL_ARCHS = ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet56', 'resnet18', 'resnet50'] as const;
export type ModelArch = (typeof MODEL_ARCHS)[number];

export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export const RANDOM_START_MODES = ['always', 'never', 'reference'] as const;

export const ADVPROP_ATTACK_BN = ['eval', 'train'] as const;
export const ADVPROP_TARGETS = ['random', 'true-label'] as const;
export const ADVPROP_GRADIENT_DIVISORS = ['weighted-count', 'clean-batch'] as const;
/** How a targeted Fast AdvProp attack picks its target; see AttackConfig.target. */
export const ATTACK_TARGETS = ['random', 'next'] as const;
export type RandomStartMode = (typeof RANDOM_START_MODES)[number];

export const DATASET_NAMES = ['fashion-mnist-subset', 'idx', 'cifar10', 'cifar100', 'image-folder'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/**
 * The streaming loader's image decoders (engine/data/decoders.ts). auto: libjpeg-turbo's partial
 * decode (our addon) for JPEG crops and sharp for the rest, else sharp, else pure JS; turbo / sharp:
 * refuse to start without that one; js: always pure JS.
 */
export const DECODER_CHOICES = ['auto', 'turbo', 'sharp', 'js'] as const;
export type DecoderChoice = (typeof DECODER_CHOICES)[number];

export interface DatasetConfig {
  name: DatasetName;
  /** Folder holding the files; required for every dataset but the embedded one. */
  path?: string;
  /** Class-balanced subsets, for quick runs. */
  trainLimit?: number;
  testLimit?: number;
  /** image-folder only: side length images are resized to. */
  size?: number;
  /** cifar100 only: "fine" (100 classes, default) or "coarse" (20 superclasses). */
  labels?: 'fine' | 'coarse';
  /** image-folder only: "memory" (default; decoded once at load) or "stream" (decoded by worker threads while training). */
  loader?: 'memory' | 'stream';
  /** Streamed image-folder: decode threads (0 = one per core up to 8), steps decoded ahead, decoder. */
  workers?: number;
  prefetch?: number;
  decoder?: DecoderChoice;
}

export interface AttackConfig {
  /** K, the number of PGD steps. */
  steps: number;
  /** In 1/255 pixel units of the [0,1] range (the reference's "perturbation size 1.0"). */
  epsilon: number;
  /** In the same units; the effective step is max(stepSize, epsilon / steps). */
  stepSize: number;
  randomStart: RandomStartMode;
  targeted: boolean;
  /**
   * Targeted attacks only. Absent or "random": a uniformly random wrong class. "next": (label + 1)
   * mod classes, a function of the true label, so the perturbation carries the label and the
   * network can learn to read it: the known label-leaking setup, kept to reproduce the leak (see
   * docs/leak.md), not to train with. Optional so that configs without it keep their hash.
   */
  target?: (typeof ATTACK_TARGETS)[number];
}

export interface AugmentConfig {
  crop: boolean;
  flip: boolean;
  /** Applied to the clean part only, as the reference does; 0 disables. */
  mixupAlpha: number;
  cutmixAlpha: number;
}

export interface LeakDetectorConfig {
  /** Number of logged intervals averaged before comparing streams. */
  window: number;
  /** Adversarial train accuracy must exceed clean accuracy by this much (0..1) to flag a leak. */
  margin: number;
}

/**
 * The AdvProp baseline (method "advprop" only). Defaults are the reference code's (imagenet.py
 * without --attack_in_train / --original_attack, gradients divided by the weighted sample counts);
 * engine versions before this block trained as { attackBn: "train", target: "true-label",
 * gradientDivisor: "clean-batch" }, which stays reachable.
 */
export interface AdvPropConfig {
  /** BN mode of the aux BN while attacking: "eval" (running statistics) or "train" (batch statistics). */
  attackBn: (typeof ADVPROP_ATTACK_BN)[number];
  /** "random": descend toward (label + randint(0, C)) mod C; "true-label": ascend the true label's loss. */
  target: (typeof ADVPROP_TARGETS)[number];
  /** "weighted-count": shared / 2B, clean BN / B, aux BN / B; "clean-batch": everything / B. */
  gradientDivisor: (typeof ADVPROP_GRADIENT_DIVISORS)[number];
}

export const ADVPROP_REFERENCE: AdvPropConfig = { attackBn: 'eval', target: 'random', gradientDivisor: 'weighted-count' };

export interface RunConfig {
  name?: string;
  method: Method;
  /** clean:adv ratio as the reference writes it, e.g. "4:1". Wins over pAdv when both are given. */
  split?: string;
  /** Convenience for the split: fraction of attacked images in a batch, 0 ≤ pAdv < 1. */
  pAdv?: number;
  attack: AttackConfig;
  /** BN statistics groups (ghost batch norm emulating devices); ≥ 2 for shuffle BN to act. */
  bnGroups: number;
  /** Loss weight of the noise and adversarial streams (β re-balancing); 1 disables it. */
  beta: number;
  syncUpdateSpeed: boolean;
  reuseGradients: boolean;
  shuffleBN: boolean;
  /** false pairs the attacked images with clean ones (AdvProp-style) instead of a disjoint split. */
  decouple: boolean;
  sameBudget: boolean;
  epochs: number;
  milestones: number[];
  /** Clean images per step. */
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  lrDecay: number;
  model: { arch: ModelArch; width: number };
  dataset: DatasetConfig;
  augment: AugmentConfig;
  seed: number;
  backend: BackendName;
  /** Data-parallel worker threads; 0 = automatic (one per core on wasm/cpu, but no more than a training step's pieces: bnGroups per pass; one on native backends). */
  workers: number;
  /** Stop after this many optimizer steps (0 = no limit); for smoke tests and quick looks. */
  maxSteps: number;
  /** Steps between metric records. */
  logEvery: number;
  leak: LeakDetectorConfig;
  /** Present (and used) for method "advprop" only. */
  advprop?: AdvPropConfig;
  /** Evaluate corruption robustness when training completes. */
  autoEvaluate: boolean;
}

export const DEFAULT_CONFIG: RunConfig = {
  method: 'fast-advprop',
  split: '4:1',
  attack: { steps: 1, epsilon: 1, stepSize: 1, randomStart: 'always', targeted: false },
  bnGroups: 2,
  beta: 0.5,
  syncUpdateSpeed: true,
  reuseGradients: true,
  shuffleBN: true,
  decouple: true,
  sameBudget: true,
  epochs: 6,
  milestones: [4],
  batchSize: 64,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  lrDecay: 0.1,
  model: { arch: 'resnet8', width: 16 },
  dataset: { name: 'fashion-mnist-subset' },
  // Padded random crops slow a 5-epoch run on 28×28 images (82.4 % vs 87.5 % test accuracy for the
  // default job, measured): the built-in default trains without them; CIFAR-style configs turn them on.
  augment: { crop: false, flip: true, mixupAlpha: 0, cutmixAlpha: 0 },
  seed: 0,
  backend: 'auto',
  workers: 0,
  maxSteps: 0,
  logEvery: 10,
  leak: { window: 5, margin: 0.02 },
  autoEvaluate: false,
};

export class ConfigError extends Error {
  constructor(
    /** Dotted path of the offending key, e.g. "attack.steps". */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * Upper bounds of the counts and sizes that have no natural limit. Far above any sensible run, low
 * enough that schedules stay exact integers and bookkeeping stays small: 1e12 epochs would make
 * totalSteps overflow the safe integers, a leak window of 1e9 would be kept in every checkpoint.
 * media/advprop.schema.json states the same numbers (a unit test holds them equal).
 */
export const CONFIG_BOUNDS = {
  epochs: 10_000,
  maxSteps: 1_000_000_000,
  logEvery: 1_000_000,
  attackSteps: 1_000,
  datasetLimit: 10_000_000,
  mixAlpha: 100,
  leakWindow: 1_000,
} as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': [
    '$schema', 'name', 'method', 'split', 'pAdv', 'attack', 'bnGroups', 'beta', 'syncUpdateSpeed', 'reuseGradients', 'shuffleBN',
    'decouple', 'sameBudget', 'epochs', 'milestones', 'batchSize', 'lr', 'momentum', 'weightDecay', 'lrDecay', 'model',
    'dataset', 'augment', 'seed', 'backend', 'workers', 'maxSteps', 'logEvery', 'leak', 'autoEvaluate', 'advprop',
  ],
  advprop: ['attackBn', 'target', 'gradientDivisor'],
  attack: ['steps', 'epsilon', 'stepSize', 'randomStart', 'targeted', 'target'],
  model: ['arch', 'width'],
  dataset: ['name', 'path', 'trainLimit', 'testLimit', 'size', 'labels', 'loader', 'workers', 'prefetch', 'decoder'],
  augment: ['crop', 'flip', 'mixupAlpha', 'cutmixAlpha'],
  leak: ['window', 'margin'],
};

/** A key as it can be shown in a one-line error: odd keys (empty, huge, with newlines) are quoted and cut. */
function displayKey(k: string): string {
  if (/^[A-Za-z_$][\w$]{0,59}$/.test(k)) return k;
  return JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k);
}

function checkKeys(obj: Record<string, unknown>, section: string): void {
  const known = KNOWN_KEYS[section];
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      const field = section ? `${section}.${displayKey(k)}` : displayKey(k);
      throw new ConfigError(field, `unknown key; valid keys here are: ${known.filter((x) => x !== '$schema').join(', ')}`);
    }
  }
}

function num(v: unknown, field: string, opts: { int?: boolean; min?: number; max?: number; minExclusive?: number; maxExclusive?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(field, `must be a finite number, got ${describe(v)}`);
  if (opts.int && !Number.isInteger(v)) throw new ConfigError(field, `must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ConfigError(field, `must be ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new ConfigError(field, `must be ≤ ${opts.max}, got ${v}`);
  if (opts.minExclusive !== undefined && v <= opts.minExclusive) throw new ConfigError(field, `must be > ${opts.minExclusive}, got ${v}`);
  if (opts.maxExclusive !== undefined && v >= opts.maxExclusive) throw new ConfigError(field, `must be < ${opts.maxExclusive}, got ${v}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(field, `must be true or false, got ${describe(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new ConfigError(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  // JSON has no Infinity or NaN, so stringify would print null for 1e999: say what it read.
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (a number too large for a float, or not a number)`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    // A value nested thousands of levels deep overflows JSON.stringify; say what it is instead.
    return Array.isArray(v) ? 'a deeply nested list' : 'a deeply nested object';
  }
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const SPLIT_RE = /^\s*(\d+)\s*:\s*(\d+)\s*$/;

/** Validates a split string "C:A" and returns [C, A]. */
export function parseSplitString(split: unknown, field = 'split'): [number, number] {
  if (typeof split !== 'string') throw new ConfigError(field, `must be a string like "4:1" (clean:adv), got ${describe(split)}`);
  const m = SPLIT_RE.exec(split);
  if (!m) throw new ConfigError(field, `must look like "4:1" (clean:adv integers), got ${describe(split)}`);
  const c = Number(m[1]);
  const a = Number(m[2]);
  if (c < 1) throw new ConfigError(field, `the clean part must be ≥ 1, got ${describe(split)}`);
  return [c, a];
}

/**
 * Merges a user config (parsed JSON, possibly from a file) over the defaults and validates
 * every field. Throws ConfigError naming the first bad field and how to fix it.
 */
export function resolveConfig(input: unknown, base: RunConfig = DEFAULT_CONFIG): RunConfig {
  if (!isObject(input)) throw new ConfigError('(root)', `a run config must be a JSON object, got ${describe(input)}`);
  checkKeys(input, '');
  const merged: Record<string, unknown> = { ...structuredClone(base) };
  for (const [k, v] of Object.entries(input)) {
    if (k === '$schema') continue;
    if (['attack', 'model', 'dataset', 'augment', 'leak', 'advprop'].includes(k)) {
      if (!isObject(v)) throw new ConfigError(k, `must be an object, got ${describe(v)}`);
      checkKeys(v, k);
      // A new dataset name starts from a clean section so a stale path does not carry over.
      const baseSection = k === 'dataset' && v.name !== undefined && v.name !== (base.dataset.name as string) ? {} : (merged[k] as object);
      merged[k] = { ...(baseSection ?? {}), ...v };
    } else {
      merged[k] = v;
    }
  }
  // A pAdv given without a split replaces the default split.
  if (isObject(input) && input.pAdv !== undefined && input.split === undefined) delete merged.split;
  return validateConfig(merged);
}

function advpropSection(v: unknown): AdvPropConfig {
  if (v === undefined) return { ...ADVPROP_REFERENCE };
  if (!isObject(v)) throw new ConfigError('advprop', `must be an object, got ${describe(v)}`);
  checkKeys(v, 'advprop');
  const r = ADVPROP_REFERENCE;
  return {
    attackBn: v.attackBn === undefined ? r.attackBn : oneOf(v.attackBn, 'advprop.attackBn', ADVPROP_ATTACK_BN),
    target: v.target === undefined ? r.target : oneOf(v.target, 'advprop.target', ADVPROP_TARGETS),
    gradientDivisor: v.gradientDivisor === undefined ? r.gradientDivisor : oneOf(v.gradientDivisor, 'advprop.gradientDivisor', ADVPROP_GRADIENT_DIVISORS),
  };
}

export function validateConfig(c: Record<string, unknown>): RunConfig {
  const method = oneOf(c.method, 'method', METHODS);
  let split: string | undefined;
  let pAdv: number | undefined;
  if (c.split !== undefined) {
    parseSplitString(c.split);
    split = String(c.split).replace(/\s+/g, '');
  }
  if (c.pAdv !== undefined) pAdv = num(c.pAdv, 'pAdv', { min: 0, maxExclusive: 1 });
  if (method === 'fast-advprop' && split === undefined && pAdv === undefined) {
    throw new ConfigError('split', 'fast-advprop needs a split like "4:1" (or pAdv, e.g. 0.2)');
  }
  const attackIn = c.attack as Record<string, unknown>;
  const attack: AttackConfig = {
    steps: num(attackIn.steps, 'attack.steps', { int: true, min: 1, max: CONFIG_BOUNDS.attackSteps }),
    epsilon: num(attackIn.epsilon, 'attack.epsilon', { min: 0, max: 255 }),
    stepSize: num(attackIn.stepSize, 'attack.stepSize', { min: 0, max: 255 }),
    randomStart: oneOf(attackIn.randomStart, 'attack.randomStart', RANDOM_START_MODES),
    targeted: bool(attackIn.targeted, 'attack.targeted'),
  };
  if (attackIn.target !== undefined) {
    attack.target = oneOf(attackIn.target, 'attack.target', ATTACK_TARGETS);
    if (!attack.targeted) throw new ConfigError('attack.target', 'picks the target of a targeted attack; set attack.targeted to true or leave target out');
  }
  const modelIn = c.model as Record<string, unknown>;
  const model = {
    arch: oneOf(modelIn.arch, 'model.arch', MODEL_ARCHS),
    width: num(modelIn.width, 'model.width', { int: true, min: 1, max: 512 }),
  };
  const dsIn = c.dataset as Record<string, unknown>;
  const dataset: DatasetConfig = { name: oneOf(dsIn.name, 'dataset.name', DATASET_NAMES) };
  if (dsIn.path !== undefined) {
    if (typeof dsIn.path !== 'string' || dsIn.path.trim() === '') throw new ConfigError('dataset.path', `must be a folder path, got ${describe(dsIn.path)}`);
    dataset.path = dsIn.path;
  } else if (dataset.name !== 'fashion-mnist-subset') {
    throw new ConfigError('dataset.path', `dataset "${dataset.name}" needs a path to the folder holding its files`);
  }
  if (dsIn.trainLimit !== undefined) dataset.trainLimit = num(dsIn.trainLimit, 'dataset.trainLimit', { int: true, min: 1, max: CONFIG_BOUNDS.datasetLimit });
  if (dsIn.testLimit !== undefined) dataset.testLimit = num(dsIn.testLimit, 'dataset.testLimit', { int: true, min: 1, max: CONFIG_BOUNDS.datasetLimit });
  if (dsIn.size !== undefined) dataset.size = num(dsIn.size, 'dataset.size', { int: true, min: 8, max: 512 });
  if (dsIn.labels !== undefined) dataset.labels = oneOf(dsIn.labels, 'dataset.labels', ['fine', 'coarse'] as const);
  if (dsIn.loader !== undefined) dataset.loader = oneOf(dsIn.loader, 'dataset.loader', ['memory', 'stream'] as const);
  if (dsIn.workers !== undefined) dataset.workers = num(dsIn.workers, 'dataset.workers', { int: true, min: 0, max: 64 });
  if (dsIn.prefetch !== undefined) dataset.prefetch = num(dsIn.prefetch, 'dataset.prefetch', { int: true, min: 1, max: 64 });
  if (dsIn.decoder !== undefined) dataset.decoder = oneOf(dsIn.decoder, 'dataset.decoder', DECODER_CHOICES);
  const augIn = c.augment as Record<string, unknown>;
  const augment: AugmentConfig = {
    crop: bool(augIn.crop, 'augment.crop'),
    flip: bool(augIn.flip, 'augment.flip'),
    mixupAlpha: num(augIn.mixupAlpha, 'augment.mixupAlpha', { min: 0, max: CONFIG_BOUNDS.mixAlpha }),
    cutmixAlpha: num(augIn.cutmixAlpha, 'augment.cutmixAlpha', { min: 0, max: CONFIG_BOUNDS.mixAlpha }),
  };
  const leakIn = c.leak as Record<string, unknown>;
  const leak = {
    window: num(leakIn.window, 'leak.window', { int: true, min: 1, max: CONFIG_BOUNDS.leakWindow }),
    margin: num(leakIn.margin, 'leak.margin', { min: 0, max: 1 }),
  };
  const epochs = num(c.epochs, 'epochs', { int: true, min: 1, max: CONFIG_BOUNDS.epochs });
  if (!Array.isArray(c.milestones)) throw new ConfigError('milestones', `must be a list of epoch numbers like [4, 8], got ${describe(c.milestones)}`);
  const milestones = c.milestones.map((m, i) => num(m, `milestones[${i}]`, { int: true, min: 1, max: CONFIG_BOUNDS.epochs }));
  for (let i = 1; i < milestones.length; i++) {
    if (milestones[i] <= milestones[i - 1]) throw new ConfigError(`milestones[${i}]`, 'milestones must increase strictly');
  }
  const bnGroups = num(c.bnGroups, 'bnGroups', { int: true, min: 1, max: 64 });
  const shuffleBN = bool(c.shuffleBN, 'shuffleBN');
  if (method === 'fast-advprop' && shuffleBN && bnGroups < 2) {
    throw new ConfigError('bnGroups', 'shuffle BN needs bnGroups ≥ 2 (set bnGroups to 2 or more, or shuffleBN to false)');
  }
  const batchSize = num(c.batchSize, 'batchSize', { int: true, min: 1, max: 4096 });
  if (batchSize % bnGroups !== 0) throw new ConfigError('batchSize', `must be divisible by bnGroups (${bnGroups}), got ${batchSize}`);
  const out: RunConfig = {
    method,
    attack,
    bnGroups,
    beta: num(c.beta, 'beta', { minExclusive: 0, max: 10 }),
    syncUpdateSpeed: bool(c.syncUpdateSpeed, 'syncUpdateSpeed'),
    reuseGradients: bool(c.reuseGradients, 'reuseGradients'),
    shuffleBN,
    decouple: bool(c.decouple, 'decouple'),
    sameBudget: bool(c.sameBudget, 'sameBudget'),
    epochs,
    milestones,
    batchSize,
    lr: num(c.lr, 'lr', { minExclusive: 0, max: 10 }),
    momentum: num(c.momentum, 'momentum', { min: 0, maxExclusive: 1 }),
    weightDecay: num(c.weightDecay, 'weightDecay', { min: 0, max: 1 }),
    lrDecay: num(c.lrDecay, 'lrDecay', { minExclusive: 0, max: 1 }),
    model,
    dataset,
    augment,
    seed: num(c.seed, 'seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
    backend: oneOf(c.backend, 'backend', BACKENDS),
    workers: num(c.workers, 'workers', { int: true, min: 0, max: 64 }),
    maxSteps: num(c.maxSteps, 'maxSteps', { int: true, min: 0, max: CONFIG_BOUNDS.maxSteps }),
    logEvery: num(c.logEvery, 'logEvery', { int: true, min: 1, max: CONFIG_BOUNDS.logEvery }),
    leak,
    autoEvaluate: bool(c.autoEvaluate, 'autoEvaluate'),
    ...(method === 'advprop' ? { advprop: advpropSection(c.advprop) } : {}),
  };
  if (c.name !== undefined) {
    if (typeof c.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(c.name)) {
      throw new ConfigError('name', 'must be 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    out.name = c.name;
  }
  if (split !== undefined) out.split = split;
  if (pAdv !== undefined) out.pAdv = pAdv;
  return out;
}

/** Removes the value `field` ("attack.steps", "milestones[1]", "epochs") names; false when it is not in `input`. */
function dropField(input: Record<string, unknown>, field: string): boolean {
  const parts = field.replace(/\[\d+\]$/, '').split('.');
  let obj: unknown = input;
  for (const p of parts.slice(0, -1)) {
    obj = isObject(obj) ? obj[p] : undefined;
  }
  const last = parts[parts.length - 1];
  if (!isObject(obj) || !(last in obj)) return false;
  delete obj[last];
  return true;
}

/**
 * Every problem in a user config, each with its field, not only the first: a user fixing a file
 * wants the whole list at once. Each round validates with the same rules as resolveConfig, records
 * the problem and falls back to the default for that field; it stops at a problem the user's
 * input does not hold (a rule between fields, e.g. "needs a split").
 */
export function listConfigProblems(input: unknown, base: RunConfig = DEFAULT_CONFIG): ConfigError[] {
  const problems: ConfigError[] = [];
  let work: unknown;
  try {
    work = structuredClone(input);
  } catch {
    work = input;
  }
  for (let round = 0; round < 100; round++) {
    try {
      resolveConfig(work, base);
      return problems;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e);
      if (!isObject(work) || !dropField(work, e.field)) return problems;
    }
  }
  return problems;
}

/** Like parseConfigText, but collects every problem (a JSON syntax error is the only one). */
export function configTextProblems(text: string, source = 'config'): ConfigError[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(text));
  } catch {
    try {
      parseConfigText(text, source);
    } catch (e) {
      if (e instanceof ConfigError) return [e];
      throw e;
    }
    return [];
  }
  return listConfigProblems(parsed);
}

/** Parses config file text; JSON syntax errors name the line and column. */
export function parseConfigText(text: string, source = 'config'): RunConfig {
  // Editors on Windows may save a byte-order mark; it is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: Json;
  try {
    parsed = JSON.parse(stripJsonComments(text)) as Json;
  } catch (e) {
    // V8 quotes the offending source, newlines included: keep the error to one short line.
    const raw = (e as Error).message.replace(/\s+/g, ' ');
    const msg = raw.length > 160 ? `${raw.slice(0, 157)}...` : raw;
    const pos = /position (\d+)/.exec(raw);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${Number(pos[1]) - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError('(file)', `${source} is not valid JSON${where}: ${msg}. Fix the syntax (a trailing comma or a missing quote is the usual cause).`);
  }
  return resolveConfig(parsed);
}

/**
 * Run configs may carry // and /* *\/ comments (the New Run Config template does). One pass that
 * copies whole runs of text with slice, never character by character: it also runs in the
 * extension host on Start Training, so a 60 MB file must cost a scan, not seconds.
 */
export function stripJsonComments(text: string): string {
  const out: string[] = [];
  let i = 0;
  let from = 0;
  const n = text.length;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      // Skip the string: up to the next quote not escaped by a backslash.
      i++;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 0x5c /* \ */) i += 2;
        else if (c === 0x22) {
          i++;
          break;
        } else i++;
      }
    } else if (ch === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      out.push(text.slice(from, i));
      const nl = text.indexOf('\n', i + 2);
      i = nl < 0 ? n : nl;
      from = i;
    } else if (ch === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      out.push(text.slice(from, i));
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      // Blanked, not removed, so JSON error positions still point at the right line and column.
      out.push(text.slice(i, stop).split('\n').map((line) => ' '.repeat(line.length)).join('\n'));
      i = stop;
      from = i;
    } else i++;
  }
  out.push(text.slice(from, Math.min(i, n)));
  return out.join('');
}
