import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { centerCropBox, randomResizedCropBox, roundHalfEven, trainView } from '../../../src/engine/data/cropBox';
import { headerSize, jsDecoder, loadSharp, pickDecoder, type ImageDecoder } from '../../../src/engine/data/decoders';
import { scanImageFolder } from '../../../src/engine/data/folderLayout';
import { openDataset } from '../../../src/engine/data/load';
import { StreamLoader } from '../../../src/engine/data/streamLoader';
import { jpegAddon } from '../../../src/engine/data/turboJpeg';
import type { FileDataset } from '../../../src/engine/data/types';
import { Rng } from '../../../src/engine/util/rng';

/** A smooth colour field, so resizing filters agree to a few levels. */
function rgba(w: number, h: number, alpha = 255): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, 128, alpha], (y * w + x) * 4);
  return data;
}

function jpg(w: number, h: number): Buffer {
  return jpeg.encode({ width: w, height: h, data: rgba(w, h) }, 95).data;
}

function png(w: number, h: number, alpha = 255): Buffer {
  const img = new PNG({ width: w, height: h });
  rgba(w, h, alpha).copy(img.data);
  return PNG.sync.write(img);
}

describe('data: streamed image folders', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'fap-stream-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, buf: Buffer): void => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), buf);
  };

  describe('layout', () => {
    it('takes val/ (else test/), numbers classes in sorted train/ order, and reads Tiny-ImageNet', async () => {
      for (const f of ['train/b/1.jpg', 'train/a/2.JPEG', 'train/a/1.png', 'train/B/x.jpg', 'val/b/v.jpg', 'val/a/v.png', 'test/a/t.jpg']) put(f, Buffer.from('x'));
      let l = await scanImageFolder(dir);
      assert.deepEqual(l.classes, ['B', 'a', 'b']);
      assert.equal(l.testFolder, 'val');
      assert.deepEqual(l.train.files.map((f) => path.relative(dir, f)), ['train/B/x.jpg', 'train/a/1.png', 'train/a/2.JPEG', 'train/b/1.jpg']);
      assert.deepEqual(Array.from(l.train.labels), [0, 1, 1, 2]);
      assert.deepEqual(Array.from(l.test.labels), [1, 2]);
      rmSync(path.join(dir, 'val'), { recursive: true });
      l = await scanImageFolder(dir);
      assert.equal(l.testFolder, 'test');
      // Tiny-ImageNet: train/<wnid>/images/*, val/images/* + val_annotations.txt.
      rmSync(dir, { recursive: true });
      for (const f of ['train/n02/images/n02_0.JPEG', 'train/n01/images/n01_0.JPEG', 'train/n01/n01_boxes.txt', 'val/images/val_0.JPEG', 'val/images/val_1.JPEG']) put(f, Buffer.from('x'));
      put('val/val_annotations.txt', Buffer.from('val_0.JPEG\tn02\t0\t0\t10\t10\nval_1.JPEG\tn01\t1\t1\t5\t5\n'));
      l = await scanImageFolder(dir);
      assert.equal(l.kind, 'tiny-imagenet');
      assert.deepEqual(l.classes, ['n01', 'n02']);
      assert.deepEqual(l.train.files.map((f) => path.basename(f)), ['n01_0.JPEG', 'n02_0.JPEG']);
      assert.deepEqual(Array.from(l.test.labels), [1, 0]);
    });

    it('refuses in one line with what it expected and what it found', async () => {
      put('images/a.jpg', Buffer.from('x'));
      put('readme.txt', Buffer.from('x'));
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, loader: 'stream' }), (e: Error) => {
        assert.equal(e.message, `${dir}: no train/ folder; dataset "image-folder" expects train/<class>/*.jpg|png with val/<class>/* or test/<class>/* (or Tiny-ImageNet: train/<class>/images/* with val/images/* + val/val_annotations.txt), found images/, readme.txt`);
        return true;
      });
      put('train/a/1.jpg', Buffer.from('x'));
      put('val/zz/1.jpg', Buffer.from('x'));
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, loader: 'stream' }), /val[/\\]zz: class "zz" has no folder under train\//);
    });

    it('validates the stream fields, naming each', async () => {
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, workers: 2 }), /dataset\.workers: only used with "loader": "stream"/);
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, loader: 'disk' }), /dataset\.loader: expected "memory" .* or "stream"/);
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, loader: 'stream', prefetch: 0 }), /dataset\.prefetch: expected an integer 1\.\.64/);
      await assert.rejects(openDataset({ name: 'image-folder', path: dir, loader: 'stream', decoder: 'pil' }), /dataset\.decoder: expected "auto", "turbo", "sharp", "js", got "pil"/);
    });
  });

  describe('crop geometry', () => {
    it('random-resized crop stays inside the image, within scale 0.08–1 and ratio 3/4–4/3 (before rounding)', () => {
      const rng = new Rng(3);
      for (let i = 0; i < 2000; i++) {
        const H = 20 + rng.int(400);
        const W = 20 + rng.int(400);
        const b = randomResizedCropBox(H, W, rng);
        assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= H && b.left + b.width <= W, JSON.stringify({ H, W, b }));
        const area = (b.height * b.width) / (H * W);
        const ratio = b.width / b.height;
        assert.ok(area >= 0.08 * 0.8 && area <= 1, `area ${area}`);
        assert.ok(ratio >= (3 / 4) * 0.85 && ratio <= (4 / 3) / 0.85, `ratio ${ratio}`);
      }
    });

    it('after ten failed tries falls back to a center crop clamped to the ratio range, as torchvision does', () => {
      // A 1000×10 strip: no crop of ≥ 8% area with ratio ≤ 4/3 fits, so every draw fails.
      const b = randomResizedCropBox(10, 1000, new Rng(1));
      assert.deepEqual(b, { top: 0, left: Math.floor((1000 - 13) / 2), height: 10, width: roundHalfEven(10 * (4 / 3)) });
      const c = randomResizedCropBox(1000, 10, new Rng(1));
      assert.deepEqual(c, { top: Math.floor((1000 - 13) / 2), left: 0, height: roundHalfEven(10 / (3 / 4)), width: 10 });
    });

    it('is a function of (seed, epoch, index), and evaluation takes the central 87.5 % square', () => {
      const opts = { crop: true, flip: true };
      assert.deepEqual(trainView(375, 500, 7, 2, 41, opts), trainView(375, 500, 7, 2, 41, opts));
      const others = [trainView(375, 500, 7, 3, 41, opts), trainView(375, 500, 7, 2, 42, opts), trainView(375, 500, 8, 2, 41, opts)];
      assert.ok(others.every((o) => JSON.stringify(o) !== JSON.stringify(trainView(375, 500, 7, 2, 41, opts))));
      assert.deepEqual(centerCropBox(256, 320), { top: 16, left: 48, height: 224, width: 224 });
      assert.equal(roundHalfEven(2.5), 2);
      assert.equal(roundHalfEven(3.5), 4);
      assert.equal(roundHalfEven(-0.5), -0);
    });
  });

  describe('decoders', () => {
    const sharp = loadSharp().mod;
    const full = (h: number, w: number) => ({ box: { top: 0, left: 0, height: h, width: w }, flip: false });
    const turbo = jpegAddon().addon;
    const decoders: ImageDecoder[] = [jsDecoder, ...(sharp ? [pickDecoder('sharp')] : []), ...(turbo ? [pickDecoder('turbo')] : [])];

    it('sharp loads here (it is an optionalDependency of this package); auto picks our libjpeg-turbo addon where it is built, else sharp', function () {
      if (!sharp) this.skip();
      assert.equal(pickDecoder('auto').name, turbo ? 'turbo' : 'sharp');
      assert.equal(pickDecoder('sharp').name, 'sharp');
      assert.equal(pickDecoder('js').name, 'js');
    });

    for (const d of decoders) {
      it(`${d.name}: JPEG, grayscale, alpha and (with sharp) 16-bit and CMYK files give res×res×3; broken files throw naming the file`, async () => {
        const render = (buf: Buffer, file = 'f.jpg'): Promise<Uint8Array> => d.render(buf, file, 16, full);
        const a = await render(jpg(40, 30));
        assert.equal(a.length, 16 * 16 * 3);
        // Left column dark red, right column bright red: the gradient survives.
        assert.ok(a[0] < 40 && a[15 * 3] > 200, `${a[0]} ${a[45]}`);
        const mirrored = await d.render(jpg(40, 30), 'f.jpg', 16, (h, w) => ({ box: { top: 0, left: 0, height: h, width: w }, flip: true }));
        assert.ok(Math.abs(mirrored[0] - a[15 * 3]) <= 2);
        const gray = new PNG({ width: 8, height: 8 });
        for (let i = 0; i < 64; i++) gray.data.set([90, 90, 90, 255], i * 4);
        const grayPng = PNG.sync.write(gray, { colorType: 0 });
        assert.equal(grayPng[25], 0, 'the fixture is a grayscale PNG (IHDR colour type 0)');
        const g = await render(grayPng, 'g.png');
        assert.ok(g.every((v) => Math.abs(v - 90) <= 1), 'grayscale → three equal channels');
        const clear = await render(png(8, 8, 0), 'a.png');
        assert.ok(clear.every((v) => v === 0), 'transparent composites to black');
        if (sharp) {
          const px = { create: { width: 20, height: 20, channels: 3 as const, background: { r: 200, g: 10, b: 30 } } };
          const png16 = await sharp(px).toColourspace('rgb16').png().toBuffer();
          const cmyk = await sharp(px).toColourspace('cmyk').jpeg().toBuffer();
          for (const [buf, name] of [[png16, 'p16.png'], [cmyk, 'cmyk.jpg']] as const) {
            const out = await render(buf, name);
            assert.ok(Math.abs(out[0] - 200) < 30 && out[1] < 40 && out[2] < 60, `${name}: ${out.slice(0, 3)}`);
          }
        }
        const good = jpg(40, 30);
        for (const [buf, name] of [[Buffer.alloc(0), 'zero.jpg'], [good.subarray(0, 200), 'cut.jpg'], [Buffer.from('not an image'), 'junk.png']] as const) {
          await assert.rejects(render(buf, name), (e: Error) => e.message.startsWith(`${name}: cannot decode image`), name);
        }
      });
    }

    it('reads the size from JPEG (baseline, progressive) and PNG headers as libvips does', async function () {
      assert.deepEqual(headerSize(jpg(37, 21)), { width: 37, height: 21 });
      assert.deepEqual(headerSize(png(5, 300)), { width: 5, height: 300 });
      assert.equal(headerSize(Buffer.from('GIF89a')), undefined);
      if (!sharp) this.skip();
      const px = { create: { width: 301, height: 77, channels: 3 as const, background: '#808080' } };
      for (const buf of [await sharp(px).jpeg({ progressive: true }).toBuffer(), await sharp(px).withMetadata().jpeg().toBuffer()]) {
        const m: { width?: number; height?: number } = await sharp(buf).metadata();
        assert.deepEqual(headerSize(buf), { width: m.width, height: m.height });
      }
    });

    it('sharp and the pure-JS decoder agree on a crop to a few levels', async function () {
      if (!sharp) this.skip();
      const view = (h: number, w: number) => ({ box: { top: 10, left: 30, height: h - 20, width: w - 60 }, flip: true });
      const src = jpg(300, 200);
      const a = await jsDecoder.render(src, 'x.jpg', 32, view);
      const b = await pickDecoder('sharp').render(src, 'x.jpg', 32, view);
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
      assert.ok(diff / a.length < 4, `mean |js − sharp| = ${diff / a.length}`);
    });
  });

  describe('loader', () => {
    async function folder(): Promise<FileDataset> {
      for (let i = 0; i < 6; i++) put(`train/a/${i}.jpg`, jpg(40 + i * 7, 30 + i * 3));
      for (let i = 0; i < 5; i++) put(`train/b/${i}.png`, png(33, 45 - i));
      put('train/b/5.png', Buffer.alloc(0));
      put('train/b/6.png', png(33, 45).subarray(0, 100));
      put('train/a/6.jpg', Buffer.from('garbage'));
      put('val/a/0.jpg', jpg(50, 40));
      const { train } = await openDataset({ name: 'image-folder', path: dir, loader: 'stream', size: 16, decoder: 'js' });
      return train as FileDataset;
    }

    it('decodes the same pixels with 1 or 3 threads, and replaces unreadable files by the next readable one, counted and named', async () => {
      const ds = await folder();
      assert.equal(ds.count, 14);
      const all = Int32Array.from({ length: ds.count }, (_, i) => i);
      const logs: string[] = [];
      const one = await StreamLoader.open({ settings: { ...ds.stream, workers: 1 }, seed: 5, crop: true, flip: true, log: (l) => logs.push(l) });
      const three = await StreamLoader.open({ settings: { ...ds.stream, workers: 3 }, seed: 5, crop: true, flip: true });
      try {
        const x = await one.images(ds, all, 'train', 1);
        const y = await three.images(ds, all, 'train', 1);
        assert.deepEqual(x.images, y.images);
        assert.deepEqual(x.labels, y.labels);
        const z = await one.images(ds, all, 'train', 2);
        assert.notDeepEqual(z.images, x.images, 'another epoch crops differently');
        assert.equal(one.skipped, 3);
        assert.deepEqual(one.firstSkipped.map((f) => path.basename(f)).sort(), ['5.png', '6.jpg', '6.png']);
        assert.match(one.skippedLine()!, /^3 unreadable images skipped, each replaced by the next readable one \(first: /);
        assert.equal(logs.length, 3);
        // Index of a/6.jpg is 6 (a/0..a/6); its replacement is the next readable one, b/0.png (label 1).
        const px = 16 * 16 * 3;
        const b0 = await one.images(ds, [7], 'eval', 0);
        const sub = await one.images(ds, [6], 'eval', 0);
        assert.deepEqual(sub.images, b0.images.subarray(0, px));
        assert.deepEqual(Array.from(sub.labels), [1]);
      } finally {
        await one.close();
        await three.close();
      }
    });

    it('writes a later batch of the same size into a recycled buffer, with the bytes a fresh one gets, bad files replaced as before', async () => {
      const ds = await folder();
      const all = Int32Array.from({ length: ds.count }, (_, i) => i);
      const fresh = await StreamLoader.open({ settings: { ...ds.stream, workers: 2 }, seed: 5, crop: true, flip: true });
      const reusing = await StreamLoader.open({ settings: { ...ds.stream, workers: 2 }, seed: 5, crop: true, flip: true });
      try {
        const first = await reusing.images(ds, all, 'train', 1);
        const kept = Uint8Array.from(first.images);
        reusing.recycle(first.images);
        const second = await reusing.images(ds, all, 'train', 2);
        assert.equal(second.images.buffer, first.images.buffer, 'the recycled buffer is reused');
        assert.deepEqual(second.images, (await fresh.images(ds, all, 'train', 2)).images);
        assert.notDeepEqual(second.images, kept, 'and every byte of it rewritten for the new epoch');
        // Another size, or a view into a buffer, is not taken.
        reusing.recycle(second.images.subarray(0, 16 * 16 * 3));
        assert.notEqual((await reusing.images(ds, all.subarray(0, 3), 'eval', 0)).images.buffer, second.images.buffer);
        // At most two are kept: memory beyond the steps in flight stays bounded.
        const three = [await reusing.images(ds, all, 'eval', 0), await reusing.images(ds, all, 'eval', 0), await reusing.images(ds, all, 'eval', 0)];
        for (const t of three) reusing.recycle(t.images);
        const again = [await reusing.images(ds, all, 'eval', 0), await reusing.images(ds, all, 'eval', 0), await reusing.images(ds, all, 'eval', 0)];
        assert.equal(again.filter((a) => three.some((t) => t.images.buffer === a.images.buffer)).length, 2);
      } finally {
        await fresh.close();
        await reusing.close();
      }
    });

    it('sharp: the same pixels with 1 or 3 threads and on a second pass, and another epoch crops differently', async function () {
      if (!loadSharp().mod) this.skip();
      // Sizes such that some random crops are at least twice the output side (libvips shrinks the
      // whole image) and most are not (libvips crops, our SIMD resize scales).
      for (let i = 0; i < 8; i++) put(`train/a/${i}.jpg`, jpg(40 + i * 9, 30 + i * 7));
      put('val/a/0.jpg', jpg(50, 40));
      const { train } = await openDataset({ name: 'image-folder', path: dir, loader: 'stream', size: 16, decoder: 'sharp' });
      const ds = train as FileDataset;
      const all = Int32Array.from({ length: ds.count }, (_, i) => i);
      const one = await StreamLoader.open({ settings: { ...ds.stream, workers: 1 }, seed: 9, crop: true, flip: true });
      const three = await StreamLoader.open({ settings: { ...ds.stream, workers: 3 }, seed: 9, crop: true, flip: true });
      try {
        assert.equal(one.decoderName, 'sharp');
        const x = await one.images(ds, all, 'train', 1);
        assert.deepEqual((await three.images(ds, all, 'train', 1)).images, x.images);
        assert.deepEqual((await one.images(ds, all, 'train', 1)).images, x.images);
        assert.notDeepEqual((await one.images(ds, all, 'train', 2)).images, x.images);
      } finally {
        await one.close();
        await three.close();
      }
    });
  });
});
