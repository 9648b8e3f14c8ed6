// Issue #12, in process: every read is bounded (type, size, decompression), the metrics readers
// keep one record per step, a resume's cut and temp-file cleanup, the linear comment stripper.
// The process-level attacks are in attackSuite.test.ts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '../../../src/engine/data/idx';
import { removeStaleTemps } from '../../../src/engine/run/atomic';
import { cutMetricsAfter } from '../../../src/engine/run/metricsTruncate';
import { checkpointFits, configHash, legacyConfigHash } from '../../../src/engine/train/trainer';
import { FileReadError, folderProblem, readBounded } from '../../../src/engine/util/boundedRead';
import { FileTail } from '../../../src/extension/fileTail';
import { MAX_LINE_BYTES, MetricsTail } from '../../../src/extension/metricsTail';
import { RUN_FILE_CAPS, readLogTail, readSmallFile, readSmallFileOrExplain } from '../../../src/extension/readSmall';
import { claimQueued, readQueueRecord, readStatus } from '../../../src/extension/runFolderWrites';
import { RunFolderReader } from '../../../src/extension/runSnapshot';
import { writeFakeRun } from '../../fixtures/runFolder';
import { DEFAULT_CONFIG, resolveConfig, stripJsonComments } from '../../../src/shared/config';
import { addMetricsRecord, oneRecordPerStep, parseMetricsLines, type MetricsRecord } from '../../../src/shared/runFormat';
import { SeededRandom, rmDir, tmpDir } from './helpers';
import { countingReadSync } from '../readCounter';

const S = (step: number): MetricsRecord => ({ v: 1, kind: 'step', t: '', step, epoch: 0, lr: 0.1, loss: step, clean: { loss: 1, acc: 0, images: 1 }, imagesPerSecond: 1, passes: { clean: step, attack: 0, adv: 0 } });
const E = (step: number, event: string): MetricsRecord => ({ v: 1, kind: 'event', t: '', step, event, message: event });
const P = (step: number): MetricsRecord => ({ v: 1, kind: 'epoch', t: '', epoch: 0, step, test: { loss: 1, acc: 0 }, train: { loss: 1, acc: 0 }, seconds: 0 });
const label = (rs: MetricsRecord[]): string => rs.map((r) => `${r.kind[0]}${r.step}${r.kind === 'event' ? `:${r.event}` : ''}`).join(' ');

/** The comment stripper as it was (character by character, quadratic on huge inputs): the oracle. */
function referenceStrip(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i++;
    } else if (ch === '"') {
      inString = true;
      out += ch;
      i++;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const chunk = end < 0 ? text.slice(i) : text.slice(i, end + 2);
      out += chunk.replace(/[^\n]/g, ' ');
      i = end < 0 ? text.length : end + 2;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

describe('reliability: bounded reads, one record per step (in process)', () => {
  let tmp: string;
  before(() => {
    tmp = tmpDir('bounded');
  });
  after(() => rmDir(tmp));

  it('readBounded refuses a FIFO, a character device, a folder, a symlink loop and an oversized file, naming the file; it never blocks', function () {
    if (process.platform === 'win32') this.skip();
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const loop = path.join(tmp, 'loop-a');
    fs.symlinkSync(path.join(tmp, 'loop-b'), loop);
    fs.symlinkSync(loop, path.join(tmp, 'loop-b'));
    const big = path.join(tmp, 'big');
    fs.writeFileSync(big, Buffer.alloc(2048));
    const cases: [string, number, RegExp][] = [
      [fifo, 1e6, /is a FIFO \(named pipe\), not a regular file/],
      ['/dev/zero', 1e6, /is a character device, not a regular file/],
      [tmp, 1e6, /is a folder, not a regular file/],
      [loop, 1e6, /symbolic link loop \(ELOOP\)/],
      [big, 1024, /is 2048 bytes, more than a test file may hold \(1024 bytes\)/],
      [path.join(tmp, 'missing'), 1e6, /cannot be read: not found/],
    ];
    for (const [file, max, re] of cases) {
      assert.throws(() => readBounded(file, max, 'a test file'), (e: unknown) => e instanceof FileReadError && e.message.startsWith(`${file}: `) && re.test(e.message), file);
    }
    assert.equal(readBounded(big, 2048).length, 2048);
    assert.equal(readSmallFile(fifo, 1e6), undefined, 'the extension reader blocks on or reads a FIFO');
    assert.equal(readSmallFile('/dev/zero', 1e6), undefined);
    assert.equal(readSmallFile(big, 1024), undefined);
    assert.match(folderProblem(loop) ?? '', /ELOOP/);
    assert.match(folderProblem(big) ?? '', /is a file, not a folder/);
  });

  it('a gzipped IDX file that inflates past the cap is refused naming the file, before the output is allocated', () => {
    const raw = encodeIdx([64, 64, 64], new Uint8Array(64 * 64 * 64));
    const gz = gzipSync(raw);
    assert.ok(gz.length < 2000);
    assert.throws(() => parseIdx(gz, 'bomb.gz', 3, 100_000), /bomb\.gz: inflates to more than 100000 bytes/);
    assert.deepEqual(parseIdx(gz, 'ok.gz', 3, raw.length).dims, [64, 64, 64]);
  });

  it('addMetricsRecord: a resume supersedes what the killed session wrote after its checkpoint; a repeated step keeps its last write; a grown list keeps its identity', () => {
    assert.equal(label(oneRecordPerStep([S(1), S(2), P(2), S(3), S(4), E(2, 'resume'), S(3), S(4), S(5)])), 's1 s2 e2 e2:resume s3 s4 s5');
    assert.equal(label(oneRecordPerStep([S(1), S(2), S(3), S(2), S(3)])), 's1 s2 s3');
    assert.equal(label(oneRecordPerStep([S(1), S(2), E(2, 'stopped'), E(2, 'resume'), S(3)])), 's1 s2 e2:stopped e2:resume s3');
    assert.equal(label(oneRecordPerStep([S(1), S(2), S(3), E(0, 'restart'), S(1)])), 'e0:restart s1');
    // Records that do not rewind (an epoch record written late, as a hand-made folder may) are kept in place.
    assert.equal(label(oneRecordPerStep([S(1), S(2), S(3), S(4), P(2), E(1, 'leak')])), 's1 s2 s3 s4 e2 e1:leak');
    const again = oneRecordPerStep([S(1), S(2), S(2)]);
    assert.equal(again[1].kind === 'step' && again[1].loss, 2);
    const list = [S(1)];
    assert.equal(addMetricsRecord(list, S(2)), list);
    assert.notEqual(addMetricsRecord(list, S(1)), list);
    // Random interleavings of sessions: the result is always strictly increasing in step records.
    const rnd = new SeededRandom(12);
    for (let n = 0; n < 300; n++) {
      const recs: MetricsRecord[] = [];
      let at = 0;
      for (let k = 0; k < 40; k++) {
        if (rnd.chance(0.15)) {
          at = rnd.int(at + 1);
          recs.push(E(at, 'resume'));
        } else recs.push(S(++at));
      }
      const steps = oneRecordPerStep(recs).filter((r) => r.kind === 'step').map((r) => r.step);
      assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]), `case ${n}: ${steps.join(',')}`);
      assert.equal(steps[steps.length - 1] ?? 0, at, `case ${n}: the last step is not where the last session stopped`);
    }
  });

  it('cutMetricsAfter drops the records after the checkpoint step and a torn line (temp + rename), keeps garbage lines, and leaves a file with nothing to cut untouched', () => {
    const f = path.join(tmp, 'metrics.jsonl');
    const line = (r: MetricsRecord): string => `${JSON.stringify(r)}\n`;
    fs.writeFileSync(f, [S(1), S(2), P(2), E(2, 'x')].map(line).join('') + 'garbage\n' + [S(3), S(4)].map(line).join('') + '{"v":1,"kind":"st');
    assert.equal(cutMetricsAfter(f, 2), 3);
    const text = fs.readFileSync(f, 'utf8');
    assert.equal(label(parseMetricsLines(text).records), 's1 s2 e2 e2:x');
    assert.ok(text.includes('garbage\n') && text.endsWith('\n'));
    const ino = fs.statSync(f).ino;
    assert.equal(cutMetricsAfter(f, 2), 0);
    assert.equal(fs.statSync(f).ino, ino, 'a file with nothing to cut was rewritten');
    assert.equal(cutMetricsAfter(path.join(tmp, 'none.jsonl'), 2), 0);
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp')), []);
  });

  it('removeStaleTemps removes what a killed writer left (.<name>.<pid>.<n>.tmp) and nothing else', () => {
    const d = path.join(tmp, 'ckpts');
    fs.mkdirSync(d);
    for (const n of ['.last.ckpt.4242.0.tmp', '.status.json.1.7.tmp', 'last.ckpt', 'epoch-1.ckpt', 'notes.tmp', '.hidden']) fs.writeFileSync(path.join(d, n), 'x');
    assert.deepEqual(removeStaleTemps(d).sort(), ['.last.ckpt.4242.0.tmp', '.status.json.1.7.tmp']);
    assert.deepEqual(fs.readdirSync(d).sort(), ['.hidden', 'epoch-1.ckpt', 'last.ckpt', 'notes.tmp']);
  });

  it('MetricsTail reads only new bytes and skips an over-long torn line once, never re-reading it on later polls', () => {
    const f = path.join(tmp, 'tail.jsonl');
    fs.writeFileSync(f, `${JSON.stringify(S(1))}\n${'x'.repeat(3 * MAX_LINE_BYTES)}`);
    const tail = new MetricsTail(f);
    countingReadSync((bytes) => {
      tail.read();
      const first = bytes();
      assert.ok(first > 3 * MAX_LINE_BYTES, 'the first poll did not reach the end of the long line');
      for (let i = 0; i < 5; i++) tail.read();
      assert.equal(bytes(), first, 'later polls re-read the over-long line');
      fs.appendFileSync(f, `yyy\n${JSON.stringify(S(2))}\n`);
      tail.read();
      assert.ok(bytes() - first < 1000, `the poll after new lines read ${bytes() - first} bytes`);
    });
    assert.deepEqual(tail.records.map((r) => r.step), [1, 2]);
    assert.equal(tail.skipped, 1);
  });

  it('FileTail (the engine console in the output channel) delivers whole lines, skips an over-long line once with a note, and never re-reads it', () => {
    const f = path.join(tmp, 'console.log');
    fs.writeFileSync(f, `one\ntwo\r\n${'z'.repeat(3 * MAX_LINE_BYTES)}`);
    const lines: string[] = [];
    const tail = new FileTail(f, (l) => lines.push(l));
    countingReadSync((bytes) => {
      tail.read();
      const first = bytes();
      for (let i = 0; i < 5; i++) tail.read();
      assert.equal(bytes(), first, 'later polls re-read the over-long line');
      fs.appendFileSync(f, 'zz\nthree\npart');
      tail.read();
      assert.ok(bytes() - first < 100);
      tail.flush();
    });
    assert.deepEqual(lines, ['one', 'two', '[a line over 1 MiB was skipped]', 'three', 'part']);
  });

  it('a hand-written run folder with its epoch records after all step records (as the UI fixtures write them) keeps every record', () => {
    const run = path.join(tmp, 'fake-run');
    writeFakeRun(run, {
      name: 'fake-run', epochs: 2, stepsPerEpoch: 4, milestones: [1], writtenBy: 'boundedInputs',
      epochRecords: [{ epoch: 0, step: 4, test: { loss: 1.5, acc: 0.5 }, train: { loss: 1.6, acc: 0.45 }, seconds: 1 }],
    });
    const reader = new RunFolderReader(run);
    reader.poll();
    assert.equal(label(reader.snapshot.metrics), 's1 s2 s3 s4 s5 s6 s7 s8 e4');
  });

  it('the checkpoint hash covers what determines the weights but not dataset.path, and checkpoints hashed with the path (before) still fit', () => {
    const at = (p: string) => resolveConfig({ dataset: { name: 'idx', path: p } });
    assert.equal(configHash(at('/data/a')), configHash(at('/data/b')), 'moving the dataset changes the hash');
    assert.notEqual(legacyConfigHash(at('/data/a')), legacyConfigHash(at('/data/b')));
    assert.ok(checkpointFits(legacyConfigHash(at('/data/a')), at('/data/a')), 'a checkpoint from before no longer fits its own run');
    assert.ok(!checkpointFits(legacyConfigHash(at('/data/a')), at('/data/b')));
    // The embedded dataset has no path: both hashes agree, so every existing default-dataset run resumes.
    assert.equal(configHash(DEFAULT_CONFIG), legacyConfigHash(DEFAULT_CONFIG));
    for (const edit of [{ lr: 0.05 }, { seed: 1 }, { dataset: { name: 'idx', path: '/data/a', trainLimit: 10 } }, { attack: { steps: 2 } }, { leak: { window: 6 } }]) {
      assert.ok(!checkpointFits(configHash(at('/data/a')), resolveConfig(edit, at('/data/a'))), `${JSON.stringify(edit)} does not change the hash`);
    }
    for (const same of [{ maxSteps: 7 }, { workers: 2 }, { backend: 'cpu' }, { logEvery: 3 }, { name: 'x' }, { autoEvaluate: true }]) {
      assert.ok(checkpointFits(configHash(at('/data/a')), resolveConfig(same, at('/data/a'))), `${JSON.stringify(same)} changes the hash`);
    }
  });

  it('MetricsTail over a resume that re-appends steps (an engine that did not cut): one record per step, and a new array so followers resend', () => {
    const f = path.join(tmp, 'resumed.jsonl');
    const line = (r: MetricsRecord): string => `${JSON.stringify(r)}\n`;
    fs.writeFileSync(f, [S(1), S(2), S(3)].map(line).join(''));
    const tail = new MetricsTail(f);
    tail.read();
    const before = tail.records;
    fs.appendFileSync(f, [E(2, 'resume'), S(3), S(4)].map(line).join(''));
    tail.read();
    assert.notEqual(tail.records, before);
    assert.equal(label(tail.records), 's1 s2 e2:resume s3 s4');
  });

  it('stripJsonComments equals the character-by-character stripper on 20,000 random texts, and strips a 60 MB comment whole', () => {
    const alphabet = ['/', '*', '"', '\\', '\n', 'a', '{', '}', ' ', ':'];
    const rnd = new SeededRandom(7);
    for (let n = 0; n < 20000; n++) {
      let t = '';
      const len = rnd.int(24);
      for (let j = 0; j < len; j++) t += rnd.pick(alphabet);
      assert.equal(stripJsonComments(t), referenceStrip(t), JSON.stringify(t));
    }
    const huge = `{"lr": 0.1 /*${'x'.repeat(60e6)}*/}`;
    assert.equal(stripJsonComments(huge).length, huge.length);
  });
});

describe('reliability: the extension\'s job files are read with bounds too', () => {
  const dir = tmpDir('fap-jobfiles-');
  after(() => rmDir(dir));

  it('a run config on Start Training: a FIFO, a device, a folder and an oversized file each say why, without blocking', () => {
    const fifo = path.join(dir, 'fifo.advprop.json');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(dir, 'big.advprop.json');
    fs.writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 0x20));
    const why = (f: string): string => {
      const r = readSmallFileOrExplain(f, RUN_FILE_CAPS.runConfig);
      assert.ok('why' in r, f);
      return r.why;
    };
    assert.match(why(fifo), /not a regular file \(a FIFO\)/);
    assert.match(why('/dev/zero'), /not a regular file \(a device\)/);
    assert.match(why(dir), /is a folder/);
    assert.match(why(big), /2\.0 MiB, more than 1 MiB/);
    assert.match(why(path.join(dir, 'missing.json')), /does not exist/);
    const ok = path.join(dir, 'ok.advprop.json');
    fs.writeFileSync(ok, '{"epochs": 2}');
    assert.deepEqual(readSmallFileOrExplain(ok, RUN_FILE_CAPS.runConfig), { text: '{"epochs": 2}' });
  });

  it('queue.json and status.json as FIFOs or oversized read as absent; a failed job shows only the end of a huge console file', () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    execFileSync('mkfifo', [path.join(run, 'queue.json')]);
    execFileSync('mkfifo', [path.join(run, 'status.json')]);
    assert.equal(readQueueRecord(run), undefined);
    assert.equal(readStatus(run), undefined);
    assert.equal(claimQueued(run), undefined);
    const log = path.join(dir, 'console.log');
    fs.writeFileSync(log, `${'x'.repeat(300_000)}\nlast line\n`);
    const tail = readLogTail(log, 0);
    assert.ok(tail.length <= 64 * 1024 && tail.endsWith('last line\n'), String(tail.length));
    assert.equal(readLogTail(log, fs.statSync(log).size - 10), 'last line\n');
    assert.equal(readLogTail(path.join(run, 'queue.json'), 0), '');
  });
});
