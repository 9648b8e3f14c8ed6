// Foreign runs in the views: the snapshot the Runs view, dashboard, robustness panel and Compare
// read, built from the real-writer fixtures; the menus that hide Stop / Resume / Evaluate / Delete;
// and that following a folder reads only new bytes and writes nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readForeignRunFolder } from '../../../src/extension/foreign/foreignRunFolder';
import { foreignRefusal } from '../../../src/extension/foreign/foreignLabels';
import { ForeignRunReader, extraRunDirs, resolveExtraFolder } from '../../../src/extension/foreign/foreignRunReader';
import { foreignSnapshot } from '../../../src/extension/foreign/foreignSnapshot';
import { compareData, readRobustness } from '../../../src/extension/panels/runData';
import { groupRuns, runContextValue, runDescription, runGroupOf, runLabel, runTooltip } from '../../../src/extension/runGroups';
import { bestTestAccuracy, leakFlagged, mceOf } from '../../../src/extension/runSummary';
import type { RunSnapshot } from '../../../src/extension/runSnapshot';
import { currentLeak, leakStateLine, seriesFrom } from '../../../src/shared/protocol/dashboardModel';
import { buildResultsTable, toCsv, toMarkdown } from '../../../src/shared/protocol/resultsTable';
import { countingReadSync } from '../readCounter';
import { concat, eventBytes } from './eventFixtures';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/foreign');
const REPO = path.join(__dirname, '../../../..');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')).runs as Record<string, Record<string, [number, number][]>>;

function snapOf(name: string): RunSnapshot {
  const dir = path.join(FIXTURES, name);
  return foreignSnapshot(dir, name, readForeignRunFolder(dir)!, 0);
}

/** Name, size, mtime and bytes of everything under a folder. */
function fingerprint(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort().map((n) => {
    const f = path.join(dir, n);
    const st = fs.statSync(f);
    return `${n}:${st.size}:${st.mtimeMs}:${st.isFile() ? fs.readFileSync(f).toString('base64') : 'dir'}`;
  });
}

describe('foreign runs in the views', () => {
  it('a reference run: origin in its name, one record per epoch with all three streams, last test accuracy as its result', () => {
    const s = snapOf('reference-run');
    const exp = EXPECTED['reference-run'];
    assert.equal(s.name, 'reference-run (PyTorch reference)');
    assert.equal(s.foreign?.origin, 'PyTorch reference');
    const series = seriesFrom(s.metrics);
    assert.deepEqual(series.trainAcc.adv.map((p) => [p.x, p.y]), exp['Train/acc_adv'].map(([e, v]) => [e + 1, (v / 100) * 100]));
    assert.deepEqual(series.loss.noise.map((p) => p.y), exp['Train/loss_attack'].map(([, v]) => v));
    assert.deepEqual(series.lr.map((p) => p.y), exp['Train/lr'].map(([, v]) => v));
    // The test-accuracy chart counts epochs from 1 as the stream charts do here.
    assert.deepEqual(series.testAcc.map((p) => p.x), exp['Test/acc'].map(([e]) => e + 1));
    assert.equal(series.imagesPerSecond.length, 0, 'no throughput is made up');
    const last = exp['Test/acc'][exp['Test/acc'].length - 1][1] / 100;
    assert.equal(s.results?.clean.accuracy, last);
    assert.equal(bestTestAccuracy(s), Math.max(...exp['Test/acc'].map(([, v]) => v / 100)));
    assert.equal(s.results?.wallSeconds, 3600 * 7, 'from the first to the last epoch stamp the writer was given');
  });

  it('its ImageNet-C log is a robustness record the shared reader accepts: mCE and the 19 corruptions in Compare', () => {
    const s = snapOf('reference-run');
    const r = readRobustness(s.robustness);
    assert.equal(r.error, undefined);
    assert.equal(r.record?.source, 'imagenet-c-log');
    assert.equal(Object.keys(r.record!.corruptions).length, 19);
    assert.ok(mceOf(s.robustness)?.label === 'mCE');
    const table = buildResultsTable([compareData(s)]);
    assert.equal(table.rows[0].name, 'reference-run (PyTorch reference)');
    assert.ok(Math.abs(table.rows[0].values.clean! - s.results!.clean.accuracy * 100) < 1e-9);
    assert.equal(table.rows[0].values.mCE, r.record!.summary.mCE);
    assert.ok(table.columns.some((c) => c.key === 'c:saturate'));
    // Exported, the row says where the run came from.
    const csv = toCsv(table).split('\n');
    assert.match(csv[1], new RegExp(`^reference-run \\(PyTorch reference\\),${Math.floor(s.results!.clean.accuracy * 100)}\\.\\d+,`));
    assert.ok(toMarkdown(table).includes(`| reference-run (PyTorch reference) | ${(s.results!.clean.accuracy * 100).toFixed(2)} |`));
  });

  it('the leak alarm: Train/acc_adv climbing above Train/acc flags; the healthy run does not', () => {
    const leaky = snapOf('reference-leak');
    assert.ok(leakFlagged(leaky));
    const flag = currentLeak(undefined, leaky.results, leaky.metrics);
    assert.ok(flag?.flagged);
    assert.ok(flag!.adv > flag!.clean + 0.02);
    assert.match(flag!.message, /over the last 3 epochs/);
    const healthy = snapOf('reference-run');
    assert.equal(leakFlagged(healthy), false);
    assert.equal(currentLeak(undefined, healthy.results, healthy.metrics), undefined);
    assert.match(leakStateLine(undefined, undefined, healthy.results, healthy.metrics)?.text ?? '', /^no leak: adv \d+ % < clean \d+ %$/);
  });

  it('in the Runs view under a group named for its writer, with a context value no Stop / Resume / Evaluate / Delete clause matches', () => {
    const s = snapOf('reference-run');
    assert.equal(runGroupOf(s), 'reference');
    assert.equal(runGroupOf(snapOf('timm-run')), 'timm');
    assert.equal(runGroupOf(snapOf('tensorboard-run')), 'tensorboard');
    assert.deepEqual(groupRuns([s, snapOf('timm-run')]).map((g) => g.label), ['PyTorch reference', 'timm']);
    assert.equal(runContextValue(s), 'foreign.evaluated');
    assert.equal(runContextValue(snapOf('timm-run')), 'foreign');
    assert.equal(runLabel(s), 'reference-run');
    // The group names the origin; the row keeps its room for the best test accuracy and the mCE of its ImageNet-C log.
    assert.match(runDescription(s), /^\d+\.\d% · mCE \d+\.\d$/);
    assert.match(runDescription(snapOf('reference-leak')), /^\d+\.\d% · ⚠ leak$/);
    assert.match(runTooltip(s), /Written by: PyTorch reference \(read-only/);
    assert.match(runTooltip(snapOf('timm-run')), /Args: model resnet50, 8 epochs, batch 128, lr 0.05/);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const items = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const shown = (value: string): Set<string> => new Set(items.filter((m) => {
      const re = /viewItem =~ \/(.*?)\/(?: |$)/.exec(m.when);
      return re && new RegExp(re[1]).test(value);
    }).map((m) => m.command));
    for (const value of ['foreign', 'foreign.evaluated']) {
      const cmds = shown(value);
      for (const hidden of ['fastAdvprop.stopTraining', 'fastAdvprop.resumeTraining', 'fastAdvprop.evaluateRobustness', 'fastAdvprop.deleteRun', 'fastAdvprop.showLog']) {
        assert.ok(!cmds.has(hidden), `${hidden} shows for ${value}`);
      }
      for (const kept of ['fastAdvprop.openDashboard', 'fastAdvprop.addToComparison', 'fastAdvprop.revealRun']) assert.ok(cmds.has(kept), `${kept} hidden for ${value}`);
    }
    assert.ok(shown('foreign.evaluated').has('fastAdvprop.openRobustness'));
    // Our own runs keep theirs.
    assert.ok(shown('run.stopped').has('fastAdvprop.resumeTraining') && shown('run.completed').has('fastAdvprop.evaluateRobustness'));
    assert.ok(pkg.contributes.configuration.properties['fastAdvprop.extraRunFolders']);
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('fastAdvprop.extraRunFolders'));
  });

  it('a palette call of Stop / Resume / Evaluate / Delete on a foreign run refuses in one line', () => {
    const s = snapOf('tensorboard-run');
    assert.match(foreignRefusal('Resume Training', s) ?? '', /^Fast AdvProp: Resume Training is not available for "tensorboard-run \(TensorBoard\)": it was written by TensorBoard/);
    assert.equal(foreignRefusal('Resume Training', { name: 'ours' }), undefined);
  });

  it('extra folders: a run folder stands for itself, a folder of runs for its runs; ~ and relative paths resolve', () => {
    assert.deepEqual(extraRunDirs([path.join(FIXTURES, 'timm-run')]), [path.join(FIXTURES, 'timm-run')]);
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-parent-'));
    try {
      for (const n of ['reference-run', 'timm-run']) fs.symlinkSync(path.join(FIXTURES, n), path.join(parent, n));
      fs.mkdirSync(path.join(parent, 'not-a-run'));
      fs.writeFileSync(path.join(parent, 'notes.md'), '');
      assert.deepEqual(extraRunDirs([parent]).map((d) => path.basename(d)).sort(), ['reference-run', 'timm-run']);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
    assert.deepEqual(extraRunDirs([path.join(FIXTURES, 'no-such-folder')]), []);
    assert.equal(resolveExtraFolder('~/runs', '/ws'), path.join(os.homedir(), 'runs'));
    assert.equal(resolveExtraFolder('out/train', '/ws'), '/ws/out/train');
    assert.equal(resolveExtraFolder('out/train', undefined), undefined);
    assert.equal(resolveExtraFolder('  ', '/ws'), undefined);
  });

  it('following a folder: an unchanged poll reads no byte and keeps its snapshot; a new record costs its own bytes; nothing is written', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-views-'));
    try {
      for (const n of fs.readdirSync(path.join(FIXTURES, 'reference-run'))) fs.copyFileSync(path.join(FIXTURES, 'reference-run', n), path.join(dir, n));
      const events = path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith('events.out'))!);
      const reader = new ForeignRunReader(dir);
      assert.equal(reader.poll(), true);
      const first = reader.snapshot;
      const before = fingerprint(dir);
      countingReadSync((bytes) => {
        assert.equal(reader.poll(), false);
        assert.equal(bytes(), 0, 'an unchanged folder is a few stats');
        assert.equal(reader.snapshot, first, 'an unchanged poll keeps the snapshot (and the metrics the dashboard holds)');
      });
      assert.deepEqual(fingerprint(dir), before, 'reading wrote nothing');
      const rec = concat([eventBytes({ wall_time: 1.8e9, step: 8, values: [{ tag: 'Test/acc', simple_value: 70.5 }, { tag: 'Train/acc', simple_value: 72 }] })]);
      fs.appendFileSync(events, rec);
      countingReadSync((bytes) => {
        assert.equal(reader.poll(), true);
        assert.equal(bytes(), rec.length, 'only the appended record is read');
      });
      assert.equal(reader.snapshot.results?.clean.accuracy, 0.705);
      assert.equal(reader.snapshot.metrics.filter((m) => m.kind === 'step').length, 9);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the fixtures themselves are unchanged by building every view of them', () => {
    const before = fingerprint(FIXTURES);
    for (const name of ['reference-run', 'reference-leak', 'tensorboard-run', 'timm-run']) {
      const r = new ForeignRunReader(path.join(FIXTURES, name));
      r.poll();
      r.poll();
      compareData(r.snapshot);
      readRobustness(r.snapshot.robustness);
    }
    assert.deepEqual(fingerprint(FIXTURES), before);
  });
});
