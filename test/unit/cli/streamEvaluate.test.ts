import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/engine/cli';
import { StreamLoader } from '../../../src/engine/data/streamLoader';
import { jpg, streamDeps } from './streamHelpers';

// `evaluate` on a streamed image folder through the real CLI: the test split read in chunks must
// give the record the whole split gives, byte for byte, and the loader is never asked for more
// than one chunk's images at a time (issue #14).

describe('cli: evaluate on a streamed image folder', () => {
  let dir: string;
  let run: string;
  before(async function () {
    this.timeout(300_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-streameval-'));
    // val/: 99 + 1 unreadable in "left" (sorted last: index 99, the end of the first 100-image
    // chunk, so its stand-in comes from the next chunk) and 150 in "top": 250 images.
    for (const [split, counts] of [['train', [6, 6]], ['val', [99, 150]]] as const) {
      for (const [k, cls] of ['left', 'top'].entries()) {
        fs.mkdirSync(path.join(dir, 'data', split, cls), { recursive: true });
        for (let i = 0; i < counts[k]; i++) fs.writeFileSync(path.join(dir, 'data', split, cls, `${String(i).padStart(3, '0')}.jpg`), jpg(20 + (i % 9), 16 + (i % 7), k, i));
      }
    }
    fs.writeFileSync(path.join(dir, 'data', 'val', 'left', 'zz-broken.jpg'), Buffer.from('not a jpeg'));
    fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify({
      method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 1, sameBudget: false,
      model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 1, logEvery: 1, seed: 5, autoEvaluate: false,
      augment: { crop: true, flip: true, mixupAlpha: 0, cutmixAlpha: 0 },
      dataset: { name: 'image-folder', path: path.join(dir, 'data'), loader: 'stream', size: 12, workers: 2, prefetch: 2, decoder: 'js' },
    }));
    run = path.join(dir, 'run');
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    assert.equal(await main(['train', '--config', path.join(dir, 'cfg.json'), '--run-dir', run, '--max-steps', '2'], io, await streamDeps()), 0, out.join('\n'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs evaluate, returning its JSON record (createdAt dropped) and each request made of the loader. */
  async function evaluate(args: string[], chunk?: number): Promise<{ json: string; asked: { first: number; count: number }[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const asked: { first: number; count: number }[] = [];
    const images = StreamLoader.prototype.images;
    StreamLoader.prototype.images = function (this: StreamLoader, ...a: Parameters<typeof images>) {
      asked.push({ first: a[1][0], count: a[1].length });
      return images.apply(this, a);
    };
    try {
      const code = await main(['evaluate', '--run', run, '--json', ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, await streamDeps(chunk));
      assert.equal(code, 0, err.join('\n'));
    } finally {
      StreamLoader.prototype.images = images;
    }
    const rec = JSON.parse(out.join('')) as { createdAt?: string };
    delete rec.createdAt;
    return { json: JSON.stringify(rec), asked, err };
  }

  it('gives the whole split\'s record byte for byte when read 100 images at a time', async function () {
    this.timeout(300_000);
    const args = ['--corruptions', 'gaussian_noise,glass_blur,jpeg_compression,fog', '--severities', '1,5', '--pgd', '1,8'];
    // The default chunk (500) holds all 250 images: the split decoded whole, as before.
    const whole = await evaluate(args);
    assert.deepEqual(whole.asked, [{ first: 0, count: 250 }]);
    const chunked = await evaluate(args, 100);
    assert.deepEqual(chunked.asked, [{ first: 0, count: 100 }, { first: 100, count: 100 }, { first: 200, count: 50 }]);
    assert.equal(chunked.json, whole.json);
    const rec = JSON.parse(chunked.json);
    assert.equal(rec.images, 250);
    assert.ok(rec.clean.accuracy > 0 && rec.clean.accuracy < 1, `clean accuracy ${rec.clean.accuracy}`);
    for (const r of [whole, chunked]) assert.ok(r.err.some((l) => /^1 unreadable image skipped, each replaced by the next readable one \(first: .*zz-broken\.jpg\)$/.test(l)), r.err.join('\n'));
    // robustness.json is the last run's record.
    const onDisk = JSON.parse(fs.readFileSync(path.join(run, 'robustness.json'), 'utf8'));
    delete onDisk.createdAt;
    assert.equal(JSON.stringify(onDisk), chunked.json);
  });

  it('reads only the first --limit images, in chunks, with the same result', async function () {
    this.timeout(300_000);
    const args = ['--corruptions', 'shot_noise,spatter', '--severities', '3', '--limit', '130'];
    const whole = await evaluate(args);
    const chunked = await evaluate(args, 100);
    assert.deepEqual(whole.asked, [{ first: 0, count: 130 }]);
    assert.deepEqual(chunked.asked, [{ first: 0, count: 100 }, { first: 100, count: 30 }]);
    assert.equal(chunked.json, whole.json);
    assert.equal(JSON.parse(chunked.json).images, 130);
  });
});
