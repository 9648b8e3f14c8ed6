import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { loadSharp } from '../data/decoders';
import { Rng } from '../util/rng';

// A synthetic ImageNet-like folder for the loader benchmark and the memory measurement: JPEGs of
// mixed sizes around 500×375 with smooth colour fields plus noise, so they compress to roughly the
// bytes per pixel of photos (a flat image would decode unrealistically fast).

export interface JpegFolderOptions {
  classes: number;
  perClass: number;
  /** Images per class in val/. */
  valPerClass?: number;
  seed?: number;
  /** Mixed sizes are drawn around this (width, height). */
  size?: [number, number];
  quality?: number;
}

function image(rng: Rng, w: number, h: number, channels: 3 | 4): Uint8Array {
  const data = new Uint8Array(w * h * channels);
  const sx: Float32Array[] = [];
  const cy: Float32Array[] = [];
  for (let c = 0; c < 3; c++) {
    const fx = rng.uniform(0.005, 0.03);
    const fy = rng.uniform(0.005, 0.03);
    const ph = rng.uniform(0, 6);
    sx.push(Float32Array.from({ length: w }, (_, x) => 90 * Math.sin(fx * x + ph)));
    cy.push(Float32Array.from({ length: h }, (_, y) => Math.cos(fy * y)));
  }
  let noise = rng.nextUint32() | 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * channels;
      for (let c = 0; c < 3; c++) {
        noise = (Math.imul(noise, 1664525) + 1013904223) | 0;
        const v = 128 + sx[c][x] * cy[c][y] + ((noise >>> 24) - 128) * 0.3;
        data[o + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      if (channels === 4) data[o + 3] = 255;
    }
  }
  return data;
}

type Encoder = (rgb: Uint8Array, w: number, h: number, quality: number) => Promise<Uint8Array>;

/** sharp (libjpeg-turbo) when it loads: about 20× faster than jpeg-js for 20,000 files. */
function encoder(): { enc: Encoder; channels: 3 | 4 } {
  const s = loadSharp();
  if (s.mod) {
    const sharp = s.mod;
    return { channels: 3, enc: async (rgb, w, h, q) => sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.length), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: q }).toBuffer() };
  }
  return { channels: 4, enc: async (rgba, w, h, q) => jpeg.encode({ data: rgba, width: w, height: h }, q).data };
}

/** Writes root/train/cNNN/*.jpg (and val/) and returns the number of files written. */
export async function writeJpegFolder(root: string, o: JpegFolderOptions): Promise<number> {
  const { enc, channels } = encoder();
  const rng = new Rng(o.seed ?? 1);
  const [bw, bh] = o.size ?? [500, 375];
  let n = 0;
  for (const [split, per] of [['train', o.perClass], ['val', o.valPerClass ?? 0]] as const) {
    for (let c = 0; c < o.classes; c++) {
      if (per === 0) continue;
      const dir = path.join(root, split, `c${String(c).padStart(3, '0')}`);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < per; i++) {
        const portrait = rng.next() < 0.25;
        const s = rng.uniform(0.6, 1.4);
        const w = Math.max(16, Math.round((portrait ? bh : bw) * s));
        const h = Math.max(16, Math.round((portrait ? bw : bh) * s));
        writeFileSync(path.join(dir, `${i}.jpg`), await enc(image(rng, w, h, channels), w, h, o.quality ?? 85));
        n++;
      }
    }
  }
  return n;
}
