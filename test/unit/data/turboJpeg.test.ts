// Our libjpeg-turbo addon (src/engine/data/native/jpegCrop.c, the "turbo" decoder): the crop it
// decodes in part must be byte for byte what sharp decodes, its resize what resizeRgb gives, and
// anything it does not take as it is (a truncated or CMYK file, weights that do not fit the box) must
// throw, so that the file goes to sharp and sharp's rules. Under CI the addon must have been built
// (.ci/run installs libjpeg62-turbo-dev); elsewhere these tests skip without it.
import * as assert from 'node:assert/strict';
import { centerCropBox, trainView } from '../../../src/engine/data/cropBox';
import { headerSize, loadSharp, pickDecoder, scaledBox, type ViewFn } from '../../../src/engine/data/decoders';
import { weights } from '../../../src/engine/data/resize';
import { resizeRgb } from '../../../src/engine/data/resizeSimd';
import { jpegAddon, type JpegAddon } from '../../../src/engine/data/turboJpeg';
import { Rng } from '../../../src/engine/util/rng';

type Sharp = NonNullable<ReturnType<typeof loadSharp>['mod']>;

/** A photo-like w × h picture: smooth colour fields plus noise, as the bench's JPEG folder. */
function picture(w: number, h: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const px = Buffer.alloc(w * h * 3);
  const f = [rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(1, 6)];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = 128 + 90 * Math.sin((f[c] * x) / w + c) * Math.cos((f[(c + 1) % 3] * y) / h) + (rng.next() - 0.5) * 60;
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return px;
}

/** Mirrors a res × res × 3 image left to right, in place. */
function mirror(rgb: Uint8Array, res: number): void {
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res >> 1; x++) {
      for (let c = 0; c < 3; c++) {
        const p = (y * res + x) * 3 + c, q = (y * res + res - 1 - x) * 3 + c;
        [rgb[p], rgb[q]] = [rgb[q], rgb[p]];
      }
    }
  }
}

describe('data: the libjpeg-turbo decoder (our addon)', function () {
  this.timeout(60_000);
  let addon: JpegAddon;
  let sharp: Sharp;
  const files: { name: string; buf: Buffer }[] = [];

  before(async function () {
    const a = jpegAddon();
    if (!a.addon) {
      if (process.env.CI) throw new Error(`the JPEG addon must be built under CI: ${a.why}`);
      this.skip();
    }
    addon = a.addon!;
    const s = loadSharp().mod;
    if (!s) this.skip();
    sharp = s!;
    const raw = (w: number, h: number, seed: number) => sharp(picture(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
    // The layouts a folder of photos holds: 4:2:0 (cameras, PIL's default), 4:4:4, progressive,
    // grayscale, and an odd size that ends mid-MCU.
    files.push({ name: '500×375 4:2:0 q85', buf: await raw(500, 375, 1).jpeg({ quality: 85 }).toBuffer() });
    files.push({ name: '333×500 4:4:4 q90', buf: await raw(333, 500, 2).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer() });
    files.push({ name: '481×361 progressive', buf: await raw(481, 361, 3).jpeg({ quality: 80, progressive: true }).toBuffer() });
    files.push({ name: '400×300 grayscale', buf: await raw(400, 300, 4).toColourspace('b-w').jpeg({ quality: 85 }).toBuffer() });
    files.push({ name: '97×61 4:2:0', buf: await raw(97, 61, 5).jpeg({ quality: 75 }).toBuffer() });
  });

  it('decodes a crop byte for byte as sharp does, at any box, including boxes on the picture edges', async () => {
    const rng = new Rng(11);
    for (const { name, buf } of files) {
      const { width: W, height: H } = headerSize(buf)!;
      const boxes = [{ left: 0, top: 0, width: W, height: H }, { left: W - 9, top: H - 7, width: 9, height: 7 }, { left: 1, top: 17, width: 1, height: 1 }];
      for (let i = 0; i < 12; i++) {
        const width = 1 + Math.floor(rng.next() * W), height = 1 + Math.floor(rng.next() * H);
        boxes.push({ left: Math.floor(rng.next() * (W - width + 1)), top: Math.floor(rng.next() * (H - height + 1)), width, height });
      }
      for (const box of boxes) {
        const ours = addon.decode_crop(buf, 1, box.left, box.top, box.width, box.height);
        const theirs = await sharp(buf).extract(box).toColourspace('srgb').raw().toBuffer();
        assert.ok(Buffer.from(ours.buffer, ours.byteOffset, ours.length).equals(theirs), `${name}, box ${JSON.stringify(box)}`);
      }
    }
  });

  it('the turbo decoder gives the sharp decoder\'s bytes for every crop sharp does not shrink on load, and is nearer a full-size decode than sharp for those it does', async () => {
    const turbo = pickDecoder('turbo');
    const viaSharp = pickDecoder('sharp');
    assert.equal(turbo.name, 'turbo');
    assert.match(turbo.detail, /^libjpeg-turbo \d+\.\d+\.\d+ \(crops decoded in part\) for JPEG, sharp /);
    const meanDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((t, v, i) => t + Math.abs(v - b[i]), 0) / a.length;
    let same = 0, shrunk = 0, turboOff = 0, sharpOff = 0;
    for (const { name, buf } of files) {
      const { height, width } = headerSize(buf)!;
      for (const res of [224, 64, 32]) {
        for (let index = 0; index < 8; index++) {
          const views: ViewFn[] = [(h, w) => trainView(h, w, 3, 1, index, { crop: true, flip: index % 2 === 0 }), (h, w) => ({ box: centerCropBox(h, w), flip: false })];
          for (const view of views) {
            const a = await turbo.render(buf, 'x.jpg', res, view);
            const b = await viaSharp.render(buf, 'x.jpg', res, view);
            const { box, flip } = view(height, width);
            if (scaledBox(box, { width, height }, res).denom === 1) {
              assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${name} at ${res} px, view ${JSON.stringify(view(height, width))}`);
              same++;
            } else {
              // Both shrink by the DCT first, each its own way; the reference decodes at full size.
              const ref = resizeRgb(addon.decode_crop(buf, 1, box.left, box.top, box.width, box.height), box.height, box.width, res, res);
              if (flip) mirror(ref, res);
              turboOff += meanDiff(a, ref);
              sharpOff += meanDiff(b, ref);
              shrunk++;
            }
          }
        }
      }
    }
    assert.ok(same > 100 && shrunk > 50, `${same} identical, ${shrunk} shrunk`);
    assert.ok(turboOff / shrunk < 4 && turboOff <= sharpOff, `mean |turbo − full-size| ${turboOff / shrunk}, |sharp − full-size| ${sharpOff / shrunk}`);
  });

  it('its native resize gives resizeRgb\'s bytes, mirrored or not, enlarging and shrinking, at every vector level this CPU has', () => {
    const { buf } = files[0];
    const best = addon.simd();
    const levels = (['sse2', 'avx2', 'avx512'] as const).slice(0, ['sse2', 'avx2', 'avx512'].indexOf(best) + 1);
    try {
      for (const level of levels) {
        assert.equal(addon.simd(level), level);
        for (const [box, res] of [[{ left: 10, top: 20, width: 123, height: 77 }, 224], [{ left: 0, top: 0, width: 500, height: 375 }, 97], [{ left: 3, top: 5, width: 33, height: 200 }, 32], [{ left: 1, top: 2, width: 22, height: 21 }, 30]] as const) {
          const crop = addon.decode_crop(buf, 1, box.left, box.top, box.width, box.height);
          const wy = weights(box.height, res), wx = weights(box.width, res);
          for (const flip of [false, true]) {
            const want = resizeRgb(crop, box.height, box.width, res, res);
            if (flip) mirror(want, res);
            const got = new Uint8Array(res * res * 3);
            addon.decode_resize(buf, 1, box.left, box.top, box.width, box.height, flip, wy.start, wy.count, wy.w, wy.span, wx.start, wx.count, wx.w, wx.span, got);
            assert.ok(Buffer.from(got).equals(Buffer.from(want)), `${level}: ${JSON.stringify(box)} → ${res}, flip ${flip}`);
          }
        }
      }
      assert.throws(() => addon.simd('avx1024' as 'avx2'), /simd: expected "sse2", "avx2" or "avx512"/);
    } finally {
      addon.simd(best as 'avx512');
    }
  });

  it('throws rather than guess: truncated, CMYK, a box outside the picture, weights or an output that do not fit', async () => {
    const { buf } = files[0];
    const cut = buf.subarray(0, Math.floor(buf.length / 2));
    assert.throws(() => addon.decode_crop(cut, 1, 0, 0, 500, 375), /^Error: libjpeg-turbo: /);
    const cmyk = await sharp(picture(40, 30, 9), { raw: { width: 40, height: 30, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer();
    assert.throws(() => addon.decode_crop(cmyk, 1, 0, 0, 40, 30), /CMYK/);
    assert.throws(() => addon.decode_crop(buf, 1, 400, 0, 101, 10), /box 400,0 101x10 outside the 500x375 picture/);
    assert.throws(() => addon.decode_crop(buf, 3, 0, 0, 10, 10), /denom must be 1, 2, 4 or 8/);
    assert.throws(() => addon.decode_crop(Buffer.from('not a jpeg at all'), 1, 0, 0, 1, 1), /libjpeg-turbo: /);
    // decode_only (the bench's ceiling) decodes as decode_crop does, refusing the same.
    assert.equal(addon.decode_only(buf, 1, 10, 20, 123, 77), undefined);
    assert.throws(() => addon.decode_only(cut, 1, 0, 0, 500, 375), /^Error: libjpeg-turbo: /);
    assert.throws(() => addon.decode_only(buf, 1, 400, 0, 101, 10), /box 400,0 101x10 outside the 500x375 picture/);
    assert.throws(() => addon.decode_only(buf, 5, 0, 0, 10, 10), /denom must be 1, 2, 4 or 8/);
    const wy = weights(50, 16), wx = weights(60, 16);
    const out = new Uint8Array(16 * 16 * 3);
    // Weights made for a taller box than the one decoded would read past it.
    assert.throws(() => addon.decode_resize(buf, 1, 0, 0, 60, 40, false, wy.start, wy.count, wy.w, wy.span, wx.start, wx.count, wx.w, wx.span, out), /weights do not fit the box/);
    assert.throws(() => addon.decode_resize(buf, 1, 0, 0, 60, 50, false, wy.start, wy.count, wy.w, wy.span, wx.start, wx.count, wx.w, wx.span, new Uint8Array(10)), /into must be a Uint8Array/);
    addon.decode_resize(buf, 1, 0, 0, 60, 50, false, wy.start, wy.count, wy.w, wy.span, wx.start, wx.count, wx.w, wx.span, out);
    // The turbo decoder hands such files to sharp, whose message names the file as before.
    const turbo = pickDecoder('turbo');
    await assert.rejects(turbo.render(cut.subarray(0, 300), 'cut.jpg', 32, (h, w) => ({ box: centerCropBox(h, w), flip: false })), /^Error: cut\.jpg: cannot decode image/);
    const fromCmyk = await turbo.render(cmyk, 'cmyk.jpg', 16, (h, w) => ({ box: centerCropBox(h, w), flip: false }));
    const sharpCmyk = await pickDecoder('sharp').render(cmyk, 'cmyk.jpg', 16, (h, w) => ({ box: centerCropBox(h, w), flip: false }));
    assert.ok(Buffer.from(fromCmyk).equals(Buffer.from(sharpCmyk)), 'CMYK goes to sharp');
  });

  it('scaledBox shrinks by the largest power of two that keeps the short side at res or more', () => {
    const size = { width: 1000, height: 800 };
    assert.deepEqual(scaledBox({ left: 0, top: 0, width: 447, height: 800 }, size, 224), { denom: 1, box: { left: 0, top: 0, width: 447, height: 800 } });
    assert.deepEqual(scaledBox({ left: 3, top: 5, width: 448, height: 700 }, size, 224), { denom: 2, box: { left: 1, top: 2, width: 225, height: 351 } });
    assert.deepEqual(scaledBox({ left: 0, top: 0, width: 1000, height: 800 }, size, 32), { denom: 8, box: { left: 0, top: 0, width: 125, height: 100 } });
  });
});
