import * as assert from 'node:assert/strict';
import { readRobustness, readThumbnails } from '../../../src/extension/panels/runData';
import { baselineCE, groupedCorruptions, heatCellStyle, heatPercent, maxError } from '../../../src/shared/protocol/robustnessModel';
import type { RobustnessRecord } from '../../../src/shared/robustness';

const rec = (corruptions: RobustnessRecord['corruptions']): RobustnessRecord => ({
  schema: 1, createdAt: '', source: 'in-memory', images: 10, clean: { accuracy: 0.9, error: 0.1 }, corruptions,
  summary: { meanCorruptionError: 20, mCE: null, relativeMCE: null, perCorruptionCE: {} },
});

describe('robustness view model', () => {
  const r = rec({
    fog: { family: 'weather', errors: [0.1, 0.2, 0.3, 0.4, 0.5] },
    gaussian_noise: { family: 'noise', errors: [0.2, null, null, null, 0.4] },
    contrast: { family: 'digital', errors: [0.5, 0.5, 0.5, 0.5, 0.5] },
  });

  it('groups by family in the reference order, means over evaluated severities', () => {
    const g = groupedCorruptions(r);
    assert.deepEqual(g.map((x) => x.family), ['noise', 'weather', 'digital']);
    assert.ok(Math.abs(g[0].rows[0].mean! - 30) < 1e-9);
  });

  it('CE against a baseline: 100 = same, over severities both evaluated', () => {
    const base = rec({
      fog: { family: 'weather', errors: [0.2, 0.4, 0.6, 0.8, 1.0] },
      gaussian_noise: { family: 'noise', errors: [0.2, 0.1, null, null, 0.4] },
    });
    const ce = baselineCE(r, base);
    assert.ok(Math.abs(ce.perCorruption.fog - 50) < 1e-9);
    assert.ok(Math.abs(ce.perCorruption.gaussian_noise - 100) < 1e-9);
    assert.equal(ce.perCorruption.contrast, undefined, 'the baseline lacks contrast');
    assert.ok(Math.abs(ce.mean! - 75) < 1e-9);
  });

  it('heat scales to the worst cell, missing cells stay blank', () => {
    assert.equal(maxError(r), 0.5);
    assert.equal(heatPercent(0.5, 0.5), 85);
    assert.equal(heatPercent(0.25, 0.5), 43);
    assert.equal(heatPercent(null, 0.5), undefined);
    assert.equal(heatPercent(0.1, 0), 0);
  });

  it('hot heatmap cells print white on a red darkened enough for contrast ≥ 4.5 in both themes; light cells keep the theme\'s text', () => {
    const lum = (rgb: number[]) => {
      const [r, g, b] = rgb.map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    for (const red of [[0xe5, 0x14, 0x00], [0xf1, 0x4c, 0x4c]]) {
      for (const p of [50, 60, 85]) {
        const cell = heatCellStyle(p)!;
        assert.equal(cell.hot, true);
        assert.equal(cell.color, '#ffffff');
        const share = Number(/charts-red\) (\d+)%, black\)/.exec(cell.background)![1]) / 100;
        const contrast = 1.05 / (lum(red.map((v) => v * share)) + 0.05);
        assert.ok(contrast >= 4.5, `red ${red} at ${p}: contrast ${contrast.toFixed(2)}`);
      }
    }
    assert.deepEqual(heatCellStyle(40), { background: 'color-mix(in srgb, var(--vscode-charts-red) 32%, transparent)', hot: false });
    assert.equal(heatCellStyle(undefined), undefined);
  });

  it('reads robustness.json through the shared reader; bad files give the field, not NaN', () => {
    const ok = readRobustness({ schema: 1, clean: { accuracy: 0.9 }, corruptions: { fog: { errors: [0.1, 0.2, null, null, null] } }, summary: { meanCorruptionError: 15 } });
    assert.equal(ok.record?.corruptions.fog.family, 'weather');
    assert.equal(ok.error, undefined);
    const bad = readRobustness({ schema: 1, clean: { accuracy: 0.9 }, corruptions: { fog: { errors: [2] } }, summary: {} });
    assert.match(bad.error ?? '', /corruptions\.fog\.errors\[0\]/);
    assert.deepEqual(readRobustness(undefined), {});
  });

  it('thumbnails: only base64 PNG data URIs pass, in either layout', () => {
    const png = 'iVBORw0KGgo=';
    const list = readThumbnails([
      { corruption: 'fog', severity: 3, src: `data:image/png;base64,${png}` },
      { corruption: 'snow', severity: 1, src: 'https://evil.example/x.png' },
      { corruption: 'frost', severity: 1, src: 'data:image/svg+xml;base64,PHN2Zz4=' },
      { corruption: 'x', severity: 1, src: `data:image/png;base64,${png}"><script>` },
      { corruption: 'zoom_blur', severity: 2, png },
    ]);
    assert.deepEqual(list?.map((t) => t.corruption), ['fog', 'zoom_blur']);
    assert.equal(list?.[1].src, `data:image/png;base64,${png}`);
    const byName = readThumbnails({ fog: [`data:image/png;base64,${png}`, `data:image/png;base64,${png}`] });
    assert.deepEqual(byName?.map((t) => t.severity), [1, 2]);
    assert.equal(readThumbnails('nope'), undefined);
  });
});
