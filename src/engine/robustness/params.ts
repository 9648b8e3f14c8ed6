// Severity parameters, severity 1 → 5. CIFAR values are Hendrycks' make_cifar_c (also in
// ALGORITHM.md); ImageNet values are his make_imagenet_c. Images under 64 px take the CIFAR set.

export type SizeClass = 'cifar' | 'imagenet';

export function sizeClass(height: number, width: number): SizeClass {
  return Math.min(height, width) < 64 ? 'cifar' : 'imagenet';
}

type Five<T> = readonly [T, T, T, T, T];

export interface SeverityTable {
  gaussian_noise: Five<number>;
  shot_noise: Five<number>;
  impulse_noise: Five<number>;
  speckle_noise: Five<number>;
  gaussian_blur: Five<number>;
  /** [sigma, maxDelta, iterations] */
  glass_blur: Five<readonly [number, number, number]>;
  /** [radius, aliasBlur] */
  defocus_blur: Five<readonly [number, number]>;
  /** [radius, sigma] */
  motion_blur: Five<readonly [number, number]>;
  /** [stop, step] of the reference's np.arange(1, stop, step) of zoom factors */
  zoom_blur: Five<readonly [number, number]>;
  /** [loc, scale, zoom, threshold, blurRadius, blurSigma, blend] */
  snow: Five<readonly [number, number, number, number, number, number, number]>;
  /** [image weight, frost weight] */
  frost: Five<readonly [number, number]>;
  /** [amount, wibble decay] */
  fog: Five<readonly [number, number]>;
  brightness: Five<number>;
  contrast: Five<number>;
  /** [saturation multiplier, added saturation] */
  saturate: Five<readonly [number, number]>;
  jpeg_compression: Five<number>;
  pixelate: Five<number>;
  /** [alpha, sigma, affine] as fractions of the image size (scaled by `elasticScale`). */
  elastic_transform: Five<readonly [number, number, number]>;
  /** Image size the elastic fractions multiply; CIFAR uses the side, ImageNet 244/224 of it. */
  elasticScale: number;
  /** [loc, scale, sigma, threshold, intensity, mode (0 water, 1 mud)] */
  spatter: Five<readonly [number, number, number, number, number, number]>;
}

export const CIFAR_PARAMS: SeverityTable = {
  gaussian_noise: [0.04, 0.06, 0.08, 0.09, 0.1],
  shot_noise: [500, 250, 100, 75, 50],
  impulse_noise: [0.01, 0.02, 0.03, 0.05, 0.07],
  speckle_noise: [0.06, 0.1, 0.12, 0.16, 0.2],
  gaussian_blur: [0.4, 0.6, 0.7, 0.8, 1],
  glass_blur: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]],
  defocus_blur: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  motion_blur: [[6, 1], [6, 1.5], [6, 2], [8, 2], [9, 2.5]],
  zoom_blur: [[1.06, 0.01], [1.11, 0.01], [1.16, 0.01], [1.21, 0.01], [1.26, 0.01]],
  snow: [
    [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
    [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
    [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
    [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
    [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
  ],
  frost: [[1, 0.2], [1, 0.3], [0.9, 0.4], [0.85, 0.4], [0.75, 0.45]],
  fog: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]],
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3],
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15],
  saturate: [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]],
  jpeg_compression: [80, 65, 58, 50, 40],
  pixelate: [0.95, 0.9, 0.85, 0.75, 0.65],
  elastic_transform: [[0, 0, 0.08], [0.05, 0.2, 0.07], [0.08, 0.06, 0.06], [0.1, 0.04, 0.05], [0.1, 0.03, 0.03]],
  elasticScale: 1,
  spatter: [
    [0.62, 0.1, 0.7, 0.7, 0.5, 0],
    [0.65, 0.1, 0.8, 0.7, 0.5, 0],
    [0.65, 0.3, 1, 0.69, 0.5, 0],
    [0.65, 0.1, 0.7, 0.69, 0.6, 1],
    [0.65, 0.1, 0.5, 0.68, 0.6, 1],
  ],
};

export const IMAGENET_PARAMS: SeverityTable = {
  gaussian_noise: [0.08, 0.12, 0.18, 0.26, 0.38],
  shot_noise: [60, 25, 12, 5, 3],
  impulse_noise: [0.03, 0.06, 0.09, 0.17, 0.27],
  speckle_noise: [0.15, 0.2, 0.35, 0.45, 0.6],
  gaussian_blur: [1, 2, 3, 4, 6],
  glass_blur: [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]],
  defocus_blur: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]],
  motion_blur: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]],
  zoom_blur: [[1.11, 0.01], [1.16, 0.01], [1.21, 0.02], [1.26, 0.02], [1.31, 0.03]],
  snow: [
    [0.1, 0.3, 3, 0.5, 10, 4, 0.8],
    [0.2, 0.3, 2, 0.5, 12, 4, 0.7],
    [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
    [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65],
    [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55],
  ],
  frost: [[1, 0.4], [0.8, 0.6], [0.7, 0.7], [0.65, 0.7], [0.6, 0.75]],
  fog: [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]],
  brightness: [0.1, 0.2, 0.3, 0.4, 0.5],
  contrast: [0.4, 0.3, 0.2, 0.1, 0.05],
  saturate: [[0.3, 0], [0.1, 0], [2, 0], [5, 0.1], [20, 0.2]],
  jpeg_compression: [25, 18, 15, 10, 7],
  pixelate: [0.6, 0.5, 0.4, 0.3, 0.25],
  elastic_transform: [[2, 0.7, 0.1], [2, 0.08, 0.2], [0.05, 0.01, 0.02], [0.07, 0.01, 0.02], [0.12, 0.01, 0.02]],
  elasticScale: 244 / 224,
  spatter: [
    [0.65, 0.3, 4, 0.69, 0.6, 0],
    [0.65, 0.3, 3, 0.68, 0.6, 0],
    [0.65, 0.3, 2, 0.68, 0.5, 0],
    [0.65, 0.3, 1, 0.65, 1.5, 1],
    [0.67, 0.4, 1, 0.65, 1.5, 1],
  ],
};

export function paramsFor(height: number, width: number): SeverityTable {
  return sizeClass(height, width) === 'cifar' ? CIFAR_PARAMS : IMAGENET_PARAMS;
}

/**
 * numpy's arange(1, stop, step): ceil((stop − 1) / step) factors 1 + i·step, float rounding
 * included, so arange(1, 1.06, 0.01) ends at 1.06 (7 factors) but arange(1, 1.16, 0.01) at
 * 1.1500000000000001 (16), and that last bit decides how scipy sizes the zoomed crop.
 */
export function zoomFactors(stop: number, step: number): number[] {
  const n = Math.ceil((stop - 1) / step);
  // numpy fills with the step as stored after the first addition: (1 + step) − 1.
  const delta = 1 + step - 1;
  return Array.from({ length: n }, (_, i) => 1 + i * delta);
}
