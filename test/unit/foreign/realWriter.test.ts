// Event files written by a real TensorBoard writer (tensorboardX, test/fixtures/foreign/
// write_fixtures.py), not by our own encoder: what we read must equal what the writer was given.
// FAST_ADVPROP_FOREIGN_FIXTURES points at another writer's output (write_fixtures_torch.py).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventFileFollower, readForeignRunFolder } from '../../../src/extension/foreign/foreignRunFolder';
import { readEventBytes } from '../../../src/shared/foreign/eventFileReader';
import type { ScalarPoint } from '../../../src/shared/foreign/eventProto';
import { TfRecordReader } from '../../../src/shared/foreign/tfrecord';

const FIXTURES = process.env.FAST_ADVPROP_FOREIGN_FIXTURES ?? path.join(__dirname, '../../../../test/fixtures/foreign');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as { writer: string; runs: Record<string, Record<string, [number, number][]>> };

function eventFileOf(run: string): string {
  const name = fs.readdirSync(path.join(FIXTURES, run)).find((n) => n.startsWith('events.out.tfevents.'));
  assert.ok(name, `${run} has no event file`);
  return path.join(FIXTURES, run, name);
}

function byTag(scalars: readonly ScalarPoint[]): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  for (const s of scalars) (out[s.tag] ??= []).push([s.step, s.value]);
  return out;
}

/** Name, size, mtime and content of everything in a folder. */
function fingerprint(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((n) => {
    const st = fs.statSync(path.join(dir, n));
    return `${n}:${st.size}:${st.mtimeMs}:${fs.readFileSync(path.join(dir, n)).toString('base64')}`;
  });
}

describe(`event files from a real writer (${EXPECTED.writer})`, () => {
  for (const run of Object.keys(EXPECTED.runs)) {
    it(`${run}: every scalar read equals the value written, at its step, and nothing else is a scalar`, () => {
      const file = eventFileOf(run);
      const got = readEventBytes(file, fs.readFileSync(file));
      assert.equal(got.error, undefined);
      assert.equal(got.wholeBytes, fs.statSync(file).size);
      assert.deepEqual(byTag(got.scalars), EXPECTED.runs[run]);
    });
  }

  it('the reference folder maps onto our model: streams, LR, test accuracy as fractions, ImageNet-C, log.txt agreeing', () => {
    const dir = path.join(FIXTURES, 'reference-run');
    const before = fingerprint(dir);
    const run = readForeignRunFolder(dir)!;
    assert.equal(run.origin, 'PyTorch reference');
    assert.deepEqual(run.warnings, []);
    const exp = EXPECTED.runs['reference-run'];
    assert.equal(run.epochs.length, exp['Train/acc'].length);
    run.epochs.forEach((e, i) => {
      assert.equal(e.epoch, i);
      assert.equal(e.clean?.acc, exp['Train/acc'][i][1] / 100);
      assert.equal(e.noise?.loss, exp['Train/loss_attack'][i][1]);
      assert.equal(e.adv?.acc, exp['Train/acc_adv'][i][1] / 100);
      assert.equal(e.test?.acc, exp['Test/acc'][i][1] / 100);
      assert.equal(e.lr, exp['Train/lr'][i][1]);
    });
    // log.txt holds the same epochs at %.6f: it agrees with the event file to that precision.
    const rows = fs.readFileSync(path.join(dir, 'log.txt'), 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split('\t').map(Number));
    rows.forEach((r, i) => assert.ok(Math.abs(r[4] / 100 - run.epochs[i].test!.acc!) < 1e-6, `log.txt row ${i}`));
    assert.equal(Object.keys(run.imagenetC?.corruptions ?? {}).length, 19);
    assert.deepEqual(fingerprint(dir), before, 'reading wrote nothing');
  });

  it('the TF2-style folder (rank-0 tensors, a histogram, a text summary) reads as TensorBoard with the same streams', () => {
    const run = readForeignRunFolder(path.join(FIXTURES, 'tensorboard-run'))!;
    assert.equal(run.origin, 'TensorBoard');
    const exp = EXPECTED.runs['tensorboard-run'];
    assert.deepEqual(run.epochs.map((e) => e.adv?.loss), exp['Train/loss_adv'].map(([, v]) => v));
    assert.deepEqual(run.epochs.map((e) => e.test?.acc), exp['Test/acc'].map(([, v]) => v / 100));
    assert.deepEqual(Object.keys(run.extra), [], 'the histogram and the text are not series');
  });

  it('timm: summary.csv and args.yaml as csv.DictWriter and yaml.safe_dump wrote them', () => {
    const run = readForeignRunFolder(path.join(FIXTURES, 'timm-run'))!;
    assert.equal(run.origin, 'timm');
    assert.deepEqual(run.description, { model: 'resnet50', epochs: 8, batchSize: 128, lr: 0.05 });
    const rows = fs.readFileSync(path.join(FIXTURES, 'timm-run', 'summary.csv'), 'utf8').split('\r\n').filter(Boolean).slice(1).map((l) => l.split(',').map(Number));
    assert.deepEqual(run.epochs.map((e) => [e.epoch, e.clean?.loss, e.test?.loss, e.test?.acc, e.test?.top5, e.lr]),
      rows.map((r) => [r[0], r[1], r[2], r[3] / 100, r[4] / 100, r[5]]));
  });

  it('a flipped bit in a real record stops the read there with one error; the records before it are kept', () => {
    const file = eventFileOf('reference-run');
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = readEventBytes(file, bytes);
    const at = Math.floor(bytes.length / 2);
    bytes[at] ^= 0x01;
    const got = readEventBytes(file, bytes);
    assert.match(got.error ?? '', /corrupt record at byte \d+ \((data|length) CRC mismatch\); read stops there/);
    assert.ok(got.scalars.length > 0 && got.scalars.length < whole.scalars.length);
    assert.deepEqual(got.scalars, whole.scalars.slice(0, got.scalars.length));
    assert.ok(got.wholeBytes <= at);
  });

  it('a real file cut anywhere reads the whole records before the cut, no error, and the rest once it arrives', () => {
    const file = eventFileOf('reference-run');
    const bytes = new Uint8Array(fs.readFileSync(file));
    const whole = readEventBytes(file, bytes).scalars;
    for (let cut = 1; cut < bytes.length; cut += 97) {
      const r = new TfRecordReader(file);
      const first = r.push(bytes.subarray(0, cut));
      assert.equal(first.error, undefined, `cut at ${cut}`);
      assert.ok(r.offset <= cut && r.offset + r.heldBack === cut);
      const rest = r.push(bytes.subarray(cut));
      assert.equal(rest.error, undefined);
      assert.equal(first.records.length + rest.records.length, 1 + whole.length, `cut at ${cut}`);
    }
  });

  it('50 MB of the real writer\'s records: read in bounded pieces, one record held back at most, every value', function () {
    this.timeout(240_000);
    const src = fs.readFileSync(eventFileOf('tensorboard-run'));
    const once = readEventBytes('src', src);
    const biggest = Math.max(...new TfRecordReader('src').push(src).records.map((r) => r.length + 16));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-50mb-'));
    try {
      const file = path.join(dir, 'events.out.tfevents.1700000000.big');
      const copies = Math.ceil((50 * 1024 * 1024) / src.length);
      const fd = fs.openSync(file, 'w');
      for (let i = 0; i < copies; i++) fs.writeSync(fd, src);
      fs.closeSync(fd);
      const follower = new EventFileFollower(file);
      let count = 0;
      let lastOfCopy: ScalarPoint | undefined;
      let worstHeld = 0;
      let biggestSink = 0;
      const got = follower.poll((points) => {
        count += points.length;
        biggestSink = Math.max(biggestSink, points.length);
        if (points.length) lastOfCopy = points[points.length - 1];
        worstHeld = Math.max(worstHeld, follower.position - follower.wholeRecordBytes);
      });
      assert.equal(got.error, undefined);
      assert.equal(got.bytes, copies * src.length);
      assert.equal(got.scalars.length, 0, 'with a sink nothing is gathered');
      assert.equal(count, copies * once.scalars.length);
      assert.deepEqual(lastOfCopy, once.scalars[once.scalars.length - 1]);
      // Each sink call carries one 1 MiB read's scalars, never the file's.
      assert.ok(biggestSink < count / 10, `one sink call took ${biggestSink} of ${count} scalars`);
      assert.ok(worstHeld < biggest, `held back ${worstHeld} bytes between reads, more than one record (${biggest})`);
      this.test!.title += ` [${((copies * src.length) / 1024 / 1024).toFixed(1)} MB]`;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
