// A BN group split across worker threads: a "team" of `size` workers that each hold an equal share
// of the group's samples and run the same pass at the same time. Every column sum the BN kernels
// take over a group (Σh, Σ(h − mean)², Σg and Σg·d) goes through teamReduce: each member posts its
// partial sums to a slot of one SharedArrayBuffer, waits for the others, then adds all slots in
// member order, so every member continues with the same group-wide statistics, exactly as if the
// group had been on one worker (up to the order of the float sums). This is what lets training use
// more workers than a step has BN groups without changing what a group means (exec/shard.ts).
//
// Buffer layout: Int32 [arrived, generation, aborted, unused], then two banks of `size` slots of
// TEAM_SLOT_FLOATS floats. Consecutive reductions alternate banks: a member that is already
// writing reduction k+1 cannot overwrite slots a slower member is still reading for reduction k,
// because reduction k+1's barrier needs that slower member too.

/** The sums one reduction may carry: 2·C floats (Σg and Σg·d) for up to 4096 BN channels. */
export const TEAM_SLOT_FLOATS = 8192;
const HEADER_INTS = 4;
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
/** A member that has not arrived after this long is taken to be gone (its pass failed or hangs). */
const WAIT_LIMIT_MS = 120_000;

export interface BnTeam {
  buffer: SharedArrayBuffer;
  size: number;
  /** 0 … size − 1; member 0 alone reports the BN parameters' gradients (the others report zeros). */
  index: number;
}

/** The shared buffer of a team of `size` members, made by whoever hands out the pieces. */
export function teamBuffer(size: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_INTS * 4 + 2 * size * TEAM_SLOT_FLOATS * 4);
}

interface Active {
  team: BnTeam;
  i32: Int32Array;
  slots: Float32Array;
  calls: number;
}

let active: Active | null = null;

/** Joins a team for the passes that follow in this thread (null: leave it). */
export function setBnTeam(team: BnTeam | null): void {
  if (!team) {
    active = null;
    return;
  }
  if (!(team.size >= 2) || !(team.index >= 0 && team.index < team.size) || team.buffer.byteLength < HEADER_INTS * 4 + 2 * team.size * TEAM_SLOT_FLOATS * 4) {
    throw new Error(`BN team: member ${team.index} of ${team.size} with a ${team.buffer.byteLength}-byte buffer does not fit (teamBuffer makes it)`);
  }
  active = { team, i32: new Int32Array(team.buffer, 0, HEADER_INTS), slots: new Float32Array(team.buffer, HEADER_INTS * 4), calls: 0 };
}

/** The team this thread's passes belong to, if any. */
export function bnTeam(): BnTeam | null {
  return active?.team ?? null;
}

/** Wakes every member waiting on the team and makes their reductions throw (a member's pass failed). */
export function abortBnTeam(team: BnTeam): void {
  // Set before the wake-up: a member that arrives later sees it before it waits.
  const i32 = new Int32Array(team.buffer, 0, HEADER_INTS);
  Atomics.store(i32, ABORTED, 1);
  Atomics.add(i32, GENERATION, 1);
  Atomics.notify(i32, GENERATION);
}

function barrier(a: Active): void {
  const { i32, team } = a;
  const gen = Atomics.load(i32, GENERATION);
  if (Atomics.add(i32, ARRIVED, 1) === team.size - 1) {
    Atomics.store(i32, ARRIVED, 0);
    Atomics.add(i32, GENERATION, 1);
    Atomics.notify(i32, GENERATION);
  } else {
    const t0 = Date.now();
    while (Atomics.load(i32, GENERATION) === gen) {
      // An abort before this member arrived did not wake it: look before each wait.
      if (Atomics.load(i32, ABORTED)) break;
      if (Date.now() - t0 > WAIT_LIMIT_MS) {
        Atomics.store(i32, ABORTED, 1);
        throw new Error(`BN team: a worker of this BN group did not reach its batch statistics within ${WAIT_LIMIT_MS / 1000} s`);
      }
      Atomics.wait(i32, GENERATION, gen, 1000);
    }
  }
  if (Atomics.load(i32, ABORTED)) throw new Error('BN team: another worker of this BN group failed; the pass was abandoned');
}

/**
 * Replaces `count` floats at byte offset `ptr` of `memory` (this member's partial sums) by their sum
 * over the team, added in member order. No team: nothing to do.
 */
export function teamReduce(memory: { buffer: ArrayBuffer }, ptr: number, count: number): void {
  const a = active;
  if (!a) return;
  if (count > TEAM_SLOT_FLOATS) throw new Error(`BN team: ${count} sums exceed a slot of ${TEAM_SLOT_FLOATS}`);
  const { size, index } = a.team;
  const bank = (a.calls++ & 1) * size * TEAM_SLOT_FLOATS;
  const mine = new Float32Array(memory.buffer, ptr, count);
  a.slots.set(mine, bank + index * TEAM_SLOT_FLOATS);
  barrier(a);
  for (let j = 0; j < count; j++) {
    let s = a.slots[bank + j];
    for (let m = 1; m < size; m++) s += a.slots[bank + m * TEAM_SLOT_FLOATS + j];
    mine[j] = s;
  }
}
