import type { DecoderChoice } from '../../shared/config';
import { decodeImage } from './jsDecode';
import type { Box } from './cropBox';
import { cachedWeights } from './resize';
import { resizeRgb } from './resizeSimd';
import { jpegAddon, type JpegAddon } from './turboJpeg';

// The image decoders of the streaming loader, chosen and reported the way backends are:
// - turbo: libjpeg-turbo's partial decode of a JPEG's crop through our addon (turboJpeg.ts), the
//   fastest; anything else (PNG, CMYK, a truncated or corrupt file) goes to sharp, or to the JS pair
//   where sharp is missing;
// - sharp: libvips through `sharp` when its prebuilt binary loads (JPEG shrink-on-load: a large crop
//   headed for a small size is decoded at a fraction of its size);
// - js: the pure-JS jpeg-js/pngjs pair, which is slower but runs everywhere.
// All crop the same box (cropBox.ts), resize it with the same antialiased bilinear kernel
// (resizeSimd.ts; libvips' own only when sharp shrinks a JPEG on load), composite alpha over black
// and return res × res × 3 RGB bytes, whatever the file held (grayscale, CMYK, 16-bit PNG). turbo and
// sharp give the same bytes for a JPEG, except for crops at least twice the output size, which
// each shrinks on load its own way.

export type DecoderName = 'turbo' | 'sharp' | 'js';

/** Where to crop an image of the given size and whether to mirror it. */
export type ViewFn = (height: number, width: number) => { box: Box; flip: boolean };

export interface ImageDecoder {
  readonly name: DecoderName;
  /** One line for the run log: which decoder, which version, or why the preferred one is missing. */
  readonly detail: string;
  /** res × res × 3 bytes: written into `into` when given (and `into` returned), else a new array. */
  render(buf: Uint8Array, file: string, res: number, view: ViewFn, into?: Uint8Array): Promise<Uint8Array>;
}

type SharpModule = typeof import('sharp').default;

let sharpLoad: { mod?: SharpModule; error?: string } | undefined;

/** Loads sharp once; an install without its native binary yields the reason, not a throw. */
export function loadSharp(): { mod?: SharpModule; error?: string } {
  if (!sharpLoad) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require('sharp') as SharpModule;
      // One libvips thread per loader worker: the pool's workers are the parallelism.
      mod.concurrency(1);
      mod.cache(false);
      sharpLoad = { mod };
    } catch (e) {
      sharpLoad = { error: (e as Error).message.split('\n')[0] };
    }
  }
  return sharpLoad;
}

function flipInPlace(rgb: Uint8Array, h: number, w: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      const a = (y * w + x) * 3;
      const b = (y * w + (w - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) {
        const t = rgb[a + c];
        rgb[a + c] = rgb[b + c];
        rgb[b + c] = t;
      }
    }
  }
}

/** A decoded crop (box.height × box.width × 3) resized to res × res, mirrored when asked. */
function resizeCrop(crop: Uint8Array, box: Box, res: number, flip: boolean): Uint8Array {
  const out = resizeRgb(crop, box.height, box.width, res, res);
  if (flip) flipInPlace(out, res, res);
  return out;
}

/** Whether sharp decodes this crop shrunk on load (a JPEG at 1/2, 1/4, 1/8 of its size) rather than cropping at full size. */
function shrinksOnLoad(box: Box, res: number): boolean {
  return Math.min(box.width, box.height) >= 2 * res;
}

export const jsDecoder: ImageDecoder = {
  name: 'js',
  detail: 'jpeg-js + pngjs (pure JavaScript)',
  async render(buf, file, res, view) {
    const d = decodeImage(buf, file);
    const { box, flip } = view(d.height, d.width);
    const crop = new Uint8Array(box.height * box.width * 3);
    for (let y = 0; y < box.height; y++) {
      const from = ((box.top + y) * d.width + box.left) * 3;
      crop.set(d.rgb.subarray(from, from + box.width * 3), y * box.width * 3);
    }
    return resizeCrop(crop, box, res, flip);
  },
};

/**
 * Width and height from a baseline/progressive JPEG's SOF marker or a PNG's IHDR; undefined for
 * anything else (sharp's metadata() then reads it). EXIF orientation is not applied, by either
 * decoder, as torchvision's PIL loader does not apply it.
 */
export function headerSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length > 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const m = b[i + 1];
    if (m === 0xff) { i++; continue; }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { i += 2; continue; }
    const len = (b[i + 2] << 8) | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    i += 2 + len;
  }
  return undefined;
}

/** The pipeline's output as h × w × 3 bytes: alpha over black, any colour space to sRGB, 8 bits. */
async function rgbBytes(img: import('sharp').Sharp, h: number, w: number): Promise<Uint8Array> {
  const { data, info } = await img.flatten({ background: '#000000' }).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== h * w * 3) throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${w}×${h}×3`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function sharpDecoder(sharp: SharpModule): ImageDecoder {
  const limitInputPixels = 100_000_000;
  return {
    name: 'sharp',
    detail: `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    async render(buf, file, res, view) {
      try {
        const input = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
        // The crop needs the size first: read it from the JPEG/PNG header ourselves, which costs
        // nothing, rather than through a second libvips pipeline.
        const meta = headerSize(input) ?? (await sharp(input, { limitInputPixels }).metadata());
        if (!meta.width || !meta.height) throw new Error('no image size in the header');
        const { box, flip } = view(meta.height, meta.width);
        let img = sharp(input, { limitInputPixels, failOn: 'error', sequentialRead: true });
        let out: Uint8Array;
        if (shrinksOnLoad(box, res)) {
          // Resize the whole image, then cut the crop out of it: sharp decodes a JPEG shrunk
          // on load only when the resize spans the whole picture.
          const sx = res / box.width;
          const sy = res / box.height;
          const W = Math.max(res, Math.round(meta.width * sx));
          const H = Math.max(res, Math.round(meta.height * sy));
          const left = Math.min(W - res, Math.round(box.left * sx));
          const top = Math.min(H - res, Math.round(box.top * sy));
          img = img.resize(W, H, { fit: 'fill', kernel: 'linear' }).extract({ left, top, width: res, height: res });
          if (flip) img = img.flop();
          out = await rgbBytes(img, res, res);
        } else {
          // libvips decodes and crops (with sequential reading it stops at the crop's last row);
          // our SIMD resize then costs half what libvips' resize did per image.
          img = img.extract({ left: box.left, top: box.top, width: box.width, height: box.height });
          out = resizeCrop(await rgbBytes(img, box.height, box.width), box, res, flip);
        }
        return out;
      } catch (e) {
        throw new Error(`${file}: cannot decode image (${(e as Error).message.split('\n')[0]}); replace or remove the file`);
      }
    },
  };
}

function isJpeg(b: Uint8Array): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * The largest DCT scaling 1/denom (1, 2, 4, 8) that keeps the box at least `res` on its short
 * side, and the box in the picture scaled by it (edges rounded outward, kept inside the picture).
 */
export function scaledBox(box: Box, size: { width: number; height: number }, res: number): { denom: number; box: Box } {
  let denom = 1;
  while (denom < 8 && Math.min(box.width, box.height) >= 2 * denom * res) denom *= 2;
  if (denom === 1) return { denom, box };
  const W = Math.ceil(size.width / denom), H = Math.ceil(size.height / denom);
  const left = Math.floor(box.left / denom), top = Math.floor(box.top / denom);
  const right = Math.min(W, Math.ceil((box.left + box.width) / denom)), bottom = Math.min(H, Math.ceil((box.top + box.height) / denom));
  return { denom, box: { left, top, width: right - left, height: bottom - top } };
}

/**
 * What the turbo decoder asks our addon for, for a JPEG and a view at `res`: the DCT scale, the box
 * in the picture scaled by it, and the mirror; undefined for a file that is not a JPEG with a
 * readable size (the general decoder's). A crop at least twice the output size is decoded shrunk by
 * the DCT, as sharp shrinks it on load (each its own way, so those crops differ slightly between the
 * two); every other crop is decoded at full size, byte for byte as sharp decodes it.
 */
export function turboView(buf: Uint8Array, res: number, view: ViewFn): { denom: number; box: Box; flip: boolean } | undefined {
  const size = isJpeg(buf) ? headerSize(buf) : undefined;
  if (!size) return undefined;
  const v = view(size.height, size.width);
  return { ...scaledBox(v.box, size, res), flip: v.flip };
}

function turboDecoder(jpeg: JpegAddon, rest: ImageDecoder): ImageDecoder {
  return {
    name: 'turbo',
    detail: `libjpeg-turbo ${jpeg.version()} (crops decoded in part) for JPEG, ${rest.detail} for the rest`,
    async render(buf, file, res, view, into) {
      const v = turboView(buf, res, view);
      if (v) {
        const { denom, box } = v;
        const out = into ?? new Uint8Array(res * res * 3);
        const wy = cachedWeights(box.height, res);
        const wx = cachedWeights(box.width, res);
        try {
          jpeg.decode_resize(buf, denom, box.left, box.top, box.width, box.height, v.flip, wy.start, wy.count, wy.w, wy.span, wx.start, wx.count, wx.w, wx.span, out);
          return out;
        } catch {
          // A warning, CMYK, a bad header: `rest` decodes it by its own rules or reports it.
        }
      }
      return rest.render(buf, file, res, view, into);
    },
  };
}

/**
 * The decoder for a choice: "auto" takes our JPEG addon over sharp when it loads, else sharp, else
 * the pure-JS pair; "turbo" and "sharp" insist on theirs.
 */
export function pickDecoder(choice: DecoderChoice = 'auto'): ImageDecoder {
  if (choice === 'js') return jsDecoder;
  const s = loadSharp();
  const general = s.mod ? sharpDecoder(s.mod) : { ...jsDecoder, detail: `${jsDecoder.detail}; sharp unavailable: ${s.error}` };
  if (choice === 'sharp') {
    if (!s.mod) throw new Error(`dataset.decoder: "sharp" cannot load (${s.error}); run npm install sharp, or set dataset.decoder to "auto" or "js"`);
    return general;
  }
  const j = jpegAddon();
  if (j.addon) return turboDecoder(j.addon, general);
  if (choice === 'turbo') throw new Error(`dataset.decoder: "turbo" cannot load (${j.why}); build it with node scripts/build-native.mjs (needs libjpeg62-turbo-dev), or set dataset.decoder to "auto"`);
  return { ...general, detail: `${general.detail}; libjpeg-turbo addon unavailable: ${j.why}` };
}
