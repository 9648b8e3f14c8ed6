import { ADVPROP_REFERENCE, ConfigError, type RunConfig } from '../../shared/config';
import { batchSplit, calibrate, fittingBatchSizes, parseSplit, splitFromPAdv, updateSyncDivisors, type Split } from '../budget/costModel';
import { maxTeam } from '../exec/shard';

// Everything about a run that follows from its config and the dataset size, decided before the
// run folder exists so that an impossible combination is refused without leaving anything behind.

export interface TrainPlan {
  method: RunConfig['method'];
  /** "C:A" as applied (1:0 for vanilla, 1:1 for AdvProp). */
  split: string;
  pAdv: number;
  /** PGD steps K (0 for vanilla). */
  k: number;
  /** Clean images and attacked images per step. */
  batch: { clean: number; adv: number };
  /** Distinct dataset images a step consumes (clean + attacked when decoupled, else clean). */
  imagesPerStep: number;
  bnGroups: number;
  cleanGroupSize: number;
  advGroupSize: number;
  epochs: number;
  milestones: number[];
  costFactor: number;
  stepsPerEpoch: number;
  /** Steps of the full schedule. */
  totalSteps: number;
  /** Steps this run will actually take (maxSteps caps totalSteps). */
  runSteps: number;
  /** Each parameter group's summed gradient is divided by this. */
  divisors: { shared: number; clean: number; adv: number };
  /** Image-passes per step, per stream (forward+backward of one image = 1). */
  passesPerStep: { clean: number; attack: number; adv: number };
}

function resolveSplit(config: RunConfig): Split {
  try {
    if (config.split !== undefined) return parseSplit(config.split);
    if (config.pAdv !== undefined) return splitFromPAdv(config.pAdv);
  } catch (e) {
    throw new ConfigError(config.split !== undefined ? 'split' : 'pAdv', (e as Error).message.replace(/^[\w_]+: /, ''));
  }
  return { clean: 4, adv: 1 };
}

export function planTraining(config: RunConfig, trainCount: number): TrainPlan {
  const method = config.method;
  const B = config.batchSize;
  const G = config.bnGroups;
  const K = config.attack.steps;
  let split: Split;
  let A: number;
  let imagesPerStep: number;
  if (method === 'vanilla') {
    split = { clean: 1, adv: 0 };
    A = 0;
    imagesPerStep = B;
  } else if (method === 'advprop') {
    split = { clean: 1, adv: 1 };
    A = B;
    imagesPerStep = B;
  } else {
    split = resolveSplit(config);
    A = batchSplit(B, split).adv;
    imagesPerStep = config.decouple ? B + A : B;
    if (!config.decouple && A > B) {
      throw new ConfigError('decouple', `with decouple false the attacked images are copies of clean ones, so the split may attack at most all ${B} of them; split ${split.clean}:${split.adv} asks for ${A}`);
    }
    if (config.attack.targeted && config.reuseGradients) {
      throw new ConfigError('attack.targeted', 'gradient reuse needs an untargeted attack (the reused gradient must ascend the true-label loss); set targeted to false or reuseGradients to false');
    }
  }
  if (A % G !== 0) {
    const fit = fittingBatchSizes(split, G, B);
    const hint = fit.length ? `; batchSize ${fit.join(' or ')} fits split ${split.clean}:${split.adv} with ${G} groups exactly` : '; change batchSize, split or bnGroups';
    throw new ConfigError('split', `the attacked part of the batch (${A} images for batchSize ${B} and split ${split.clean}:${split.adv}) must be divisible by bnGroups (${G})${hint}`);
  }
  const cal = calibrate({ method, split, k: K, epochs: config.epochs, milestones: config.milestones, sameBudget: config.sameBudget });
  if (cal.epochs < 1) {
    throw new ConfigError('epochs', `sameBudget divides ${config.epochs} epochs by the cost factor ${cal.costFactor.toFixed(3)}, leaving none; raise epochs`);
  }
  const stepsPerEpoch = Math.floor(trainCount / imagesPerStep);
  if (stepsPerEpoch < 1) {
    throw new ConfigError('batchSize', `one step needs ${imagesPerStep} training images but the dataset has ${trainCount}; lower batchSize or raise dataset.trainLimit`);
  }
  const totalSteps = stepsPerEpoch * cal.epochs;
  const runSteps = config.maxSteps > 0 ? Math.min(config.maxSteps, totalSteps) : totalSteps;
  let divisors: TrainPlan['divisors'];
  if (method === 'fast-advprop') {
    // Without gradient reuse the attack passes give no parameter gradients, so they do not count.
    const d = updateSyncDivisors({ clean: B, adv: A, k: config.reuseGradients ? K : 0, beta: config.beta });
    divisors = config.syncUpdateSpeed ? d : { shared: d.shared, clean: d.shared, adv: d.shared };
  } else if (method === 'advprop' && (config.advprop ?? ADVPROP_REFERENCE).gradientDivisor === 'weighted-count') {
    // The reference divides each parameter by the weighted count of samples that reached it: the
    // shared layers see B clean and B adversarial images (weights 1, 1), each BN set B; the attack
    // passes, without gradient reuse, count for nothing.
    divisors = { shared: 2 * B, clean: B, adv: B };
  } else {
    // Vanilla, and AdvProp with "clean-batch", average each stream's loss over the clean batch.
    divisors = { shared: B, clean: B, adv: B };
  }
  return {
    method,
    split: `${split.clean}:${split.adv}`,
    pAdv: split.adv / (split.clean + split.adv),
    k: method === 'vanilla' ? 0 : K,
    batch: { clean: B, adv: A },
    imagesPerStep,
    bnGroups: G,
    cleanGroupSize: B / G,
    advGroupSize: A / G,
    epochs: cal.epochs,
    milestones: cal.milestones,
    costFactor: cal.costFactor,
    stepsPerEpoch,
    totalSteps,
    runSteps,
    divisors,
    passesPerStep: { clean: B, attack: A > 0 ? K * A : 0, adv: A },
  };
}

/**
 * How many pieces one training step's widest executor call splits into: a training pass is computed
 * one BN group at a time (exec/shard.ts), and Fast AdvProp and AdvProp send the clean pass and the
 * attacked pass together. With `splitGroups` (wasm), each group may be split further across a team
 * of workers (exec/shard.ts maxTeam). More workers than this only speed up evaluation.
 */
export function stepPieces(plan: Pick<TrainPlan, 'method' | 'bnGroups' | 'batch'> & Partial<Pick<TrainPlan, 'cleanGroupSize' | 'advGroupSize'>>, splitGroups = false): number {
  const both = !(plan.method === 'vanilla' || plan.batch.adv === 0);
  const groups = both ? 2 * plan.bnGroups : plan.bnGroups;
  if (!splitGroups) return groups;
  const sizes = [plan.cleanGroupSize ?? plan.batch.clean / plan.bnGroups, ...(both ? [plan.advGroupSize ?? plan.batch.adv / plan.bnGroups] : [])];
  return groups * maxTeam(sizes);
}
