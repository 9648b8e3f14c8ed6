// Corrupt or truncated inputs: readers skip what they cannot use and say so; the CLI refuses a
// damaged checkpoint, config record or dataset with a one-line message and exit 2 — never a stack.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { RunFolderReader } from '../../../src/extension/runSnapshot';
import { MetricsTail } from '../../../src/extension/metricsTail';
import { runGroupOf } from '../../../src/extension/runGroups';
import { CheckpointError, decodeCheckpoint, loadCheckpoint } from '../../../src/engine/run/checkpoint';
import { parseMetricsLines, parseStatus } from '../../../src/shared/runFormat';
import { TINY_CONFIG, readText, requireCli, rmDir, runCli, tmpDir, writeJson, type CliResult } from './helpers';

const STEP = (step: number): string => JSON.stringify({ v: 1, kind: 'step', t: '2025-01-01T00:00:00Z', step, epoch: 0, lr: 0.1, loss: 2, clean: { loss: 2, acc: 0.1, images: 16 }, imagesPerSecond: 1, passes: { clean: 1, attack: 0, adv: 0 } });

function assertCleanRefusal(res: CliResult, what: RegExp, label: string): void {
  const lines = res.stderr.split('\n').filter(Boolean);
  assert.equal(res.code, 2, `${label}: exit ${res.code} (signal ${res.signal}); stderr ${res.stderr.slice(0, 500)}`);
  assert.ok(!/\n\s+at /.test(res.stderr), `${label}: printed a stack trace:\n${res.stderr.slice(0, 800)}`);
  assert.equal(lines.length, 1, `${label}: stderr is not one line:\n${res.stderr.slice(0, 500)}`);
  assert.match(lines[0], /^error: /, label);
  assert.match(lines[0], what, `${label}: ${lines[0]}`);
}

describe('reliability: corrupt metrics and status are read tolerantly (extension readers)', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir('corrupt-read')));
  afterEach(() => rmDir(dir));

  it('metrics.jsonl with garbage lines and a torn last line: good records kept, garbage reported, torn line dropped silently', () => {
    const text = [STEP(1), 'garbage{', '', '\u0000\u0000\u0000', STEP(2), '[1,2,3]', '{"no":"kind"}', STEP(3), 'x'.repeat(100000), STEP(4)].join('\n') + '\n' + STEP(5).slice(0, 40);
    const { records, skipped } = parseMetricsLines(text);
    assert.deepEqual(records.map((r) => r.kind === 'step' && r.step), [1, 2, 3, 4]);
    assert.deepEqual(skipped.map((s) => s.line), [2, 4, 6, 7, 9]);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), text);
    const tail = new MetricsTail(path.join(dir, 'metrics.jsonl'));
    assert.equal(tail.read(), 4);
    assert.equal(tail.skipped, 5);
    // The torn line completes later: the tail picks it up then.
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), STEP(5).slice(40) + '\n');
    assert.equal(tail.read(), 1);
  });

  it('truncated or garbage status.json: parseStatus gives undefined, the reader shows "unreadable", nothing throws', () => {
    const full = JSON.stringify({ schema: 1, state: 'running', pid: 1, startedAt: null, updatedAt: '', progress: { epoch: 0, epochs: 1, step: 0, totalSteps: 1 } });
    for (let cut = 0; cut < full.length; cut += 7) {
      const t = full.slice(0, cut);
      assert.doesNotThrow(() => parseStatus(t));
      fs.writeFileSync(path.join(dir, 'status.json'), t);
      const r = new RunFolderReader(dir);
      assert.doesNotThrow(() => r.poll());
      assert.equal(r.snapshot.status, undefined, `cut ${cut}`);
      if (cut > 0) assert.equal(r.snapshot.statusProblem, 'unreadable');
      assert.equal(runGroupOf(r.snapshot), 'unknown');
    }
    for (const t of ['null', '[]', '"running"', '{"state": 5}', '\u0000']) assert.equal(parseStatus(t), undefined, t);
  });

  it('checkpoint bytes: every flipped byte, truncation and bad header is refused with a CheckpointError, never decoded', () => {
    const { encodeCheckpoint } = require('../../../src/engine/run/checkpoint') as typeof import('../../../src/engine/run/checkpoint');
    const good = encodeCheckpoint({
      step: 3, epoch: 0, params: Float32Array.from([1, 2, 3]), running: Float32Array.from([4, 5]), momentum: Float32Array.from([0, 0, 0]),
      rng: {}, configHash: 'h', extra: {},
    });
    assert.equal(decodeCheckpoint(good).step, 3);
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x5a;
      assert.throws(() => decodeCheckpoint(bad, 'f'), CheckpointError, `flipped byte ${i} was accepted`);
    }
    for (let n = 0; n < good.length; n++) assert.throws(() => decodeCheckpoint(good.subarray(0, n), 'f'), CheckpointError, `truncated to ${n} bytes was accepted`);
    assert.throws(() => decodeCheckpoint(Buffer.concat([good, Buffer.from([0])]), 'f'), /padded/);
    assert.throws(() => loadCheckpoint(path.join(dir, 'missing.ckpt')), /does not exist; the run has no checkpoint yet/);
  });
});

describe('reliability: the CLI on damaged run folders and datasets', function () {
  let tmp: string;
  let base: string;
  before(async function () {
    requireCli(this);
    tmp = tmpDir('corrupt-cli');
    const cfg = writeJson(path.join(tmp, 'tiny.advprop.json'), TINY_CONFIG);
    base = path.join(tmp, 'base');
    // Eight steps of sixteen: a run with a checkpoint that --resume can continue.
    const res = await runCli(['train', '--config', cfg, '--run-dir', base, '--max-steps', '8'], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(fs.existsSync(path.join(base, 'checkpoints', 'last.ckpt')));
  });
  after(() => rmDir(tmp));

  let n = 0;
  function copyRun(): string {
    const d = path.join(tmp, `copy-${n++}`);
    fs.cpSync(base, d, { recursive: true });
    return d;
  }
  const resume = (run: string): Promise<CliResult> => runCli(['train', '--resume', run, '--max-steps', '9'], { cwd: tmp });
  const ckpt = (run: string): string => path.join(run, 'checkpoints', 'last.ckpt');

  it('checkpoint with a flipped payload byte: exit 2, "checksum mismatch", the run folder untouched', async () => {
    const run = copyRun();
    const b = fs.readFileSync(ckpt(run));
    b[b.length - 10] ^= 0xff;
    fs.writeFileSync(ckpt(run), b);
    const before = readText(path.join(run, 'status.json'));
    assertCleanRefusal(await resume(run), /checksum mismatch/, 'flipped byte');
    assert.equal(readText(path.join(run, 'status.json')), before, 'a refused resume rewrote status.json');
  });

  it('checkpoint with a truncated payload: exit 2, "truncated"', async () => {
    const run = copyRun();
    const b = fs.readFileSync(ckpt(run));
    fs.writeFileSync(ckpt(run), b.subarray(0, b.length - 1000));
    assertCleanRefusal(await resume(run), /truncated/, 'truncated checkpoint');
  });

  it('checkpoint with a wrong header (magic, header bytes): exit 2, says it is corrupt', async () => {
    const run = copyRun();
    const b = fs.readFileSync(ckpt(run));
    const magic = Buffer.from(b);
    magic.write('NOTACKPT', 0, 'ascii');
    fs.writeFileSync(ckpt(run), magic);
    assertCleanRefusal(await resume(run), /bad magic/, 'bad magic');
    const hdr = Buffer.from(b);
    hdr[20] ^= 0x01;
    fs.writeFileSync(ckpt(run), hdr);
    assertCleanRefusal(await resume(run), /header checksum/, 'flipped header byte');
    fs.writeFileSync(ckpt(run), Buffer.alloc(0));
    assertCleanRefusal(await resume(run), /bad magic|truncated/, 'empty checkpoint');
  });

  it('no checkpoint at all: exit 2, says there is none yet', async () => {
    const run = copyRun();
    fs.rmSync(path.join(run, 'checkpoints'), { recursive: true });
    assertCleanRefusal(await resume(run), /no checkpoint yet/, 'missing checkpoint');
  });

  it('truncated config.json: exit 2 with a message that names config.json', async () => {
    const run = copyRun();
    const t = readText(path.join(run, 'config.json'));
    fs.writeFileSync(path.join(run, 'config.json'), t.slice(0, Math.floor(t.length / 2)));
    assertCleanRefusal(await resume(run), /config\.json/, 'truncated config.json');
  });

  it('truncated status.json: resume still continues from the checkpoint (status is advisory) and rewrites it whole', async () => {
    const run = copyRun();
    const t = readText(path.join(run, 'status.json'));
    fs.writeFileSync(path.join(run, 'status.json'), t.slice(0, 25));
    const res = await resume(run);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!/\n\s+at /.test(res.stderr));
    assert.equal(parseStatus(readText(path.join(run, 'status.json')))?.state, 'completed');
  });

  it('metrics.jsonl with garbage and a torn last line: resume cuts the torn line, appends, and every record it writes stays readable', async () => {
    const run = copyRun();
    const mf = path.join(run, 'metrics.jsonl');
    const before = readText(mf);
    fs.appendFileSync(mf, 'garbage line\n' + STEP(99).slice(0, 30));
    const res = await resume(run);
    assert.equal(res.code, 0, res.stderr);
    const after = readText(mf);
    assert.ok(after.startsWith(before), 'resume rewrote earlier records');
    const { records, skipped } = parseMetricsLines(after);
    assert.ok(records.some((r) => r.kind === 'event' && r.event === 'resume'), `the resume event is lost: it was glued onto the torn line (skipped lines: ${JSON.stringify(skipped)})`);
    assert.ok(records.some((r) => r.kind === 'step' && r.step === 9), 'step 9 missing');
    // The torn line was cut with everything after the checkpoint's step; the garbage line stays, reported.
    assert.equal(skipped.length, 1, `expected only the garbage line to be skipped, got ${JSON.stringify(skipped)}`);
    assert.ok(!after.includes(STEP(99).slice(0, 30)), 'the torn line is still there');
  });

  it('a truncated IDX dataset file: exit 2 naming the file and "truncated", no run folder', async () => {
    const data = path.join(tmp, 'idx-data');
    fs.mkdirSync(data);
    const header = (magic: number, dims: number[]): Buffer => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const noise = (k: number): Buffer => Buffer.from(Array.from({ length: k }, (_, i) => (i * 2654435761) >>> 24));
    const imgs = (n: number, keep: number): Buffer => Buffer.concat([header(0x803, [n, 28, 28]), noise(keep)]);
    const labs = (n: number): Buffer => Buffer.concat([header(0x801, [n]), Buffer.from(Array.from({ length: n }, (_, i) => i % 2))]);
    fs.writeFileSync(path.join(data, 'train-images-idx3-ubyte'), imgs(20, 20 * 784 - 100));
    fs.writeFileSync(path.join(data, 'train-labels-idx1-ubyte'), labs(20));
    const gz = gzipSync(imgs(10, 10 * 784));
    fs.writeFileSync(path.join(data, 't10k-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 64));
    fs.writeFileSync(path.join(data, 't10k-labels-idx1-ubyte'), labs(10));
    const cfg = writeJson(path.join(tmp, 'idx.advprop.json'), { ...TINY_CONFIG, dataset: { name: 'idx', path: data } });
    const runDir = path.join(tmp, 'idx-run');
    const res = await runCli(['train', '--config', cfg, '--run-dir', runDir], { cwd: tmp });
    assertCleanRefusal(res, /^error: dataset.*train-images-idx3-ubyte.*truncated/, 'truncated IDX');
    assert.ok(!fs.existsSync(runDir), 'a run folder was created for an unreadable dataset');
    // Now the train split is whole and the gzipped test split is cut short.
    fs.writeFileSync(path.join(data, 'train-images-idx3-ubyte'), imgs(20, 20 * 784));
    assertCleanRefusal(await runCli(['train', '--config', cfg, '--run-dir', runDir], { cwd: tmp }), /t10k-images.*(damaged|truncated)/, 'truncated gzip IDX');
    assert.ok(!fs.existsSync(runDir));
  });
});
