// Released CIFAR-10-C: <corruption>.npy holds 50,000 uint8 32×32×3 images, severity-major
// (rows 10,000·(s−1) … 10,000·s − 1 are severity s), and labels.npy the matching labels.

import { entryExists } from '../util/boundedRead';
import { join } from 'node:path';
import { ALL_CORRUPTIONS } from '../../shared/robustness';
import { assertCorruptionName, assertSeverity } from './index';
import { openNpy, toInt32, type NpyFile } from './npy';

export const CIFAR10C_PER_SEVERITY = 10000;
const IMAGE_SHAPE = [32, 32, 3];

export interface Cifar10C {
  dir: string;
  /** Labels of one severity block (the same for every severity in the release). */
  labels: Int32Array;
  /** Images per severity in the files (10,000 for the release; smaller test fixtures are allowed). */
  perSeverity: number;
  /** Corruptions with a file in the folder. */
  available: string[];
  /** Images [start, start + count) of one corruption and severity, as HWC floats in [0, 1]. */
  load(corruption: string, severity: number, start?: number, count?: number): Float32Array;
  close(): void;
}

function shapeText(s: readonly number[]): string {
  return `(${s.join(', ')})`;
}

/**
 * Open a CIFAR-10-C folder. When `corruptions` is given every one must have a file, so a missing
 * download is reported before any evaluation work starts.
 */
export function openCifar10C(dir: string, corruptions?: readonly string[]): Cifar10C {
  const labelsPath = join(dir, 'labels.npy');
  if (!entryExists(labelsPath)) throw new Error(`${labelsPath} not found: point the CIFAR-10-C folder setting at the unpacked CIFAR-10-C release (it holds labels.npy and one <corruption>.npy per corruption)`);
  for (const c of corruptions ?? []) assertCorruptionName(c);
  const missing = (corruptions ?? []).filter((c) => !entryExists(join(dir, `${c}.npy`)));
  if (missing.length) throw new Error(`CIFAR-10-C folder ${dir} lacks ${missing.map((m) => `${m}.npy`).join(', ')}; download the full release or evaluate only the corruptions present`);

  const lf = openNpy(labelsPath);
  let labelsAll: Int32Array;
  try {
    if (lf.header.shape.length !== 1) throw new Error(`${labelsPath} has shape ${shapeText(lf.header.shape)}; expected a 1-D array of labels`);
    labelsAll = toInt32(lf.readRows(0, lf.header.shape[0]), labelsPath);
  } finally {
    lf.close();
  }
  // The release stores 5 × 10,000 labels; a single block is accepted too.
  const perSeverity = labelsAll.length % 5 === 0 && labelsAll.length >= 5 ? labelsAll.length / 5 : labelsAll.length;
  const labels = labelsAll.slice(0, perSeverity);

  const open = new Map<string, NpyFile>();
  const fileFor = (c: string): NpyFile => {
    let f = open.get(c);
    if (f) return f;
    const path = join(dir, `${c}.npy`);
    if (!entryExists(path)) throw new Error(`${path} not found; download it from the CIFAR-10-C release`);
    f = openNpy(path);
    const { shape, dtype } = f.header;
    const expected = [5 * perSeverity, ...IMAGE_SHAPE];
    if (dtype !== '|u1' || shape.length !== 4 || shape.some((v, i) => v !== expected[i])) {
      f.close();
      throw new Error(`${path} has ${dtype} shape ${shapeText(shape)}; expected uint8 ${shapeText(expected)} (5 severities × ${perSeverity} images of 32×32×3, matching labels.npy)`);
    }
    open.set(c, f);
    return f;
  };

  return {
    dir,
    labels,
    perSeverity,
    available: ALL_CORRUPTIONS.filter((c) => entryExists(join(dir, `${c}.npy`))),
    load(corruption, severity, start = 0, count = perSeverity - start): Float32Array {
      assertCorruptionName(corruption);
      assertSeverity(severity);
      if (start < 0 || count < 0 || start + count > perSeverity) throw new Error(`CIFAR-10-C has ${perSeverity} images per severity; asked for ${start}..${start + count}`);
      const raw = fileFor(corruption).readRows((severity - 1) * perSeverity + start, count) as Uint8Array;
      const out = new Float32Array(raw.length);
      for (let i = 0; i < raw.length; i++) out[i] = raw[i] / 255;
      return out;
    },
    close(): void {
      for (const f of open.values()) f.close();
      open.clear();
    },
  };
}
