// How many workers a run starts with by default: one per core, but no more than a training step
// has pieces (idle workers cost memory and a state copy per step), and what the CLI says about it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/engine/cli';
import type { EngineDeps } from '../../../src/engine/cli/train';
import { resolveWorkers } from '../../../src/engine/exec/createExecutor';
import { stepPieces } from '../../../src/engine/train/plan';
import type { BackendInfo } from '../../../src/shared/runFormat';
import { tinyDeps } from '../train/helpers';

const backend = (name: string): BackendInfo => ({ name, requested: 'auto', package: 'p', gpu: false, reason: 'r', attempts: [], workers: 1 });

describe('exec: the automatic worker count follows the pieces of a training step', () => {
  it('stepPieces: BN groups per pass, times two when the clean and the attacked pass go together', () => {
    assert.equal(stepPieces({ method: 'vanilla', bnGroups: 2, batch: { clean: 64, adv: 0 } }), 2);
    assert.equal(stepPieces({ method: 'fast-advprop', bnGroups: 2, batch: { clean: 64, adv: 16 } }), 4);
    assert.equal(stepPieces({ method: 'advprop', bnGroups: 4, batch: { clean: 64, adv: 64 } }), 8);
    assert.equal(stepPieces({ method: 'fast-advprop', bnGroups: 3, batch: { clean: 64, adv: 0 } }), 3);
  });

  it('stepPieces on wasm: each group over as many workers as give shares of ≥ 4 samples dividing every group', () => {
    assert.equal(stepPieces({ method: 'vanilla', bnGroups: 2, batch: { clean: 64, adv: 0 } }, true), 16); // 2 groups × 8 shares of 4
    assert.equal(stepPieces({ method: 'fast-advprop', bnGroups: 2, batch: { clean: 64, adv: 16 } }, true), 8); // adv groups of 8: 2 shares
    assert.equal(stepPieces({ method: 'advprop', bnGroups: 4, batch: { clean: 64, adv: 64 } }, true), 32);
    assert.equal(stepPieces({ method: 'vanilla', bnGroups: 2, batch: { clean: 12, adv: 0 } }, true), 2); // groups of 6: no even shares of ≥ 4
  });

  it('resolveWorkers: min(cores, pieces) when automatic; an explicit count is kept; native TensorFlow gets one', () => {
    assert.equal(resolveWorkers(0, backend('wasm'), 4, 16), 4);
    assert.equal(resolveWorkers(0, backend('wasm'), 4, 2), 2);
    assert.equal(resolveWorkers(0, backend('cpu'), undefined, 16), 16);
    assert.equal(resolveWorkers(7, backend('wasm'), 4, 16), 7);
    assert.equal(resolveWorkers(0, backend('tensorflow'), 4, 16), 1);
  });

  it('train passes the step pieces to the executor and says when workers would idle while training', async () => {
    const deps = await tinyDeps();
    const seen: unknown[] = [];
    const reportedWorkers = 5;
    const wrapped: EngineDeps = {
      ...deps,
      createExecutor: async (o) => {
        seen.push([o.usefulWorkers, o.usefulWorkersSplit]);
        const ex = await deps.createExecutor({ ...o, workers: 1 });
        return { layout: ex.layout, workers: reportedWorkers, backend: ex.backend, setState: (p, r) => ex.setState(p, r), dispose: () => ex.dispose(), run: (reqs) => ex.run(reqs) };
      },
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fap-workers-'));
    try {
      const cfg = path.join(dir, 'w.advprop.json');
      fs.writeFileSync(cfg, JSON.stringify({
        method: 'fast-advprop', split: '4:1', bnGroups: 2, batchSize: 8, epochs: 1, sameBudget: false, maxSteps: 1,
        model: { arch: 'resnet8', width: 2 }, backend: 'cpu', workers: 5, logEvery: 1,
      }));
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['train', '--config', cfg, '--run-dir', path.join(dir, 'run')], { out: (l) => out.push(l), err: (l) => err.push(l) }, wrapped);
      assert.equal(code, 0, err.join('\n'));
      assert.deepEqual(seen, [[4, 4]]); // batch 8 + 2 in 2 groups: shares of 4 would not divide them
      assert.ok(out.includes('note: 5 workers, but a training step splits into 4 pieces (2 BN groups × the clean and the attacked pass): the others only speed up evaluation; a larger bnGroups trains on more cores (it changes the BN statistics, and so the results)'), out.join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
