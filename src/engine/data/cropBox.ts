import { Rng } from '../util/rng';

// Where an image is cropped before it is resized to the training resolution: the paper's
// ImageNet recipe, torchvision's RandomResizedCrop for training and Resize(res / 0.875) +
// CenterCrop(res) for evaluation. Only the geometry lives here, so the sharp and the pure-JS
// decoders crop the same box, and the box depends on (seed, epoch, index) alone: a run resumed
// mid-epoch, or a loader with another number of workers, sees the same pixels.

export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

export const RRC_SCALE: [number, number] = [0.08, 1];
export const RRC_RATIO: [number, number] = [3 / 4, 4 / 3];
/** ImageNet evaluation resizes the short side to res / 0.875 (256 for 224) before the center crop. */
export const EVAL_CROP_FRACTION = 0.875;

/** Python 3's round(): halves go to the even neighbour, as torchvision's int(round(x)) does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The draws of one image's augmentation: stable per (seed, epoch, index). */
export function augmentRng(seed: number, epoch: number, index: number): Rng {
  return Rng.derive(seed, `img-${epoch}-${index}`);
}

/**
 * torchvision's RandomResizedCrop.get_params: ten tries at a random area and log-uniform aspect
 * ratio, then a center crop clamped to the ratio range.
 */
export function randomResizedCropBox(height: number, width: number, rng: Rng, scale = RRC_SCALE, ratio = RRC_RATIO): Box {
  const area = height * width;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let t = 0; t < 10; t++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < ratio[0]) {
    w = width;
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = height;
    w = roundHalfEven(h * ratio[1]);
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/**
 * The evaluation crop in source pixels: resizing the short side to res / 0.875 and cropping the
 * central res × res is the same as cropping the central (0.875 · short side)² square here.
 */
export function centerCropBox(height: number, width: number): Box {
  const side = Math.max(1, Math.min(height, width, roundHalfEven(Math.min(height, width) * EVAL_CROP_FRACTION)));
  return { top: roundHalfEven((height - side) / 2), left: roundHalfEven((width - side) / 2), height: side, width: side };
}

/** What the training pipeline does to image `index` in `epoch`: its crop box and whether it is mirrored. */
export function trainView(height: number, width: number, seed: number, epoch: number, index: number, opts: { crop: boolean; flip: boolean }): { box: Box; flip: boolean } {
  const rng = augmentRng(seed, epoch, index);
  const box = opts.crop ? randomResizedCropBox(height, width, rng) : centerCropBox(height, width);
  return { box, flip: opts.flip && rng.next() < 0.5 };
}
