import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImagenetCLog } from '../../../src/shared/foreign/imagenetCLog';
import { ALEXNET_ERRORS, ALL_CORRUPTIONS, CORRUPTIONS } from '../../../src/shared/robustness';

// Written by scripts/fixtures/make-imagenet-c-log.py with the reference's own print() calls.
const FIXTURE = join(__dirname, '../../../../test/fixtures/foreign/eval_imagenet_c.txt');
const err = (d: number, s: number): number => 0.2 + 0.01 * d + 0.1 * (s - 1) + 1 / 3000;
const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const close = (a: number | null | undefined, b: number, what: string): void => assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`);

describe('the reference\'s ImageNet-C log (eval_imagenet_c.txt)', () => {
  it('reads every distortion\'s five severity errors, the unnormalised 19-mean and the mCE', () => {
    const r = readImagenetCLog('eval_imagenet_c.txt', readFileSync(FIXTURE, 'utf8'));
    assert.deepEqual(Object.keys(r.corruptions), [...ALL_CORRUPTIONS]);
    assert.deepEqual(r.unknown, []);
    ALL_CORRUPTIONS.forEach((c, d) => {
      assert.deepEqual(r.corruptions[c].errors, [1, 2, 3, 4, 5].map((s) => err(d, s)), c);
      close(r.corruptions[c].meanError, meanOf([1, 2, 3, 4, 5].map((s) => err(d, s))), c);
    });
    const means = ALL_CORRUPTIONS.map((_, d) => meanOf([1, 2, 3, 4, 5].map((s) => err(d, s))));
    close(r.summary.meanError19, 100 * meanOf(means), 'meanError19');
    close(r.loggedMean, 100 * meanOf(means), 'the mean the log printed');
    close(r.summary.meanCorruptionError, 100 * meanOf(means.slice(0, 15)), 'mean corruption error over the 15');
    close(r.summary.mCE, meanOf(CORRUPTIONS.map((c, d) => (100 * means[d]) / ALEXNET_ERRORS[c])), 'mCE');
    assert.equal(r.summary.relativeMCE, null);
    assert.deepEqual(r.summary.coverage, { corruptions: 15, severities: [1, 2, 3, 4, 5], cells: 75 });
    assert.deepEqual(r.summary.missing, []);
  });

  it('a log cut down to its Distortion lines gives each corruption a mean error and no cells; fewer than 19 give no 19-mean', () => {
    const text = 'Distortion: gaussian_noise   | CE (unnormalized) (%): 61.25\nDistortion: fog              | CE (unnormalized) (%): 40.50\nDistortion: my_blur          | CE (unnormalized) (%): 10.00\n';
    const r = readImagenetCLog('c.txt', text);
    assert.deepEqual(r.corruptions, { gaussian_noise: { family: 'noise', meanError: 0.6125 }, fog: { family: 'weather', meanError: 0.405 } });
    assert.deepEqual(r.unknown, ['my_blur']);
    assert.equal(r.summary.meanError19, null);
    assert.equal(r.summary.mCE, null);
    close(r.summary.meanCorruptionError, (61.25 + 40.5) / 2, 'mean corruption error');
    assert.equal(r.summary.missing?.length, 13);
  });

  it('NumPy 2\'s np.float64(…) printing reads the same', () => {
    const text = '\n=Average (np.float64(0.5), np.float64(0.625), 0.75, 0.875, 1.0)\nDistortion: snow             | CE (unnormalized) (%): 75.00\n'
      + "['snow']\n[np.float64(0.75)]\n0.75\n";
    const r = readImagenetCLog('c.txt', text);
    assert.deepEqual(r.corruptions.snow, { family: 'weather', meanError: 0.75, errors: [0.5, 0.625, 0.75, 0.875, 1] });
    assert.equal(r.loggedMean, 75);
  });

  it('a severity tuple that disagrees with its Distortion line is not trusted as its cells', () => {
    const r = readImagenetCLog('c.txt', '=Average (0.1, 0.1, 0.1, 0.1, 0.1)\nDistortion: fog  | CE (unnormalized) (%): 40.00\n');
    assert.deepEqual(r.corruptions.fog, { family: 'weather', meanError: 0.4 });
  });

  it('refuses a file that is not such a log, or a Distortion line without a number, in one line', () => {
    assert.throws(() => readImagenetCLog('/x/notes.txt', 'hello\n'), { message: '/x/notes.txt: not an ImageNet-C log (no "Distortion: <name> | CE (unnormalized) (%): <x>" line)' });
    assert.throws(() => readImagenetCLog('/x/c.txt', 'Distortion: fog | CE (unnormalized) (%): nan\n'), { message: '/x/c.txt: line 1: distortion fog has no number after "CE (unnormalized) (%):" (got "nan")' });
  });
});
