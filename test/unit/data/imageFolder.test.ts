import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadDataset } from '../../../src/engine/data/load';
import { resizeHWC } from '../../../src/engine/data/resize';

function png(w: number, h: number, pixel: (x: number, y: number) => [number, number, number, number?]): Buffer {
  const img = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [r, g, b, a] = pixel(x, y);
    img.data.set([r, g, b, a ?? 255], (y * w + x) * 4);
  }
  return PNG.sync.write(img);
}

function jpg(w: number, h: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return jpeg.encode({ width: w, height: h, data }, 95).data;
}

describe('data: image folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fap-img-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function put(rel: string, buf: Buffer): void {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), buf);
  }

  it('loads PNG and JPEG, sorts classes, resizes, keeps colour', async () => {
    put('train/zebra/a.png', png(8, 8, (x) => [x * 30, 0, 0]));
    put('train/cat/b.jpg', jpg(16, 16, [20, 200, 40]));
    put('train/cat/a.png', png(8, 8, () => [10, 10, 10]));
    put('train/cat/notes.txt', Buffer.from('ignored'));
    put('test/cat/c.jpeg', jpg(8, 8, [200, 30, 30]));
    const { train, test } = await loadDataset({ name: 'image-folder', path: dir, size: 4 });
    assert.deepEqual(train.classNames, ['cat', 'zebra']);
    assert.equal(train.count, 3);
    assert.equal(test.count, 1);
    assert.deepEqual(Array.from(train.labels), [0, 0, 1]);
    assert.equal(train.channels, 3);
    assert.equal(train.height, 4);
    assert.equal(train.images.length, 3 * 4 * 4 * 3);
    // cat/a.png (sorted first) is flat grey 10.
    assert.deepEqual(Array.from(train.images.subarray(0, 48)), new Array(48).fill(10));
    // cat/b.jpg is ~ (20, 200, 40) after lossy JPEG.
    const px = Array.from(train.images.subarray(48, 51));
    assert.ok(Math.abs(px[0] - 20) <= 6 && Math.abs(px[1] - 200) <= 6 && Math.abs(px[2] - 40) <= 6, String(px));
    // zebra/a.png: red ramp left→right survives the 8→4 shrink in order.
    const reds = [0, 1, 2, 3].map((x) => train.images[96 + x * 3]);
    assert.ok(reds[0] < reds[1] && reds[1] < reds[2] && reds[2] < reds[3], String(reds));
    assert.equal(Math.abs(test.images[0] - 200) <= 6, true);
  });

  it('keeps 1 channel when every image is grey, and the first image size by default', async () => {
    put('train/a/1.png', png(6, 5, (x, y) => [x + y, x + y, x + y]));
    put('train/b/1.png', png(12, 10, () => [99, 99, 99]));
    put('test/b/2.png', png(6, 5, () => [7, 7, 7, 0]));
    const { train, test } = await loadDataset({ name: 'image-folder', path: dir });
    assert.equal(train.channels, 1);
    assert.equal(train.height, 5);
    assert.equal(train.width, 6);
    assert.equal(train.images[1 * 6 + 2], 3);
    assert.deepEqual(Array.from(train.images.subarray(30, 60)), new Array(30).fill(99));
    // Fully transparent pixels composite to black.
    assert.deepEqual(Array.from(test.images), new Array(30).fill(0));
  });

  it('rejects a test class without a train folder, and undecodable files, naming the path', async () => {
    put('train/a/1.png', png(4, 4, () => [1, 2, 3]));
    put('test/b/1.png', png(4, 4, () => [1, 2, 3]));
    await assert.rejects(loadDataset({ name: 'image-folder', path: dir }), (e: Error) => e.message.startsWith(`${path.join(dir, 'test', 'b')}: class "b" has no folder under train/`));
    rmSync(path.join(dir, 'test/b'), { recursive: true });
    put('test/a/bad.png', Buffer.from('not an image'));
    await assert.rejects(loadDataset({ name: 'image-folder', path: dir }), (e: Error) => e.message.startsWith(`${path.join(dir, 'test/a/bad.png')}: cannot decode image`));
    rmSync(path.join(dir, 'test'), { recursive: true });
    await assert.rejects(loadDataset({ name: 'image-folder', path: dir }), (e: Error) => e.message === `${dir}: no val/ or test/ folder next to train/; dataset "image-folder" expects train/<class>/*.jpg|png with val/<class>/* or test/<class>/* (or Tiny-ImageNet: train/<class>/images/* with val/images/* + val/val_annotations.txt), found train/`);
  });

  it('resize uses a widened triangle kernel when shrinking and is exact for a constant image', () => {
    const src = new Uint8Array(4 * 4).map((_, i) => (i % 4 < 2 ? 0 : 200));
    const half = resizeHWC(src, 4, 4, 1, 2, 2);
    // Output x=0 is centred at source 1.0 with support 2: weights .75, .75, .25 on 0, 0, 200
    // → 50 / 1.75 = 28.6 (PIL's antialiased BILINEAR computes the same).
    assert.deepEqual(Array.from(half), [29, 171, 29, 171]);
    // Upscaling 3 → 7 is plain bilinear with half-pixel centres: x=1 sits at 0.643 → 0.857·0 + 0.143·100.
    assert.deepEqual(Array.from(resizeHWC(new Uint8Array([0, 100, 200]), 1, 3, 1, 1, 7)), [0, 14, 57, 100, 143, 186, 200]);
    const flat = resizeHWC(new Uint8Array(5 * 7 * 3).fill(77), 5, 7, 3, 13, 3);
    assert.deepEqual(Array.from(flat), new Array(13 * 3 * 3).fill(77));
    const shrink = resizeHWC(new Uint8Array([0, 100, 200, 0, 100, 200]), 1, 6, 1, 1, 1);
    assert.equal(shrink[0], 100);
  });
});
