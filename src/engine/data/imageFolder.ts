import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { READ_LIMITS, folderProblem, readBounded } from '../util/boundedRead';
import { resizeHWC } from './resize';
import type { Dataset, DatasetPair } from './types';

const EXTENSIONS = /\.(png|jpe?g)$/i;

interface Decoded {
  rgb: Uint8Array;
  height: number;
  width: number;
  gray: boolean;
}

// Code-point order, not locale order, so class indices do not depend on the user's locale
// (torchvision's ImageFolder uses Python's sorted(), which is also code-point order).
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Decodes a PNG or JPEG to RGB; transparent pixels are composited over black. */
export function decodeImage(buf: Uint8Array, file: string): Decoded {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) {
      const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      rgba = png.data;
      width = png.width;
      height = png.height;
    } else if (buf[0] === 0xff && buf[1] === 0xd8) {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      rgba = img.data;
      width = img.width;
      height = img.height;
    } else {
      throw new Error('neither PNG nor JPEG signature');
    }
  } catch (e) {
    throw new Error(`${file}: cannot decode image (${(e as Error).message}); replace or remove the file`);
  }
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  let gray = true;
  for (let i = 0; i < n; i++) {
    const a = rgba[4 * i + 3];
    for (let ch = 0; ch < 3; ch++) {
      const v = rgba[4 * i + ch];
      rgb[3 * i + ch] = a === 255 ? v : Math.round((v * a) / 255);
    }
    if (rgb[3 * i] !== rgb[3 * i + 1] || rgb[3 * i] !== rgb[3 * i + 2]) gray = false;
  }
  return { rgb, height, width, gray };
}

async function listDirs(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
}

async function listImages(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && EXTENSIONS.test(e.name)).map((e) => path.join(dir, e.name)).sort(byCodePoint);
}

interface RawSplit {
  files: string[];
  labels: number[];
}

async function scanSplit(root: string, split: 'train' | 'test', classes: string[] | null): Promise<{ classes: string[]; raw: RawSplit }> {
  const dir = path.join(root, split);
  if (!existsSync(dir)) {
    throw new Error(`${dir}: folder not found; dataset "image-folder" needs ${split}/<class>/*.png|jpg under dataset.path`);
  }
  const found = await listDirs(dir);
  if (found.length === 0) throw new Error(`${dir}: no class folders; put each class's images in ${split}/<class name>/`);
  const names = classes ?? found;
  const raw: RawSplit = { files: [], labels: [] };
  for (const cls of found) {
    const label = names.indexOf(cls);
    if (label < 0) {
      throw new Error(`${path.join(dir, cls)}: class "${cls}" has no folder under train/; add train/${cls}/ or remove this folder`);
    }
    const files = await listImages(path.join(dir, cls));
    for (const f of files) {
      raw.files.push(f);
      raw.labels.push(label);
    }
  }
  if (raw.files.length === 0) throw new Error(`${dir}: no .png/.jpg/.jpeg images found under the class folders`);
  return { classes: names, raw };
}

/** Loads root/train/<class>/* and root/test/<class>/*, resized to size×size (default: the first image's size). */
export async function loadImageFolder(root: string, size?: number, name = 'image-folder'): Promise<DatasetPair> {
  const bad = folderProblem(root);
  if (bad) throw new Error(`${root}: ${bad}; set dataset.path to a folder with train/ and test/ class folders`);
  const train = await scanSplit(root, 'train', null);
  const test = await scanSplit(root, 'test', train.classes);
  const decodeAll = async (raw: RawSplit): Promise<Decoded[]> => {
    const out: Decoded[] = [];
    for (const f of raw.files) out.push(decodeImage(readBounded(f, READ_LIMITS.image, 'an image'), f));
    return out;
  };
  const trainImgs = await decodeAll(train.raw);
  const testImgs = await decodeAll(test.raw);
  const height = size ?? trainImgs[0].height;
  const width = size ?? trainImgs[0].width;
  // One colour image makes the whole dataset RGB; otherwise keep 1 channel (3× less memory and
  // the model's first conv matches the data).
  const channels: 1 | 3 = [...trainImgs, ...testImgs].every((d) => d.gray) ? 1 : 3;
  const pack = (imgs: Decoded[], labels: number[]): Dataset => {
    const px = height * width * channels;
    const images = new Uint8Array(imgs.length * px);
    imgs.forEach((d, i) => {
      const rgb = resizeHWC(d.rgb, d.height, d.width, 3, height, width);
      if (channels === 3) images.set(rgb, i * px);
      else for (let p = 0; p < height * width; p++) images[i * px + p] = rgb[3 * p];
    });
    return {
      name, images, labels: Int32Array.from(labels), count: imgs.length, height, width, channels,
      numClasses: train.classes.length, classNames: [...train.classes], source: root,
    };
  };
  return { train: pack(trainImgs, train.raw.labels), test: pack(testImgs, test.raw.labels) };
}
