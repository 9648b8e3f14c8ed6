import { parentPort, workerData } from 'node:worker_threads';
import { READ_LIMITS, readBounded, type ReadScratch } from '../util/boundedRead';
import { centerCropBox, trainView } from './cropBox';
import type { DecoderChoice } from '../../shared/config';
import { pickDecoder, type ViewFn } from './decoders';

// One decode thread of the streaming loader (streamLoader.ts). It receives file paths with their
// dataset index and the position their res × res × 3 RGB bytes take in the caller's shared batch
// buffer, and writes them there (no per-task buffer, transfer or copy: that cost a tenth of an
// image's CPU time); a file it cannot read or decode is reported by position, never thrown, so
// one bad JPEG does not end an epoch.

export interface LoaderTask {
  id: number;
  res: number;
  mode: 'train' | 'eval';
  seed: number;
  epoch: number;
  crop: boolean;
  flip: boolean;
  /** The batch's bytes: item k goes to `at` × res² × 3. */
  out: SharedArrayBuffer;
  items: { index: number; file: string; at: number }[];
}

export interface LoaderReply {
  id: number;
  failed: { pos: number; reason: string }[];
}

export type LoaderInit = { kind: 'ready'; decoder: string; name: string } | { kind: 'init-error'; message: string };

if (parentPort) {
  const port = parentPort;
  let decoder: ReturnType<typeof pickDecoder>;
  try {
    decoder = pickDecoder((workerData as { decoder: DecoderChoice }).decoder);
    port.postMessage({ kind: 'ready', decoder: decoder.detail, name: decoder.name } satisfies LoaderInit);
  } catch (e) {
    port.postMessage({ kind: 'init-error', message: (e as Error).message } satisfies LoaderInit);
  }
  const scratch: ReadScratch = {};
  port.on('message', async (t: LoaderTask) => {
    const px = t.res * t.res * 3;
    const failed: LoaderReply['failed'] = [];
    for (let pos = 0; pos < t.items.length; pos++) {
      const { index, file, at } = t.items[pos];
      const view: ViewFn = t.mode === 'train'
        ? (h, w) => trainView(h, w, t.seed, t.epoch, index, { crop: t.crop, flip: t.flip })
        : (h, w) => ({ box: centerCropBox(h, w), flip: false });
      try {
        // One image at a time per thread (render is awaited), so one read buffer serves them all.
        const buf = readBounded(file, READ_LIMITS.image, 'an image', scratch);
        if (buf.length === 0) throw new Error(`${file}: empty file (0 bytes)`);
        const slot = new Uint8Array(t.out, at * px, px);
        const out = await decoder.render(buf, file, t.res, view, slot);
        if (out !== slot) slot.set(out);
      } catch (e) {
        failed.push({ pos, reason: (e as Error).message });
      }
    }
    port.postMessage({ id: t.id, failed } satisfies LoaderReply);
  });
}
