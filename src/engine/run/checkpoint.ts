import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { READ_LIMITS, FileReadError, readBounded } from '../util/boundedRead';
import type { RngState } from '../util/rng';
import { mkdirForWrite, writeFileAtomic } from './atomic';

// One checkpoint = one file: an 8-byte magic, a uint32 header length, a JSON header, the header's
// sha256 (32 bytes), then the float32 payload (params of both BN sets, running statistics,
// momentum buffers). The header carries the payload's sha256 and sizes, so a truncated or
// bit-flipped file is refused with a message instead of silently resuming from garbage.

const MAGIC = 'FAPCKPT1';
export const CHECKPOINT_VERSION = 1;
export const LAST_CHECKPOINT = 'last.ckpt';

export interface CheckpointState {
  step: number;
  epoch: number;
  params: Float32Array;
  running: Float32Array;
  momentum: Float32Array;
  rng: Record<string, RngState>;
  /** Hash of the schedule-relevant config, so a resume with a different config is refused. */
  configHash: string;
  /** Trainer bookkeeping needed to continue exactly (epoch accumulators, leak window, counters). */
  extra: Record<string, unknown>;
}

interface Header {
  format: 'fast-advprop-checkpoint';
  version: number;
  createdAt: string;
  step: number;
  epoch: number;
  configHash: string;
  rng: Record<string, RngState>;
  sizes: { params: number; running: number; momentum: number };
  sha256: string;
  extra: Record<string, unknown>;
}

export class CheckpointError extends Error {
  constructor(readonly file: string, message: string) {
    super(`checkpoint ${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** The file does not exist: the run was stopped or killed before its first checkpoint. */
export class NoCheckpointError extends CheckpointError {
  constructor(file: string) {
    super(file, 'does not exist; the run has no checkpoint yet');
    this.name = 'NoCheckpointError';
  }
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export function encodeCheckpoint(s: CheckpointState): Buffer {
  const payload = Buffer.concat([bytesOf(s.params), bytesOf(s.running), bytesOf(s.momentum)]);
  if (s.momentum.length !== s.params.length) throw new Error('checkpoint: momentum and params differ in length');
  const header: Header = {
    format: 'fast-advprop-checkpoint',
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    step: s.step,
    epoch: s.epoch,
    configHash: s.configHash,
    rng: s.rng,
    sizes: { params: s.params.length, running: s.running.length, momentum: s.momentum.length },
    sha256: createHash('sha256').update(payload).digest('hex'),
    extra: s.extra,
  };
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length, 0);
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), len, h, createHash('sha256').update(h).digest(), payload]);
}

function floats(buf: Buffer, offset: number, count: number): Float32Array {
  // Copy: the Buffer may share a pool slab with an unaligned offset.
  const out = new Float32Array(count);
  Buffer.from(out.buffer).set(buf.subarray(offset, offset + count * 4));
  return out;
}

export function decodeCheckpoint(buf: Buffer, file = '(buffer)'): CheckpointState & { createdAt: string } {
  if (buf.length < 12 || buf.subarray(0, 8).toString('ascii') !== MAGIC) {
    throw new CheckpointError(file, 'not a Fast AdvProp checkpoint (bad magic); the file is corrupt or from another program');
  }
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen + 32 > buf.length) throw new CheckpointError(file, `truncated: header needs ${hlen + 32} bytes, file has ${buf.length - 12}; use an earlier checkpoint`);
  const hbytes = buf.subarray(12, 12 + hlen);
  if (!createHash('sha256').update(hbytes).digest().equals(buf.subarray(12 + hlen, 12 + hlen + 32))) {
    throw new CheckpointError(file, 'header checksum mismatch: the file is corrupt; use an earlier checkpoint');
  }
  let header: Header;
  try {
    header = JSON.parse(hbytes.toString('utf8')) as Header;
  } catch {
    throw new CheckpointError(file, 'corrupt header (invalid JSON); use an earlier checkpoint');
  }
  if (header.format !== 'fast-advprop-checkpoint' || header.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(file, `unsupported format/version ${header.format}/${header.version}`);
  }
  const { params, running, momentum } = header.sizes;
  const need = (params + running + momentum) * 4;
  const base = 12 + hlen + 32;
  const payload = buf.subarray(base);
  if (payload.length !== need) {
    throw new CheckpointError(file, `truncated or padded: payload is ${payload.length} bytes, header says ${need}; use an earlier checkpoint`);
  }
  const sha = createHash('sha256').update(payload).digest('hex');
  if (sha !== header.sha256) throw new CheckpointError(file, 'checksum mismatch: the weights are corrupt; use an earlier checkpoint');
  return {
    step: header.step,
    epoch: header.epoch,
    configHash: header.configHash,
    rng: header.rng,
    extra: header.extra ?? {},
    createdAt: header.createdAt,
    params: floats(buf, base, params),
    running: floats(buf, base + params * 4, running),
    momentum: floats(buf, base + (params + running) * 4, momentum),
  };
}

export function checkpointDir(runDir: string): string {
  return path.join(runDir, 'checkpoints');
}

/**
 * Writes atomically (temp + fsync + rename); returns the path. A write that fails (disk full)
 * leaves the previous checkpoint of that name as it was and throws a FileWriteError naming it.
 */
export function saveCheckpoint(runDir: string, name: string, state: CheckpointState): string {
  const dir = checkpointDir(runDir);
  mkdirForWrite(dir);
  const file = path.join(dir, name);
  writeFileAtomic(file, encodeCheckpoint(state));
  return file;
}

export function loadCheckpoint(file: string): CheckpointState & { createdAt: string } {
  let buf: Buffer;
  try {
    buf = readBounded(file, READ_LIMITS.checkpoint, 'a checkpoint');
  } catch (e) {
    const fe = e as FileReadError;
    if (fe.code === 'ENOENT') throw new NoCheckpointError(file);
    throw new CheckpointError(file, fe.message.slice(file.length + 2));
  }
  return decodeCheckpoint(buf, file);
}
