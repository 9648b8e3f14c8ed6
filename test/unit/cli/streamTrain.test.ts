import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/engine/cli';
import type { EngineDeps } from '../../../src/engine/cli/train';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';
import { parseMetricsLines, parseStatus, type RunConfigRecord } from '../../../src/shared/runFormat';
import { jpg, streamDeps } from './streamHelpers';

// A streamed image folder through the real CLI: decode threads, random-resized crops per
// (seed, epoch, index), a corrupt file, and a stop + resume that must land on the same weights.

describe('cli: training on a streamed image folder', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-streamtrain-'));
    for (const [split, n] of [['train', 10], ['val', 3]] as const) {
      for (const [k, cls] of ['left', 'top'].entries()) {
        fs.mkdirSync(path.join(dir, 'data', split, cls), { recursive: true });
        for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, 'data', split, cls, `${i}.jpg`), jpg(30 + i, 24 + 2 * i, k, i));
      }
    }
    fs.writeFileSync(path.join(dir, 'data', 'train', 'top', 'broken.jpg'), Buffer.alloc(0));
    fs.writeFileSync(path.join(dir, 'cfg.json'), JSON.stringify({
      method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 2, milestones: [1], sameBudget: false,
      model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 1, logEvery: 1, seed: 5,
      augment: { crop: true, flip: true, mixupAlpha: 0, cutmixAlpha: 0 },
      dataset: { name: 'image-folder', path: path.join(dir, 'data'), loader: 'stream', size: 12, workers: 2, prefetch: 2, decoder: 'js' },
    }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trains, logs the decoder and the skipped file, records the data wait, and resumes to the same weights', async () => {
    const cfg = path.join(dir, 'cfg.json');
    const full = path.join(dir, 'full');
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    assert.equal(await main(['train', '--config', cfg, '--run-dir', full], io, await streamDeps()), 0, out.join('\n'));
    assert.ok(out.some((l) => /^images: 12×12 px, 2 decode threads \(jpeg-js \+ pngjs/.test(l)), out.join('\n'));
    assert.ok(out.some((l) => /^1 unreadable image skipped, each replaced by the next readable one \(first: .*broken\.jpg\)$/.test(l)), out.join('\n'));
    const rec = JSON.parse(fs.readFileSync(path.join(full, 'config.json'), 'utf8')) as RunConfigRecord;
    assert.deepEqual(rec.dataset.classNames, ['left', 'top']);
    assert.deepEqual([rec.dataset.train, rec.dataset.test, rec.dataset.height, rec.dataset.channels], [21, 6, 12, 3]);
    const steps = parseMetricsLines(fs.readFileSync(path.join(full, 'metrics.jsonl'), 'utf8')).records.filter((r) => r.kind === 'step');
    assert.ok(steps.length > 0 && steps.every((s) => s.kind === 'step' && typeof s.dataWait === 'number' && s.dataWait >= 0 && s.dataWait <= 1));

    // Stop after step 2 (mid-epoch 0), resume, compare.
    const run = path.join(dir, 'stopped');
    const base = await streamDeps();
    let calls = 0;
    const stopping: EngineDeps = {
      ...base,
      createExecutor: async (o) => {
        const ex = await base.createExecutor(o);
        return { ...ex, layout: ex.layout, workers: ex.workers, backend: ex.backend, setState: (p, r) => ex.setState(p, r), dispose: () => ex.dispose(), run: async (reqs) => {
          const r = await ex.run(reqs);
          if (++calls === 3) fs.writeFileSync(path.join(run, 'stop.request'), '');
          return r;
        } };
      },
    };
    assert.equal(await main(['train', '--config', cfg, '--run-dir', run], { out: () => undefined, err: () => undefined }, stopping), 0);
    assert.equal(parseStatus(fs.readFileSync(path.join(run, 'status.json'), 'utf8'))!.state, 'stopped');
    const stoppedAt = loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt')).step;
    assert.ok(stoppedAt > 0 && stoppedAt < 4, `stopped at ${stoppedAt}`);
    assert.equal(await main(['train', '--resume', run], { out: () => undefined, err: () => undefined }, await streamDeps()), 0);
    const a = loadCheckpoint(path.join(run, 'checkpoints', 'last.ckpt'));
    const b = loadCheckpoint(path.join(full, 'checkpoints', 'last.ckpt'));
    assert.equal(a.step, b.step);
    assert.deepEqual(a.params, b.params);
    assert.deepEqual(a.running, b.running);
  });
});
