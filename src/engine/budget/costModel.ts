// Training-cost model and same-budget calibration for vanilla / AdvProp / Fast AdvProp.
// Shared by the engine, the CLI and the webview, so it must stay free of node imports.
//
// The reference code expresses the batch split as an integer ratio clean:adv and computes the
// cost scale in double precision with a specific order of operations; the float noise decides
// rounding ties (4:1 → scale 1.2000000000000002, 105/scale = 87.4999… → 87 epochs). We reproduce
// that arithmetic literally instead of using the simpler 1 + p·K.

export type Method = 'vanilla' | 'advprop' | 'fast-advprop';
export const METHODS: readonly Method[] = ['vanilla', 'advprop', 'fast-advprop'];

/** Integer ratio clean:adv of the Fast AdvProp batch (4:1 → 80% clean, 20% attacked). */
export interface Split {
  clean: number;
  adv: number;
}

/** Thrown for user input the model cannot use; `field` names the offending option. */
export class BudgetInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
    this.name = 'BudgetInputError';
  }
}

export function formatSplit(s: Split): string {
  return `${s.clean}:${s.adv}`;
}

/** Parses "C:A" (integers, C ≥ 1, A ≥ 0). */
export function parseSplit(text: string): Split {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(String(text));
  if (!m) throw new BudgetInputError('split', `split: expected "C:A" with whole numbers, e.g. "4:1" (80% clean, 20% adversarial), got ${JSON.stringify(text)}`);
  const clean = Number(m[1]);
  const adv = Number(m[2]);
  if (clean < 1) throw new BudgetInputError('split', `split: the clean part must be at least 1, got ${JSON.stringify(text)}; use e.g. "4:1"`);
  return { clean, adv };
}

const P_TOL = 0.005;

/**
 * Maps p_adv to the smallest integer ratio C:A whose A/(C+A) lies within 0.005 of p
 * (0.11 → 8:1, 0.2 → 4:1, 0.33 → 2:1, 0.5 → 1:1, 0 → 1:0), as the paper's p values are roundings
 * of such ratios.
 */
export function splitFromPAdv(p: number): Split {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p >= 1) {
    throw new BudgetInputError('pAdv', `p_adv: expected a number with 0 ≤ p < 1 (fraction of the batch that is attacked), e.g. 0.2, got ${JSON.stringify(p)}`);
  }
  for (let total = 1; total <= 1000; total++) {
    let best = -1;
    let bestErr = Infinity;
    for (let adv = 0; adv < total; adv++) {
      const err = Math.abs(adv / total - p);
      if (err <= P_TOL + 1e-12 && err < bestErr) {
        best = adv;
        bestErr = err;
      }
    }
    if (best >= 0) return { clean: total - best, adv: best };
  }
  // Unreachable: total = 100 always has a ratio within 0.005.
  throw new BudgetInputError('pAdv', `p_adv: no ratio found for ${p}`);
}

/** p_adv = A/(C+A) in the reference's arithmetic. */
export function pAdvOf(s: Split): number {
  return s.adv / (s.clean + s.adv);
}

/** Python 3 round(): nearest integer, ties to even, on the exact double value. */
export function pythonRound(x: number): number {
  if (!Number.isFinite(x)) return x;
  // Ties-to-even is symmetric; working on |x| keeps x − floor(x) exact (Sterbenz), whereas for
  // negative x adding 1 could round a near-tie onto 0.5.
  if (x < 0) return -pythonRound(-x) || 0;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

export interface PerEpochCost {
  /** Clean forward+backward passes, in units of N images. */
  clean: number;
  /** Attack passes (noise + PGD iterations), counted 1 per image per step. */
  attack: number;
  /** Adversarial training passes. */
  adv: number;
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new BudgetInputError('k', `k: the number of attack steps must be a whole number ≥ 1, got ${JSON.stringify(k)}; use e.g. 1`);
}

/** Cost of one epoch relative to vanilla training, split by pass type. */
export function perEpochCost(method: Method, split: Split, k: number): PerEpochCost {
  checkK(k);
  switch (method) {
    case 'vanilla':
      return { clean: 1, attack: 0, adv: 0 };
    case 'advprop':
      return { clean: 1, attack: k, adv: 1 };
    case 'fast-advprop': {
      const normal = split.clean / (split.clean + split.adv);
      const adv = split.adv / (split.clean + split.adv);
      return { clean: normal, attack: adv * k, adv };
    }
    default:
      throw new BudgetInputError('method', `method: unknown method ${JSON.stringify(method)}; use one of ${METHODS.join(', ')}`);
  }
}

/** Epoch cost factor: vanilla 1, AdvProp PGD-K K+2, Fast AdvProp normal + adv·(K+1) in reference order. */
export function costFactor(method: Method, split: Split, k: number): number {
  checkK(k);
  switch (method) {
    case 'vanilla':
      return 1;
    case 'advprop':
      return k + 2;
    case 'fast-advprop': {
      const normal = split.clean / (split.clean + split.adv);
      const adv = split.adv / (split.clean + split.adv);
      return normal + adv * (k + 1);
    }
    default:
      throw new BudgetInputError('method', `method: unknown method ${JSON.stringify(method)}; use one of ${METHODS.join(', ')}`);
  }
}

export interface CalibrateInput {
  method: Method;
  /** Fast AdvProp split, as "C:A" or parsed; takes precedence over pAdv. Default 4:1. */
  split?: Split | string;
  pAdv?: number;
  /** Attack steps (PGD-K); default 1. */
  k?: number;
  epochs: number;
  milestones?: number[];
  /** Divide epochs and milestones by the cost factor so the run costs what vanilla does. */
  sameBudget?: boolean;
}

export interface Calibration {
  method: Method;
  /** "C:A"; implied 1:0 for vanilla and 1:1 for AdvProp (every clean image gets an adversarial twin). */
  split: string;
  pAdv: number;
  k: number;
  costFactor: number;
  epochs: number;
  milestones: number[];
  baseEpochs: number;
  baseMilestones: number[];
  sameBudget: boolean;
  perEpochCost: PerEpochCost;
  /** costFactor × epochs: total passes in units of N images. */
  totalCost: number;
}

export const DEFAULT_SPLIT: Split = { clean: 4, adv: 1 };

function resolveSplit(input: CalibrateInput): Split {
  if (input.method === 'vanilla') return { clean: 1, adv: 0 };
  if (input.method === 'advprop') return { clean: 1, adv: 1 };
  if (input.split !== undefined) {
    if (typeof input.split === 'string') return parseSplit(input.split);
    const s = input.split;
    if (!Number.isInteger(s.clean) || !Number.isInteger(s.adv) || s.clean < 1 || s.adv < 0) {
      throw new BudgetInputError('split', `split: expected whole numbers clean ≥ 1, adv ≥ 0, got ${formatSplit(s)}; use e.g. 4:1`);
    }
    return { clean: s.clean, adv: s.adv };
  }
  if (input.pAdv !== undefined) return splitFromPAdv(input.pAdv);
  return { ...DEFAULT_SPLIT };
}

export function calibrate(input: CalibrateInput): Calibration {
  if (!METHODS.includes(input.method)) {
    throw new BudgetInputError('method', `method: unknown method ${JSON.stringify(input.method)}; use one of ${METHODS.join(', ')}`);
  }
  const k = input.k ?? 1;
  checkK(k);
  if (!Number.isInteger(input.epochs) || input.epochs < 1) {
    throw new BudgetInputError('epochs', `epochs: expected a whole number ≥ 1, got ${JSON.stringify(input.epochs)}; use e.g. 105`);
  }
  const milestones = input.milestones ?? [];
  milestones.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 0) {
      throw new BudgetInputError('milestones', `milestones: expected whole epoch numbers ≥ 0, got ${JSON.stringify(m)}; use e.g. 30,60,90`);
    }
    if (i > 0 && m < milestones[i - 1]) {
      throw new BudgetInputError('milestones', `milestones: must be in increasing order, got ${milestones.join(',')}; sort them`);
    }
  });
  const split = resolveSplit(input);
  const scale = costFactor(input.method, split, k);
  const sameBudget = input.sameBudget ?? false;
  const epochs = sameBudget ? pythonRound(input.epochs / scale) : input.epochs;
  return {
    method: input.method,
    split: formatSplit(split),
    pAdv: pAdvOf(split),
    k,
    costFactor: scale,
    epochs,
    milestones: sameBudget ? milestones.map((m) => pythonRound(m / scale)) : [...milestones],
    baseEpochs: input.epochs,
    baseMilestones: [...milestones],
    sameBudget,
    perEpochCost: perEpochCost(input.method, split, k),
    totalCost: scale * epochs,
  };
}

/**
 * Sizes of the clean and attacked parts of one Fast AdvProp batch for a clean batch size B, as
 * the reference does: total = int(B · ((C + A) / C)), attacked = total − B (4:1, 256 → 256 + 64;
 * 2:1, 256 → 256 + 128). `exact`: the attacked part is exactly B·A/C (no truncation).
 */
export function batchSplit(cleanBatch: number, split: Split): { clean: number; adv: number; total: number; exact: boolean } {
  if (!Number.isInteger(cleanBatch) || cleanBatch < 1) {
    throw new BudgetInputError('batchSize', `batchSize: expected a whole number ≥ 1, got ${JSON.stringify(cleanBatch)}`);
  }
  // fast_advprop.py's train_batch_scale = sum(ratios) / ratios[0], in that order of operations;
  // going through p_adv instead, 1 − 1/3 rounds down and 2:1 of 256 attacks 127 images, not 128.
  const total = Math.trunc(cleanBatch * ((split.clean + split.adv) / split.clean));
  return { clean: cleanBatch, adv: total - cleanBatch, total, exact: (cleanBatch * split.adv) % split.clean === 0 };
}

/**
 * Clean batch sizes near `around` whose split is exact and whose clean and attacked parts both
 * divide into `groups` BN groups: what to suggest when a batch size does not fit a split.
 */
export function fittingBatchSizes(split: Split, groups: number, around: number, count = 2): number[] {
  const fits = (b: number): boolean => {
    const s = batchSplit(b, split);
    return s.exact && b % groups === 0 && s.adv % groups === 0;
  };
  const out: number[] = [];
  for (let d = 0; out.length < count && d <= Math.max(around, 4096); d++) {
    for (const b of d === 0 ? [around] : [around - d, around + d]) {
      if (b >= 1 && out.length < count && fits(b)) out.push(b);
    }
  }
  return out.sort((a, b) => a - b);
}

/**
 * Divisors for "synchronise updating speed": each parameter group's summed gradient is divided by
 * the weighted number of samples that reached it. Clean samples weigh 1, every attack pass (K of
 * them) and the adversarial pass weigh β. 4:1 of 256, β = 0.5, K = 1 → shared 320, clean 256, adv 64.
 */
export function updateSyncDivisors(opts: { clean: number; adv: number; k: number; beta: number }): { shared: number; clean: number; adv: number } {
  const { clean, adv, k, beta } = opts;
  const aux = k * adv * beta + adv * beta;
  return { shared: clean + aux, clean, adv: aux };
}
