import { openAddon } from '../util/nativeAddon';

// Our JPEG addon (native/jpegCrop.c, built by scripts/build-native.mjs with libjpeg-turbo beside it):
// decodes only a crop's columns and rows of a JPEG, bit for bit what a whole-picture decode by
// sharp/libvips gives for those pixels, and resizes it natively with resizeRgb's arithmetic, for
// about half the CPU time of the sharp path (docs/datasets.md has the figures).

export interface JpegAddon {
  /** The box's height × width × 3 RGB bytes, the picture scaled by 1/denom on load; throws for anything unusual. */
  decode_crop(jpeg: Uint8Array, denom: number, left: number, top: number, width: number, height: number): Uint8Array;
  /** decode_crop's decode alone, its pixels kept nowhere: the bench's ceiling of the turbo loader. */
  decode_only(jpeg: Uint8Array, denom: number, left: number, top: number, width: number, height: number): void;
  /**
   * The box (coordinates as for decode_crop) decoded and resized with resize.ts' weights for each
   * axis into `into` (rows × columns × 3), mirrored when `flip`: the bytes resizeRgb gives for
   * decode_crop's crop.
   */
  decode_resize(
    jpeg: Uint8Array, denom: number, left: number, top: number, width: number, height: number, flip: boolean,
    ys: Int32Array, yc: Int32Array, yw: Float32Array, yspan: number, xs: Int32Array, xc: Int32Array, xw: Float32Array, xspan: number, into: Uint8Array,
  ): void;
  /** The resize's vector level in use; with a name, first lowered to it (tests run each level the CPU has). */
  simd(level?: 'sse2' | 'avx2' | 'avx512'): string;
  /** libjpeg-turbo's version, e.g. "2.1.5". */
  version(): string;
}

export const JPEG_ADDON_FILE = 'fast-advprop-jpeg.node';

let opened: { addon?: JpegAddon; why?: string } | undefined;

/** The addon (once per thread), or why it is unavailable. */
export function jpegAddon(): { addon?: JpegAddon; why?: string } {
  if (!opened) {
    const o = openAddon<JpegAddon>(JPEG_ADDON_FILE);
    opened = 'why' in o ? { why: o.why } : { addon: o.addon };
  }
  return opened;
}
