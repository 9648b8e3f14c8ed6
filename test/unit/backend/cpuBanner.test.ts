// Issue #16: `bench` (and any cpu use) printed TensorFlow.js' "install our node backend" banner,
// which reads as an error and gives advice that does not apply. The engine makes the cpu
// backend's first write silently; every other tfjs warning must still print.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { silenceCpuBanner } from '../../../src/engine/backend/select';
import { TINY_CONFIG, requireCli, rmDir, runCli, tmpDir, writeJson } from '../reliability/helpers';

const BANNER = /Hi, looks like you are running TensorFlow\.js in Node\.js/;

describe('the cpu backend banner (#16)', () => {
  let tmp: string | undefined;
  afterEach(() => { rmDir(tmp); tmp = undefined; });

  it('plain tfjs prints it on the cpu backend\'s first write (the control: this test can see it)', () => {
    const script = `const tf = require('@tensorflow/tfjs'); tf.setBackend('cpu').then(() => tf.tensor([1, 2]).dataSync());`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../../../..'), encoding: 'utf8', timeout: 60_000 });
    assert.match(r.stdout + r.stderr, BANNER);
  });

  it('a cpu training run of the engine prints no banner, and the engine leaves tfjs\' PROD flag as it was', async function () {
    requireCli(this);
    tmp = tmpDir('banner');
    const cfg = writeJson(path.join(tmp, 'c.json'), { ...TINY_CONFIG, maxSteps: 1, backend: 'cpu' });
    const res = await runCli(['train', '--config', cfg, '--run-dir', path.join(tmp, 'run')], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stdout + res.stderr, BANNER);
    silenceCpuBanner();
    assert.equal(tf.env().getBool('PROD'), false, 'log.warn stays on for every other warning');
  });
});
