import * as assert from 'node:assert/strict';
import { ALL_CORRUPTIONS, CORRUPTIONS, robustnessSummaryLines } from '../../../src/shared/robustness';
import {
  ALEXNET_CLEAN_ERROR, ALEXNET_ERRORS, baselineCorruptionErrors, corruptionErrors, meanCorruptionError, missingCells,
  perCorruptionMeanError, relativeCorruptionErrors, summarize, type ErrorTable,
} from '../../../src/engine/robustness/metrics';

const close = (a: number | null | undefined, b: number, tol = 1e-9): void => {
  assert.ok(typeof a === 'number' && Math.abs(a - b) < tol, `${a} ≠ ${b}`);
};

describe('robustness: metrics', () => {
  it('has the AlexNet errors of ALGORITHM.md in reference order', () => {
    assert.equal(Object.keys(ALEXNET_ERRORS).length, 15);
    assert.equal(ALEXNET_ERRORS.gaussian_noise, 0.886428);
    assert.equal(ALEXNET_ERRORS.brightness, 0.564592);
    assert.equal(ALEXNET_ERRORS.jpeg_compression, 0.6065);
    assert.equal(ALEXNET_CLEAN_ERROR, 0.4348);
  });

  it('CE, mCE and relative mCE on a hand-computed two-corruption table', () => {
    const errors: ErrorTable = {
      gaussian_noise: [0.1, 0.2, 0.3, 0.4, 0.5], // mean 0.3
      brightness: [0.05, 0.05, 0.1, 0.1, 0.2], // mean 0.1
    };
    const ce = corruptionErrors(errors);
    close(ce.gaussian_noise, (100 * 0.3) / 0.886428); // 33.8436…
    close(ce.brightness, (100 * 0.1) / 0.564592); // 17.7119…
    close(ce.gaussian_noise, 33.8437, 1e-4);
    close(ce.brightness, 17.7119, 1e-4);
    const clean = 0.05;
    const rel = relativeCorruptionErrors(errors, clean);
    close(rel.gaussian_noise, (100 * (0.3 - 0.05)) / (0.886428 - 0.4348));
    close(rel.brightness, (100 * (0.1 - 0.05)) / (0.564592 - 0.4348));
    const s = summarize(errors, clean);
    // Two of the 15: AlexNet's errors are over all 15 × 5 cells, so this is no mCE.
    assert.equal(s.mCE, null);
    assert.equal(s.relativeMCE, null);
    assert.deepEqual(s.coverage, { corruptions: 2, severities: [1, 2, 3, 4, 5], cells: 10 });
    assert.equal(s.meanError19, null);
    assert.deepEqual(robustnessSummaryLines(s), ['mean corruption error 20.00 (2 of the 15 corruptions × severity 1–5: 10 cells)']);
    // CIFAR convention: 100 − mean accuracy over the 10 evaluated cells = 100 · mean error = 20.
    close(s.meanCorruptionError, 20, 1e-9);
    assert.ok(s.missing!.includes('fog') && !s.missing!.includes('brightness'));
    assert.equal(s.missing!.length, 13);
  });

  it('mCE (AlexNet-normalised) and the reference\'s unnormalised 19-distortion mean on complete tables', () => {
    const errors: ErrorTable = {};
    ALL_CORRUPTIONS.forEach((c, i) => (errors[c] = [0, 1, 2, 3, 4].map((s) => (i + s) / 100)));
    const s = summarize(errors, 0.05);
    // mCE = mean over the 15 of 100 · mean_s err / AlexNet_c; corruption i has mean error (i + 2)/100.
    const expected = CORRUPTIONS.reduce((a, c, i) => a + (100 * ((i + 2) / 100)) / ALEXNET_ERRORS[c], 0) / 15;
    close(s.mCE, expected, 1e-9);
    // 19 distortions, mean error (i + 2) % for i = 0..18 → 100 · mean = 11.
    close(s.meanError19, 11, 1e-9);
    assert.deepEqual(s.coverage, { corruptions: 15, severities: [1, 2, 3, 4, 5], cells: 75 });
    const lines = robustnessSummaryLines(s);
    assert.equal(lines[0], 'mean corruption error 9.00 (15 of the 15 corruptions × severity 1–5: 75 cells)');
    assert.equal(lines[1], `mCE (AlexNet-normalised, ImageNet-C 15) ${expected.toFixed(2)}`);
    assert.equal(lines[2], 'mean error over the 19 distortions (unnormalised, as the reference prints it) 11.00');
    // One missing extra cell: no 19-distortion mean; one missing cell of the 15: no mCE.
    assert.equal(summarize({ ...errors, saturate: [0.1, 0.1, 0.1, 0.1, null] }, 0.05).meanError19, null);
    assert.equal(summarize({ ...errors, fog: [0.1, 0.1, null, 0.1, 0.1] }, 0.05).mCE, null);
  });

  it('CIFAR mean corruption error = 100 − mean accuracy over all 15×5 cells', () => {
    const errors: ErrorTable = {};
    CORRUPTIONS.forEach((c, i) => (errors[c] = [0, 1, 2, 3, 4].map((s) => (i + s) / 100)));
    // Mean of (i + s) over i in 0..14, s in 0..4 = 7 + 2 = 9 → 9 %.
    close(meanCorruptionError(errors), 9, 1e-9);
    assert.deepEqual(missingCells(errors), []);
    // The extras never count towards it.
    close(meanCorruptionError({ ...errors, saturate: [1, 1, 1, 1, 1] }), 9, 1e-9);
  });

  it('skips nulls (never counts them as 0) and names the missing cells', () => {
    const errors: ErrorTable = { fog: [0.2, null, 0.4, null, null], contrast: [null, null, null, null, null] };
    close(perCorruptionMeanError(errors).fog, 0.3);
    assert.equal(perCorruptionMeanError(errors).contrast, undefined);
    close(corruptionErrors(errors).fog, 30 / 0.819324);
    assert.equal(corruptionErrors(errors).contrast, undefined);
    close(meanCorruptionError(errors), 30);
    const missing = missingCells(errors);
    assert.ok(missing.includes('fog@2') && missing.includes('fog@4') && missing.includes('fog@5'));
    assert.ok(missing.includes('contrast') && !missing.includes('contrast@1'));
    assert.ok(!missing.includes('fog@1'));
    const s = summarize({ contrast: [null, null, null, null, null] }, 0.1);
    assert.equal(s.mCE, null);
    assert.equal(s.meanCorruptionError, null);
  });

  it('CE normalised by a baseline run uses only severities both evaluated', () => {
    const errors: ErrorTable = { fog: [0.1, 0.2, null, 0.4, 0.5], saturate: [0.1, 0.1, 0.1, 0.1, 0.1] };
    const baseline: ErrorTable = { fog: [0.2, 0.4, 0.6, null, 1.0], saturate: [0.2, 0.2, 0.2, 0.2, 0.2] };
    const b = baselineCorruptionErrors(errors, baseline);
    close(b.fog, (100 * (0.1 + 0.2 + 0.5)) / (0.2 + 0.4 + 1.0)); // 50
    close(b.saturate, 50);
    const s = summarize(errors, 0.05, baseline);
    close(s.baselineMCE, 50); // only fog is among the 15
    assert.deepEqual(Object.keys(s.baselineCE!).sort(), ['fog', 'saturate']);
  });
});
