// Splitting a pass across workers, and merging the pieces back. A training pass is always computed
// one BN group at a time (planUnits), whatever the worker count, and the pieces are summed in group
// order: a float sum depends on its order, and SGD amplifies a 1e-7 difference to 1e-2 within a
// dozen steps, so this is what makes a run's weights identical for 1, 2 or N workers. The merge sums
// what is additive and weights the per-group BN statistics by group count.
//
// With more workers than a step has BN groups, each group can be split further across a team of
// workers that reduce the group's BN sums between them (backend/bnTeam.ts): what a group means does
// not change, only the float summation order inside it (results then agree with the unsplit run
// to float rounding, not bit for bit, and a given worker count always gives the same bits).
import { teamBuffer } from '../backend/bnTeam';
import type { BatchStats, PassRequest, PassResult } from './types';

/** A contiguous run of samples [start, start + count) of a request. */
export interface Shard {
  start: number;
  count: number;
}

/**
 * Cuts `req` into at most `parts` contiguous shards, as even as the cut points allow: group
 * boundaries for training passes, any sample for eval passes. Empty shards are left out.
 */
export function planShards(req: PassRequest, parts: number): Shard[] {
  if (req.count <= 0) return [{ start: 0, count: 0 }];
  const unit = req.training ? req.groupSize : 1;
  if (!(unit >= 1) || req.count % unit !== 0) throw new Error(`pass: count ${req.count} is not a multiple of groupSize ${req.groupSize}`);
  const units = req.count / unit;
  const n = Math.max(1, Math.min(parts, units));
  const out: Shard[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const u = Math.floor(units / n) + (i < units % n ? 1 : 0);
    out.push({ start, count: u * unit });
    start += u * unit;
  }
  return out;
}

/**
 * The units a pass is computed in: one per BN group for a training pass (independent of the worker
 * count, see above), and up to `workers` even pieces for an eval pass, whose per-sample outputs
 * do not mix across samples.
 */
export function planUnits(req: PassRequest, workers: number): Shard[] {
  if (!req.training) return planShards(req, workers);
  return planShards(req, req.count > 0 && req.groupSize >= 1 ? req.count / req.groupSize : 1);
}

function rows<T extends Float32Array | Int32Array>(a: T, total: number, s: Shard): T {
  const per = a.length / total;
  // slice (a copy), not subarray: posting a view would clone its whole underlying buffer.
  return a.slice(s.start * per, (s.start + s.count) * per) as T;
}

/** The sub-request for one shard. Its arrays are always fresh copies, so they can be transferred. */
export function sliceRequest(req: PassRequest, s: Shard): PassRequest {
  const sub: PassRequest = {
    ...req,
    images: rows(req.images, req.count, s),
    labels: rows(req.labels, req.count, s),
    count: s.count,
    softLabels: req.softLabels && rows(req.softLabels, req.count, s),
  };
  // An eval shard may end mid-group; running statistics ignore groups, so any divisor does.
  if (s.count % req.groupSize !== 0) sub.groupSize = 1;
  if (req.attack) {
    sub.attack = {
      ...req.attack,
      noise: req.attack.noise && rows(req.attack.noise, req.count, s),
      targetLabels: req.attack.targetLabels && rows(req.attack.targetLabels, req.count, s),
    };
  }
  return sub;
}

function concat(parts: (Float32Array | undefined)[]): Float32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const ps = parts as Float32Array[];
  const out = new Float32Array(ps.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of ps) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function mergeStats(parts: BatchStats[][]): BatchStats[] {
  const n = parts[0].length;
  if (parts.some((p) => p.length !== n)) throw new Error('merge: shards returned different numbers of BN statistics');
  const out: BatchStats[] = [];
  for (let i = 0; i < n; i++) {
    const groups = parts.reduce((g, p) => g + p[i].groups, 0);
    const values = new Float32Array(parts[0][i].values.length);
    for (const p of parts) {
      const w = p[i].groups / groups;
      const v = p[i].values;
      for (let j = 0; j < values.length; j++) values[j] += w * v[j];
    }
    out.push({ values, groupSize: parts[0][i].groupSize, groups });
  }
  return out;
}

/** Merges shard results (in shard order) into the result of the whole request. */
export function mergeResults(parts: PassResult[]): PassResult {
  if (parts.length === 1) return parts[0];
  const sum = (f: (r: PassResult) => number | undefined): number | undefined =>
    parts.every((r) => f(r) === undefined) ? undefined : parts.reduce((s, r) => s + (f(r) ?? 0), 0);
  let grads: Float32Array | undefined;
  if (parts.some((r) => r.grads)) {
    grads = new Float32Array(parts.find((r) => r.grads)!.grads!.length);
    for (const r of parts) {
      if (!r.grads) continue;
      const g = r.grads;
      for (let j = 0; j < grads.length; j++) grads[j] += g[j];
    }
  }
  const out: PassResult = {
    lossSum: sum((r) => r.lossSum)!,
    correct: sum((r) => r.correct)!,
    count: sum((r) => r.count)!,
    bnStats: mergeStats(parts.map((r) => r.bnStats)),
  };
  if (grads) out.grads = grads;
  const adv = concat(parts.map((r) => r.advImages));
  if (adv) out.advImages = adv;
  const logits = concat(parts.map((r) => r.logits));
  if (logits) out.logits = logits;
  const al = sum((r) => r.attackLossSum);
  if (al !== undefined) out.attackLossSum = al;
  const ac = sum((r) => r.attackCorrect);
  if (ac !== undefined) out.attackCorrect = ac;
  return out;
}

/**
 * How many workers share each BN group of `requests` run together on `workers` workers: as many
 * as leave no worker with two shares (every member of a team must run at the same time), dividing
 * every group evenly into shares of at least MIN_TEAM_SHARE samples; 1 (no teams) for eval passes,
 * which already spread per sample, and when there are at least as many groups as workers.
 */
export function teamSize(requests: PassRequest[], workers: number): number {
  if (requests.length === 0 || !requests.every((r) => r.training && r.count > 0)) return 1;
  const units = requests.reduce((n, r) => n + planUnits(r, workers).length, 0);
  return maxTeam(requests.map((r) => r.groupSize), Math.floor(workers / units));
}

/**
 * Fewest samples a team member gets: below that a share's fixed costs (kernel dispatch, ~60 BN
 * barriers a pass) outweigh its compute.
 */
export const MIN_TEAM_SHARE = 4;

/** The largest team (≤ cap) that splits every one of these BN group sizes evenly into shares of ≥ MIN_TEAM_SHARE samples. */
export function maxTeam(groupSizes: number[], cap = Infinity): number {
  let t = Math.max(1, Math.min(cap, Math.floor(Math.min(...groupSizes) / MIN_TEAM_SHARE)));
  while (t > 1 && !groupSizes.every((g) => g % t === 0)) t--;
  return t;
}

/**
 * One BN group's unit cut into `size` equal member requests sharing one team buffer, in sample order.
 * Each member's groupSize is its share; the group-wide statistics come back from teamReduce.
 */
export function teamRequests(req: PassRequest, unit: Shard, size: number): PassRequest[] {
  const share = unit.count / size;
  if (!Number.isInteger(share) || share < 1 || share % (req.groupSize / size) !== 0) throw new Error(`pass: a unit of ${unit.count} samples cannot be split across ${size} workers`);
  const buffer = teamBuffer(size);
  return Array.from({ length: size }, (_, index) => {
    const sub = sliceRequest(req, { start: unit.start + index * share, count: share });
    sub.groupSize = req.groupSize / size;
    sub.team = { buffer, size, index };
    return sub;
  });
}

/**
 * Merges the members of one team (in member order) into the result of their unit: sums and
 * concatenations as mergeResults, and the BN statistics of member 0 (every member holds the same
 * group-wide values), with the group's real size for the unbiased-variance correction.
 */
export function mergeTeam(parts: PassResult[], groupSize: number): PassResult {
  const out = mergeResults(parts);
  return { ...out, bnStats: parts[0].bnStats.map((b) => ({ ...b, groupSize })) };
}
