import * as jpeg from 'jpeg-js';
import type { EngineDeps } from '../../../src/engine/cli/train';
import { openDataset } from '../../../src/engine/data/load';
import { tinyDeps } from '../train/helpers';

// What the real-CLI tests of streamed image folders (training, evaluation) share.

/** A w × h JPEG of class k: the bright half is the left one for k = 0, the top one otherwise; i varies the green. */
export function jpg(w: number, h: number, k: number, i: number): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const bright = k === 0 ? x < w / 2 : y < h / 2;
    data.set([bright ? 200 : 40, (x * 7 + i * 13) % 256, bright ? 60 : 180, 255], (y * w + x) * 4);
  }
  return jpeg.encode({ width: w, height: h, data }, 90).data;
}

/** The tiny test deps, loading datasets as the CLI does (so an image folder streams); `chunk` sets evaluate's chunk size. */
export async function streamDeps(chunk?: number): Promise<EngineDeps> {
  return { ...(await tinyDeps()), loadDataset: (spec, base) => openDataset(spec, base), ...(chunk ? { evaluateChunk: chunk } : {}) };
}
