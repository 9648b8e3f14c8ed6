// Exact-value parity with the code that generated CIFAR-10-C (Hendrycks' make_cifar_c.py): each
// case runs our corruption on the fixed image with the draws recorded in draws.json and compares
// it with what the reference printed for those same draws (reference.json). How the fixture is
// made, and why each tolerance is what it is: docs/corruptions.md.

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corrupt } from '../../../src/engine/robustness/index';
import { jpegRoundTripU8 } from '../../../src/engine/robustness/jpeg';
import { CIFAR_PARAMS } from '../../../src/engine/robustness/params';
import { frostBlend } from '../../../src/engine/robustness/weather';
import { PARITY_CASES, base64ToF32, base64ToF64, parityImage } from '../../fixtures/corruption-reference/cases';
import { IMAGENET_MOTION_U, imagenetImageU8, windows } from '../../fixtures/corruption-reference/imagenet';
import { ReplayRng, emptyDraws, type Draws } from '../../fixtures/corruption-reference/replayRng';

const dir = join(__dirname, '../../../../test/fixtures/corruption-reference');
const draws = JSON.parse(readFileSync(join(dir, 'draws.json'), 'utf8'));
const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8'));
const referenceImagenet = JSON.parse(readFileSync(join(dir, 'reference-imagenet.json'), 'utf8'));

function decodeDraws(d: Record<string, string>): Draws {
  const ints = base64ToF64(d.int);
  const pairs: [number, number][] = [];
  for (let i = 0; i < ints.length; i += 2) pairs.push([ints[i], ints[i + 1]]);
  return { normal: [...base64ToF64(d.normal)], uniform: [...base64ToF64(d.uniform)], int: pairs, next: [...base64ToF64(d.next)] };
}

/**
 * Largest allowed |ours − reference| on the [0, 1] scale: a ten-thousandth of an 8-bit level. Our
 * images are float32 and the reference works in float64 (float32 alone rounds a value near 1 by
 * 1.5e-5 of a level; the largest difference measured is 4.6e-5 of a level), and every step that
 * rounds to 8 bits in the reference rounds the same way here, so nothing larger is expected. A
 * formula or constant that moves one value by a thousandth of a level fails.
 */
const TOLERANCE = 1e-4 / 255;

interface Compared { key: string; max: number; mean: number }

function compare(name: string, severity: number, k: number): Compared {
  const key = `${name}/${severity}`;
  const rec = draws.cases[k];
  const ref = reference.cases[k];
  assert.equal(`${rec.name}/${rec.severity}`, key, 'draws.json is out of step with PARITY_CASES: rerun exportDraws');
  assert.equal(`${ref.name}/${ref.severity}`, key, 'reference.json is out of step with draws.json: rerun reference.py');
  const img = parityImage();
  const rng = new ReplayRng(decodeDraws(rec.draws));
  const ours = name === 'frost'
    ? frostBlend(img, Float32Array.from(base64ToF64(rec.extra.frostLayer)), severity, CIFAR_PARAMS)
    : corrupt(name, severity, img, rng);
  if (name !== 'frost') assert.deepEqual(rng.left(), { normal: 0, uniform: 0, int: 0, next: 0 }, `${key} drew a different number of values than recorded`);
  const want = base64ToF32(ref.output);
  assert.equal(ours.data.length, want.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(ours.data[i] - want[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { key, max, mean: sum / want.length };
}

describe('robustness: parity with make_cifar_c.py on a fixed image', () => {
  PARITY_CASES.forEach(({ name, severity }, k) => {
    it(`${name} severity ${severity} (case ${k})`, () => {
      const r = compare(name, severity, k);
      if (process.env.PARITY_REPORT) console.log(`    ${r.key}: max ${(r.max * 255).toExponential(2)}/255, mean ${(r.mean * 255).toFixed(4)}/255`);
      assert.ok(r.max <= TOLERANCE, `${r.key}: max |ours − reference| ${(r.max * 255).toExponential(2)}/255 > tolerance ${(TOLERANCE * 255).toExponential(2)}/255`);
    });
  });

  it('JPEG equals PIL\'s save / open byte for byte at odd sizes, grey, and quality 7 (clamped tables)', () => {
    for (const t of reference.pil_jpeg) {
      const back = jpegRoundTripU8(new Uint8Array(Buffer.from(t.image, 'base64')), t.width, t.height, t.channels, t.quality);
      assert.deepEqual(Buffer.from(back), Buffer.from(t.output, 'base64'), `${t.height}×${t.width}×${t.channels} at quality ${t.quality}`);
    }
  });
});

/**
 * At 224 px defocus blur's disk is 17×17 to 21×21: OpenCV filters kernels that large through a
 * float32 DFT, we sum them directly in float32, and the two differ by up to 2.6e-4 of a level
 * (measured). A thousandth of a level covers that and still fails any constant's third digit.
 */
const TOLERANCE_224 = 1e-3 / 255;

describe('robustness: parity with make_imagenet_c.py on a 224×224 image (two windows and the mean)', () => {
  const u8 = imagenetImageU8();
  const img = { data: Float32Array.from(u8, (v) => v / 255), height: 224, width: 224, channels: 3 as const };
  for (const ref of referenceImagenet.cases as { name: string; severity: number; mean: number; windows: string }[]) {
    it(`${ref.name} severity ${ref.severity}`, () => {
      const draws = emptyDraws();
      if (ref.name === 'motion_blur') draws.uniform.push(IMAGENET_MOTION_U[ref.severity - 1]);
      const rng = new ReplayRng(draws);
      const out = corrupt(ref.name, ref.severity, img, rng).data;
      assert.deepEqual(rng.left(), { normal: 0, uniform: 0, int: 0, next: 0 });
      const got = windows(out);
      const want = base64ToF32(ref.windows);
      let max = 0;
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i] - want[i]));
      let mean = 0;
      for (const v of out) mean += v;
      mean /= out.length;
      if (process.env.PARITY_REPORT) console.log(`    ${ref.name}/${ref.severity}: windows max ${(max * 255).toExponential(2)}/255, mean ${((mean - ref.mean) * 255).toExponential(2)}/255`);
      assert.ok(max <= TOLERANCE_224, `${ref.name}/${ref.severity}: window max |ours − reference| ${(max * 255).toExponential(2)}/255`);
      assert.ok(Math.abs(mean - ref.mean) <= TOLERANCE_224, `${ref.name}/${ref.severity}: mean differs by ${((mean - ref.mean) * 255).toExponential(2)}/255`);
    });
  }
});
