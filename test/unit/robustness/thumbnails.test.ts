import * as assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { evaluateRobustness } from '../../../src/engine/robustness/evaluate';
import { THUMBNAIL_BUDGET_CHARS, pngDataUri, thumbnailStrip } from '../../../src/engine/robustness/thumbnails';
import { CORRUPTIONS, parseRobustness } from '../../../src/shared/robustness';
import { readThumbnails } from '../../../src/extension/panels/runData';

const PREFIX = 'data:image/png;base64,';

function decode(uri: string): PNG {
  assert.ok(uri.startsWith(PREFIX), `not a PNG data URI: ${uri.slice(0, 40)}`);
  return PNG.sync.read(Buffer.from(uri.slice(PREFIX.length), 'base64'));
}

/** A 28×28 grey "garment": a bright rectangle with a gradient on a dark background. */
function garment(h = 28, w = 28, c: 1 | 3 = 1): Float32Array {
  const img = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = x > 6 && x < w - 6 && y > 3 && y < h - 3 ? 0.4 + (0.5 * y) / h : 0.05;
    for (let k = 0; k < c; k++) img[(y * w + x) * c + k] = c === 3 ? v * (0.6 + 0.2 * k) : v;
  }
  return img;
}

describe('robustness: thumbnail strip', () => {
  it('encodes one image as a PNG data URI, upscaled by nearest neighbour', () => {
    const img = garment();
    const png = decode(pngDataUri(img, 28, 28, 1, 2));
    assert.equal(png.width, 56);
    assert.equal(png.height, 56);
    // Nearest: each source pixel becomes a 2×2 block of the same grey.
    for (const [y, x] of [[0, 0], [10, 14], [27, 27], [5, 20]]) {
      const want = Math.round(img[y * 28 + x] * 255);
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const o = ((2 * y + dy) * 56 + 2 * x + dx) * 4;
        assert.deepEqual([...png.data.subarray(o, o + 4)], [want, want, want, 255], `pixel (${y},${x}) sub (${dy},${dx})`);
      }
    }
  });

  it('gives the clean image plus one PNG per (corruption, severity), each decoding to 56×56', () => {
    const corruptions = ['gaussian_noise', 'fog', 'pixelate'];
    const severities = [1, 3, 5];
    const t = thumbnailStrip({ image: garment(), height: 28, width: 28, channels: 1, corruptions, severities, seed: 7 });
    assert.equal(t.length, 1 + corruptions.length * severities.length);
    assert.deepEqual(t[0].corruption, 'clean');
    assert.equal(t[0].severity, 0);
    assert.deepEqual(t.slice(1).map((x) => `${x.corruption}@${x.severity}`), corruptions.flatMap((c) => severities.map((s) => `${c}@${s}`)));
    for (const x of t) {
      assert.match(x.src, /^data:image\/png;base64,[A-Za-z0-9+/]+={0,2}$/);
      const png = decode(x.src);
      assert.equal(png.width, 56, `${x.corruption}@${x.severity} width`);
      assert.equal(png.height, 56, `${x.corruption}@${x.severity} height`);
    }
    // The corruption is really applied: noise changes pixels; severity 5 fog differs from severity 1.
    assert.notEqual(t[1].src, t[0].src);
    assert.notEqual(t.find((x) => x.corruption === 'fog' && x.severity === 1)!.src, t.find((x) => x.corruption === 'fog' && x.severity === 5)!.src);
    // Deterministic for the same seed and index (matches what the evaluation scored).
    const again = thumbnailStrip({ image: garment(), height: 28, width: 28, channels: 1, corruptions, severities, seed: 7 });
    assert.deepEqual(again, t);
  });

  it('keeps all 15 × 5 cells of a 28 px image within the size budget, and RGB 32 px at native size', () => {
    const all = thumbnailStrip({ image: garment(), height: 28, width: 28, channels: 1, corruptions: CORRUPTIONS, severities: [1, 2, 3, 4, 5], seed: 0 });
    assert.equal(all.length, 1 + 15 * 5);
    const chars = all.reduce((a, x) => a + x.src.length, 0);
    assert.ok(chars <= THUMBNAIL_BUDGET_CHARS, `${chars} chars`);
    const rgb = thumbnailStrip({ image: garment(32, 32, 3), height: 32, width: 32, channels: 3, corruptions: ['gaussian_noise'], severities: [5], seed: 0 });
    const png = decode(rgb[1].src);
    assert.deepEqual([png.width, png.height], [32, 32]);
    // A tiny budget still keeps the clean image and drops cells rather than growing the record.
    const tight = thumbnailStrip({ image: garment(), height: 28, width: 28, channels: 1, corruptions: ['gaussian_noise', 'fog'], severities: [1, 5], seed: 0, budgetChars: 1 });
    assert.equal(tight.length, 1);
    assert.equal(tight[0].corruption, 'clean');
  });

  it('lands in robustness.json through evaluateRobustness, and parseRobustness and the panel accept it', async () => {
    const n = 4;
    const images = new Float32Array(n * 28 * 28);
    for (let i = 0; i < n; i++) images.set(garment(), i * 28 * 28);
    const rec = await evaluateRobustness({
      images, labels: new Int32Array(n), height: 28, width: 28, channels: 1,
      predict: async (_b, count) => new Int32Array(count), corruptions: ['gaussian_noise', 'fog'], severities: [1, 5], thumbnails: true,
    });
    assert.equal(rec.thumbnails?.length, 5);
    const text = JSON.stringify(rec);
    assert.ok(text.length < 300_000, `${text.length} chars`);
    const parsed = parseRobustness(text);
    assert.deepEqual(parsed.thumbnails, rec.thumbnails);
    const forPanel = readThumbnails(JSON.parse(text).thumbnails);
    assert.deepEqual(forPanel?.map((x) => [x.corruption, x.severity]), [['clean', 0], ['gaussian_noise', 1], ['gaussian_noise', 5], ['fog', 1], ['fog', 5]]);
    // Without the option the record has no strip (library callers opt in; the CLI does).
    const plain = await evaluateRobustness({ images, labels: new Int32Array(n), height: 28, width: 28, channels: 1, predict: async (_b, count) => new Int32Array(count), corruptions: ['fog'], severities: [1] });
    assert.equal(plain.thumbnails, undefined);
  });

  it('parseRobustness rejects thumbnails that are not PNG data URIs or name unknown cells', () => {
    const base = { schema: 1, clean: { accuracy: 0.9 }, corruptions: {}, summary: {} };
    const png = pngDataUri(garment(), 28, 28, 1);
    assert.throws(() => parseRobustness(JSON.stringify({ ...base, thumbnails: [{ corruption: 'fog', severity: 1, src: 'data:image/svg+xml;base64,PHN2Zz4=' }] })), /thumbnails\[0\]\.src must be a data:image\/png;base64 URI/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...base, thumbnails: [{ corruption: 'rain', severity: 1, src: png }] })), /thumbnails\[0\]\.corruption/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...base, thumbnails: [{ corruption: 'fog', severity: 9, src: png }] })), /thumbnails\[0\]\.severity must be an integer 0\.\.5/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...base, thumbnails: 'x' })), /thumbnails must be an array/);
    // The map form { name: [uri per severity] } is read too.
    const m = parseRobustness(JSON.stringify({ ...base, thumbnails: { clean: png, fog: [png, png] } }));
    assert.deepEqual(m.thumbnails?.map((x) => `${x.corruption}@${x.severity}`), ['clean@0', 'fog@1', 'fog@2']);
    assert.equal(parseRobustness(JSON.stringify(base)).thumbnails, undefined);
  });
});
