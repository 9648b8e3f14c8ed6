import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateRobustness, writeRobustnessFile } from '../../../src/engine/robustness/evaluate';
import { encodeNpy } from '../../../src/engine/robustness/npy';
import { benchCorruptions } from '../../../src/engine/robustness/bench';
import { parseRobustness } from '../../../src/shared/robustness';
import { Rng } from '../../../src/engine/util/rng';

/**
 * A "model" that is right exactly when the image is still bright on average: label 1 = bright
 * scene, 0 = dark. Fog/brightness push dark scenes up and so cause errors; contrast keeps the mean.
 */
function dataset(n: number, h: number, c: 1 | 3): { images: Float32Array; labels: Int32Array } {
  const size = h * h * c;
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    images.fill(i % 2 ? 0.7 : 0.3, i * size, (i + 1) * size);
  }
  return { images, labels };
}

function meanClassifier(size: number) {
  const calls: number[] = [];
  const predict = async (batch: Float32Array, n: number): Promise<Int32Array> => {
    calls.push(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let k = 0; k < size; k++) m += batch[i * size + k];
      out[i] = m / size > 0.5 ? 1 : 0;
    }
    return out;
  };
  return { predict, calls };
}

describe('robustness: evaluation and record', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'robust-eval-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('evaluates clean, corruptions and PGD in memory and fills a valid record', async () => {
    const h = 8;
    const { images, labels } = dataset(10, h, 3);
    const { predict, calls } = meanClassifier(h * h * 3);
    const progress: [number, number, string][] = [];
    const rec = await evaluateRobustness({
      images, labels, height: h, width: h, channels: 3, predict, batchSize: 4,
      corruptions: ['contrast', 'brightness'], severities: [1, 5],
      pgd: async (_b, l, n) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? l[i] : 1 - l[i])),
      pgdSettings: { steps: 1, epsilon: 1 },
      run: { id: 'r1', method: 'fast-advprop' },
      onProgress: (d, t, l) => progress.push([d, t, l]),
    });
    assert.equal(rec.schema, 1);
    assert.equal(rec.source, 'in-memory');
    assert.equal(rec.images, 10);
    assert.deepEqual(rec.clean, { accuracy: 1, error: 0 });
    // Contrast keeps each flat image's mean: no errors. Brightness 5 (+0.3) turns every dark image bright.
    assert.deepEqual(rec.corruptions.contrast.errors, [0, null, null, null, 0]);
    assert.equal(rec.corruptions.brightness.family, 'weather');
    assert.deepEqual(rec.corruptions.brightness.errors, [0, null, null, null, 0.5]);
    assert.ok(rec.summary.missing!.includes('brightness@2') && rec.summary.missing!.includes('fog'));
    assert.equal(rec.summary.meanCorruptionError, 12.5);
    assert.ok(Math.abs(rec.summary.perCorruptionCE.brightness - (100 * 0.25) / 0.564592) < 1e-9);
    // PGD callback gets the right labels per batch: it keeps only each batch's first image correct.
    assert.deepEqual(rec.pgd, { steps: 1, epsilon: 1, accuracy: 3 / 10 });
    assert.deepEqual(calls.slice(0, 3), [4, 4, 2]);
    assert.deepEqual(progress.at(-1), [6, 6, 'pgd']);
    assert.deepEqual(progress.map((p) => p[0]), [0, 1, 2, 3, 4, 5, 6]);

    const path = await writeRobustnessFile(dir, rec);
    assert.equal(path, join(dir, 'robustness.json'));
    assert.deepEqual(readdirSync(dir), ['robustness.json']);
    assert.deepEqual(parseRobustness(readFileSync(path, 'utf8')), rec);
  });

  it('works on grey images and normalises by a baseline run', async () => {
    const { images, labels } = dataset(6, 8, 1);
    const { predict } = meanClassifier(64);
    const rec = await evaluateRobustness({
      images, labels, height: 8, width: 8, channels: 1, predict, corruptions: ['brightness'], severities: [5],
      baselineErrors: { brightness: [null, null, null, null, 1] },
    });
    assert.deepEqual(rec.corruptions.brightness.errors, [null, null, null, null, 0.5]);
    assert.equal(rec.summary.baselineCE!.brightness, 50);
  });

  it('rejects an unknown corruption or severity 6 before calling the model', async () => {
    const { images, labels } = dataset(2, 8, 3);
    const { predict, calls } = meanClassifier(192);
    const base = { images, labels, height: 8, width: 8, channels: 3 as const, predict };
    await assert.rejects(evaluateRobustness({ ...base, corruptions: ['fog', 'rain'] }), /unknown corruption "rain"; valid names: gaussian_noise, .*saturate/);
    await assert.rejects(evaluateRobustness({ ...base, severities: [1, 6] }), /severity must be an integer from 1 to 5 \(got 6\)/);
    await assert.rejects(evaluateRobustness({ ...base, labels: new Int32Array(3) }), /2 test images but 3 labels/);
    await assert.rejects(evaluateRobustness({ ...base, npyDir: dir }), /released CIFAR-10-C files hold 32×32×3 images/);
    assert.deepEqual(calls, []);
  });

  it('evaluates from released CIFAR-10-C files', async () => {
    const per = 4;
    const { images, labels } = dataset(per, 32, 3);
    // Severity s block: images are bright for s ≥ 3 whatever the label, so dark ones become errors.
    const raw = new Uint8Array(5 * per * 3072);
    for (let s = 0; s < 5; s++) for (let i = 0; i < per; i++) raw.fill(s >= 2 || i % 2 ? 200 : 50, (s * per + i) * 3072, (s * per + i + 1) * 3072);
    writeFileSync(join(dir, 'fog.npy'), encodeNpy('|u1', [5 * per, 32, 32, 3], raw));
    writeFileSync(join(dir, 'labels.npy'), encodeNpy('|u1', [5 * per], Uint8Array.from({ length: 5 * per }, (_, i) => i % 2)));
    const { predict } = meanClassifier(3072);
    const rec = await evaluateRobustness({ images, labels, height: 32, width: 32, channels: 3, predict, corruptions: ['fog'], npyDir: dir });
    assert.equal(rec.source, 'cifar10-c-npy');
    assert.deepEqual(rec.corruptions.fog.errors, [0, 0, 0.5, 0.5, 0.5]);
    // The released files read alongside a split given in chunks of 3 (batches of 1): the same record.
    const chunks = { count: per, chunk: 3, read: async (start: number, count: number) => ({ labels: labels.slice(start, start + count), images: (o: number, m: number) => images.slice((start + o) * 3072, (start + o + m) * 3072) }) };
    const inChunks = await evaluateRobustness({ chunks, height: 32, width: 32, channels: 3, predict, corruptions: ['fog'], npyDir: dir, batchSize: 1, thumbnails: { index: 3 } });
    const whole = await evaluateRobustness({ images, labels, height: 32, width: 32, channels: 3, predict, corruptions: ['fog'], npyDir: dir, batchSize: 1, thumbnails: { index: 3 } });
    assert.equal(JSON.stringify({ ...inChunks, createdAt: 0 }), JSON.stringify({ ...whole, createdAt: 0 }));
    await assert.rejects(
      evaluateRobustness({ images, labels, height: 32, width: 32, channels: 3, predict, corruptions: ['fog', 'snow'], npyDir: dir }),
      /lacks snow\.npy/,
    );
  });

  it('writeRobustnessFile replaces atomically and leaves no temp file on failure', async () => {
    const { images, labels } = dataset(2, 8, 3);
    const rec = await evaluateRobustness({ images, labels, height: 8, width: 8, channels: 3, predict: meanClassifier(192).predict, corruptions: ['contrast'], severities: [1] });
    writeFileSync(join(dir, 'robustness.json'), 'old');
    await writeRobustnessFile(dir, rec);
    assert.deepEqual(parseRobustness(readFileSync(join(dir, 'robustness.json'), 'utf8')).corruptions, rec.corruptions);
    const cyclic = { ...rec, run: {} as Record<string, unknown> };
    cyclic.run.self = cyclic;
    await assert.rejects(writeRobustnessFile(dir, cyclic as never), /circular/);
    assert.deepEqual(readdirSync(dir), ['robustness.json']);
    assert.deepEqual(parseRobustness(readFileSync(join(dir, 'robustness.json'), 'utf8')).corruptions, rec.corruptions);
    // A failing rename (target is a non-empty folder) must not leave the temp file behind.
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'robustness.json', 'x'), { recursive: true });
    await assert.rejects(writeRobustnessFile(blocked, rec));
    assert.deepEqual(readdirSync(blocked), ['robustness.json']);
  });

  it('parseRobustness tolerates extras and absent optionals, and names the bad field', () => {
    const good = {
      schema: 1, createdAt: 'x', source: 'in-memory', images: 3, futureField: true,
      clean: { accuracy: 0.9, error: 0.1 },
      corruptions: { fog: { family: 'weather', errors: [0.1, null, 0.3, 0.4, 0.5] } },
      summary: { meanCorruptionError: 33, mCE: 40, relativeMCE: null, perCorruptionCE: { fog: 40 } },
    };
    const r = parseRobustness(JSON.stringify(good));
    assert.deepEqual(r.corruptions.fog.errors, [0.1, null, 0.3, 0.4, 0.5]);
    assert.equal(r.summary.relativeMCE, null);
    assert.throws(() => parseRobustness('{'), /robustness\.json is not valid: not JSON/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, schema: 2 })), /schema 2, newer/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, schema: undefined })), /schema must be 1/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, corruptions: { fog: { errors: [0.1, 'x'] } } })), /corruptions\.fog\.errors\[1\] must be a finite number/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, corruptions: { fog: { errors: [1.5] } } })), /rate in \[0, 1\]/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, corruptions: { rain: { errors: [] } } })), /unknown corruption "rain"/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, summary: undefined })), /summary must be an object/);
    assert.throws(() => parseRobustness(JSON.stringify({ ...good, clean: { accuracy: 'high' } })), /clean\.accuracy/);
  });

  it('benchCorruptions runs every corruption and severity and reports throughput', () => {
    const r = benchCorruptions({ images: 95, size: 16, channels: 1 });
    assert.equal(Object.keys(r.perCorruption).length, 19);
    assert.equal(r.images, 95);
    assert.ok(r.imagesPerSecond > 0 && r.seconds > 0);
  });
});

describe('robustness: a test split read in chunks', () => {
  // Flat-ish images near the 0.5 threshold of the mean classifier, so noise and blur flip some
  // predictions and every cell has a non-trivial error to get wrong.
  const h = 6;
  const size = h * h * 3;
  const n = 23;
  const rng = new Rng(9);
  const images = Float32Array.from({ length: n * size }, (_, i) => Math.min(1, Math.max(0, 0.5 + 0.04 * Math.sin(Math.floor(i / size) * 1.7) + 0.15 * (rng.next() - 0.5))));
  const labels = Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
  const cells = { corruptions: ['gaussian_noise', 'impulse_noise', 'glass_blur', 'spatter', 'jpeg_compression', 'fog'], severities: [1, 4] };
  // PGD stand-in: wrong on every image whose first pixel is bright, else the classifier's answer.
  const pgdOf = (predict: (b: Float32Array, k: number) => Promise<Int32Array>) => async (b: Float32Array, l: Int32Array, k: number): Promise<Int32Array> => {
    const p = await predict(b, k);
    return p.map((v, i) => (b[i * size] > 0.5 ? 1 - l[i] : v));
  };
  const strip = (r: object): string => JSON.stringify({ ...r, createdAt: undefined });

  it('gives byte-identical records to the whole split, reads each image once, and holds two chunks at most', async () => {
    const whole = meanClassifier(size);
    const ref = await evaluateRobustness({
      images, labels, height: h, width: h, channels: 3, predict: whole.predict, batchSize: 4, seed: 3, ...cells,
      pgd: pgdOf(whole.predict), pgdSettings: { steps: 2, epsilon: 8 }, thumbnails: { index: 17 },
    });

    const chunked = meanClassifier(size);
    let tick = 0;
    const reads: { start: number; count: number; at: number }[] = [];
    const lastUse: number[] = [];
    const progress: string[] = [];
    const rec = await evaluateRobustness({
      chunks: {
        count: n,
        chunk: 10, // rounded down to 8: two whole batches of 4
        read: async (start, count) => {
          const k = reads.length;
          reads.push({ start, count, at: ++tick });
          // Copies, so nothing can reach the rest of the split through a shared buffer.
          const own = images.slice(start * size, (start + count) * size);
          return {
            labels: labels.slice(start, start + count),
            images: (o, m) => {
              lastUse[k] = ++tick;
              return own.subarray(o * size, (o + m) * size);
            },
          };
        },
      },
      height: h, width: h, channels: 3, predict: chunked.predict, batchSize: 4, seed: 3, ...cells,
      pgd: pgdOf(chunked.predict), pgdSettings: { steps: 2, epsilon: 8 }, thumbnails: { index: 17 },
      onProgress: (d, t, l) => progress.push(`${d}/${t} ${l}`),
    });

    assert.equal(strip(rec), strip(ref));
    assert.ok(ref.clean.accuracy > 0 && ref.clean.accuracy < 1, `clean accuracy ${ref.clean.accuracy}`);
    assert.ok(cells.corruptions.some((c) => ref.corruptions[c].errors[3] !== ref.clean.error), 'no corruption changed a prediction');
    // The same batch sizes (the order differs: chunk by chunk instead of cell by cell).
    assert.deepEqual([...chunked.calls].sort(), [...whole.calls].sort());
    assert.deepEqual(reads.map((r) => [r.start, r.count]), [[0, 8], [8, 8], [16, 7]]);
    // Chunk k is asked for only once chunk k − 2 is done with: two chunks held at most.
    for (let k = 2; k < reads.length; k++) assert.ok(lastUse[k - 2] < reads[k].at, `chunk ${k} read while chunk ${k - 2} was in use`);
    const perChunk = 1 + 6 * 2 + 1;
    assert.equal(progress.length, 1 + 3 * perChunk); // and the opening "0/N clean"
    assert.equal(progress.at(-1), `${3 * perChunk}/${3 * perChunk} pgd (images 17–23 of 23)`);
  });

  it('honours limit, and refuses mixed or wrong-sized chunks', async () => {
    const { predict } = meanClassifier(size);
    const base = { height: h, width: h, channels: 3 as const, predict, batchSize: 4, seed: 3, corruptions: ['gaussian_noise'], severities: [2] };
    const source = { count: n, chunk: 4, read: async (start: number, count: number) => ({ labels: labels.slice(start, start + count), images: (o: number, m: number) => images.subarray((start + o) * size, (start + o + m) * size) }) };
    const ref = await evaluateRobustness({ ...base, images, labels, limit: 9 });
    assert.equal(strip(await evaluateRobustness({ ...base, chunks: source, limit: 9 })), strip(ref));
    assert.equal(ref.images, 9);
    await assert.rejects(evaluateRobustness({ ...base, chunks: source, images, labels }), /either whole \(images \+ labels\) or as chunks, not both/);
    await assert.rejects(evaluateRobustness({ ...base, chunks: { ...source, read: async (s, c) => ({ ...(await source.read(s, c)), labels: new Int32Array(1) }) } }), /test images 1–4 came with 1 labels/);
    await assert.rejects(evaluateRobustness({ ...base, chunks: { ...source, chunk: 0 } }), /chunks\.chunk must be a positive number of images \(got 0\)/);
  });
});
