import { READ_LIMITS, readBounded } from '../util/boundedRead';
import { scanImageFolder, type FolderSplit } from './folderLayout';
import { decodeImage, type Decoded } from './jsDecode';
import { resizeHWC } from './resize';
import type { Dataset, DatasetPair } from './types';

export { decodeImage } from './jsDecode';

// The in-memory image folder: every image decoded once at load, resized to one size. Fine for a
// few thousand small images; larger folders take `"loader": "stream"` (streamLoader.ts).

/** Loads an image folder (see folderLayout.ts) into memory, resized to size×size (default: the first image's size). */
export async function loadImageFolder(root: string, size?: number, name = 'image-folder'): Promise<DatasetPair> {
  const layout = await scanImageFolder(root);
  const decodeAll = async (split: FolderSplit): Promise<Decoded[]> => {
    const out: Decoded[] = [];
    for (const f of split.files) out.push(decodeImage(readBounded(f, READ_LIMITS.image, 'an image'), f));
    return out;
  };
  const trainImgs = await decodeAll(layout.train);
  const testImgs = await decodeAll(layout.test);
  const height = size ?? trainImgs[0].height;
  const width = size ?? trainImgs[0].width;
  // One colour image makes the whole dataset RGB; otherwise keep 1 channel (3× less memory and
  // the model's first conv matches the data).
  const channels: 1 | 3 = [...trainImgs, ...testImgs].every((d) => d.gray) ? 1 : 3;
  const pack = (imgs: Decoded[], labels: Int32Array): Dataset => {
    const px = height * width * channels;
    const images = new Uint8Array(imgs.length * px);
    imgs.forEach((d, i) => {
      const rgb = resizeHWC(d.rgb, d.height, d.width, 3, height, width);
      if (channels === 3) images.set(rgb, i * px);
      else for (let p = 0; p < height * width; p++) images[i * px + p] = rgb[3 * p];
    });
    return {
      name, images, labels, count: imgs.length, height, width, channels,
      numClasses: layout.classes.length, classNames: [...layout.classes], source: root,
    };
  };
  return { train: pack(trainImgs, layout.train.labels), test: pack(testImgs, layout.test.labels) };
}
