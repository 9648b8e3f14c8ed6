import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

// The pure-JS decoders: the in-memory image-folder loader's, and the streaming loader's fallback
// where sharp cannot load.

export interface Decoded {
  rgb: Uint8Array;
  height: number;
  width: number;
  gray: boolean;
}


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

