import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseMetricsLines, parseStatus, type RunConfigRecord } from '../../../src/shared/runFormat';
import { writeFileAtomic } from '../../../src/engine/run/atomic';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointState } from '../../../src/engine/run/checkpoint';
import { RunDirError, RunWriter, checkNewRunDir, chooseRunDir, defaultRunName } from '../../../src/engine/run/runDir';
import { newLeakState, updateLeak } from '../../../src/engine/train/leak';
import { DEFAULT_CONFIG } from '../../../src/shared/config';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fap-run-'));
}

function state(): CheckpointState {
  return {
    step: 12, epoch: 1, params: Float32Array.from([1, 2, 3.5, -4]), running: Float32Array.from([0, 1]), momentum: Float32Array.from([0.1, 0, 0, -0.2]),
    rng: { train: [1, 2, 3, 4, null] }, configHash: 'abc', extra: { passes: { clean: 1, attack: 2, adv: 3 } },
  };
}

function record(): RunConfigRecord {
  return {
    schema: 1, runName: 'r', createdAt: new Date().toISOString(), config: DEFAULT_CONFIG,
    schedule: { epochs: 1, milestones: [], costFactor: 1, stepsPerEpoch: 1, totalSteps: 1 }, batch: { clean: 1, adv: 0 },
    backend: { name: 'cpu', requested: 'cpu', package: 'x', gpu: false, reason: '', attempts: [], workers: 1 },
    dataset: { name: 'd', source: 's', train: 1, test: 1, height: 1, width: 1, channels: 1, numClasses: 2, classNames: ['a', 'b'] },
    model: { arch: 'resnet8', width: 1, params: { shared: 1, clean: 1, adv: 1 } },
    engine: { version: '0', node: process.version, argv: [] },
  };
}

describe('run: checkpoints', () => {
  it('round-trips state exactly', () => {
    const d = decodeCheckpoint(encodeCheckpoint(state()));
    assert.deepEqual(d.params, state().params);
    assert.deepEqual(d.momentum, state().momentum);
    assert.deepEqual(d.rng, state().rng);
    assert.equal(d.step, 12);
    assert.deepEqual(d.extra, state().extra);
  });

  it('a truncated, bit-flipped or foreign file gives a clear error', () => {
    const buf = encodeCheckpoint(state());
    assert.throws(() => decodeCheckpoint(buf.subarray(0, buf.length - 3), 'x.ckpt'), (e: unknown) => e instanceof CheckpointError && /truncated/.test(e.message) && /x\.ckpt/.test(e.message));
    const flipped = Buffer.from(buf);
    flipped[flipped.length - 2] ^= 0x40;
    assert.throws(() => decodeCheckpoint(flipped), /checksum mismatch/);
    assert.throws(() => decodeCheckpoint(Buffer.from('{"hello": 1}')), /bad magic/);
    const badHeader = Buffer.from(buf);
    badHeader[14] = 0x7b; // '{' where a quote should be
    badHeader[15] = 0x7b;
    assert.throws(() => decodeCheckpoint(badHeader), /header checksum mismatch/);
    assert.throws(() => loadCheckpoint(path.join(tmp(), 'none.ckpt')), /does not exist; the run has no checkpoint yet/);
  });

  it('saves atomically: no temp files are left and the file reloads', () => {
    const dir = tmp();
    const file = saveCheckpoint(dir, 'last.ckpt', state());
    saveCheckpoint(dir, 'last.ckpt', { ...state(), step: 13 });
    assert.equal(loadCheckpoint(file).step, 13);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['last.ckpt']);
  });
});

describe('run: folder writer', () => {
  it('names runs <method>-<yyyyMMdd-HHmmss> or by config name, and never reuses a folder', () => {
    assert.equal(defaultRunName({ method: 'vanilla' }, new Date(2024, 0, 2, 3, 4, 5)), 'vanilla-20240102-030405');
    assert.equal(defaultRunName({ method: 'vanilla', name: 'mine' }), 'mine');
    const runs = tmp();
    const a = chooseRunDir({ runsDir: runs, name: 'x' });
    fs.mkdirSync(a);
    assert.equal(chooseRunDir({ runsDir: runs, name: 'x' }), `${a}-2`);
    assert.equal(chooseRunDir({ runDir: path.join(runs, 'exact'), runsDir: runs, name: 'x' }), path.join(runs, 'exact'));
  });

  it('writes config, status, metrics, results and log inside the run folder only', () => {
    const parent = tmp();
    const dir = path.join(parent, 'run');
    const w = RunWriter.create(dir, record());
    w.appendMetrics({ v: 1, kind: 'event', t: 'now', step: 0, event: 'x', message: 'y' }, true);
    w.log('hello');
    w.writeResults({ schema: 1, state: 'completed', clean: { accuracy: 0.5, loss: 1 }, epochs: 1, steps: 1, wallSeconds: 1, imagesPerSecond: 1, passes: { clean: 1, attack: 0, adv: 0, total: 1 }, plannedPasses: 1 });
    w.finish('completed');
    w.close();
    assert.deepEqual(fs.readdirSync(parent), ['run']);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'engine.log', 'metrics.jsonl', 'results.json', 'status.json']);
    const st = parseStatus(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'))!;
    assert.equal(st.state, 'completed');
    assert.equal(st.pid, null);
    assert.throws(() => checkNewRunDir(dir), /already holds a run.*--resume/);
  });

  it('a folder that cannot be created is a RunDirError naming the flag and the path; nothing is left behind', () => {
    const parent = tmp();
    fs.writeFileSync(path.join(parent, 'afile'), 'x');
    const dir = path.join(parent, 'afile', 'run');
    assert.throws(() => RunWriter.create(dir, record(), '--runs-dir'), (e: unknown) =>
      e instanceof RunDirError && e.field === '--runs-dir' && e.message === `--runs-dir: cannot create ${dir} (ENOTDIR: not a directory); choose a writable folder`);
    assert.deepEqual(fs.readdirSync(parent), ['afile']);
    // A write that fails after the folder exists (status.json is a folder here) leaves the
    // folder as it was: no config.json that would make it look like a run.
    const made = path.join(parent, 'made');
    fs.mkdirSync(path.join(made, 'status.json'), { recursive: true });
    assert.throws(() => RunWriter.create(made, record()), (e: unknown) => e instanceof RunDirError && e.message.includes(made));
    assert.deepEqual(fs.readdirSync(made), ['status.json']);
  });

  it('refuses run folders on kernel file systems (/proc would make mkdir spin), also through a symlink', function () {
    if (process.platform !== 'linux') this.skip();
    for (const d of ['/proc/self/x', '/sys/x/y', '/dev/null/run', '/proc']) {
      assert.throws(() => checkNewRunDir(d, '--runs-dir'), (e: unknown) => e instanceof RunDirError && e.field === '--runs-dir' && /kernel file system/.test(e.message), d);
      assert.throws(() => RunWriter.create(d, record()), /kernel file system/, d);
    }
    const parent = tmp();
    fs.symlinkSync('/proc/self', path.join(parent, 'link'));
    assert.throws(() => checkNewRunDir(path.join(parent, 'link', 'run')), /kernel file system \/proc/);
    assert.doesNotThrow(() => checkNewRunDir(path.join(parent, 'procfs-is-only-a-name', 'run')));
  });

  it('status rewrites are atomic: a concurrent reader never sees a partial file', async () => {
    const dir = path.join(tmp(), 'run');
    const w = RunWriter.create(dir, record());
    const file = path.join(dir, 'status.json');
    // A reader in another thread hammers the file while this thread rewrites it with growing content.
    const reader = new Worker(
      `const fs = require('fs'); const { parentPort, workerData } = require('worker_threads');
       let bad = 0, reads = 0; const end = Date.now() + 700;
       while (Date.now() < end) { try { JSON.parse(fs.readFileSync(workerData, 'utf8')); reads++; } catch (e) { if (e.code !== 'ENOENT') bad++; } }
       parentPort.postMessage({ bad, reads });`,
      { eval: true, workerData: file },
    );
    const result = new Promise<{ bad: number; reads: number }>((res) => reader.once('message', res));
    const end = Date.now() + 600;
    let i = 0;
    while (Date.now() < end) w.updateStatus({ progress: { epoch: 0, epochs: 1, step: i++, totalSteps: 1e9, imagesPerSecond: Math.random() * 10 ** (i % 12) } });
    const r = await result;
    w.close();
    assert.equal(r.bad, 0);
    assert.ok(r.reads > 10 && i > 10, `reads ${r.reads}, writes ${i}`);
  });

  it('a torn last metrics line (writer killed mid-line) is tolerated by parseMetricsLines', () => {
    const dir = path.join(tmp(), 'run');
    const w = RunWriter.create(dir, record());
    w.appendMetrics({ v: 1, kind: 'event', t: 'a', step: 1, event: 'x', message: 'one' });
    w.appendMetrics({ v: 1, kind: 'event', t: 'b', step: 2, event: 'x', message: 'two' });
    w.close();
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"v":1,"kind":"step","t":"c","st');
    const { records, skipped } = parseMetricsLines(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'));
    assert.equal(records.length, 2);
    assert.deepEqual(skipped, []);
  });

  it('reopen (resume) ends a torn last metrics line first, so its first record is not glued onto it', () => {
    const dir = path.join(tmp(), 'run');
    const w = RunWriter.create(dir, record());
    w.appendMetrics({ v: 1, kind: 'event', t: 'a', step: 1, event: 'x', message: 'one' });
    w.close();
    const mf = path.join(dir, 'metrics.jsonl');
    fs.appendFileSync(mf, '{"v":1,"kind":"step","t":"c","st');
    const torn = fs.readFileSync(mf, 'utf8');
    let r = RunWriter.reopen(dir, record(), undefined);
    r.appendMetrics({ v: 1, kind: 'event', t: 'b', step: 1, event: 'resume', message: 'two' });
    r.close();
    const text = fs.readFileSync(mf, 'utf8');
    assert.ok(text.startsWith(torn + '\n'), 'earlier bytes changed');
    let parsed = parseMetricsLines(text);
    assert.deepEqual(parsed.records.map((x) => x.kind === 'event' && x.message), ['one', 'two']);
    assert.equal(parsed.skipped.length, 1);
    // A whole last line gets no extra blank line.
    r = RunWriter.reopen(dir, record(), undefined);
    r.appendMetrics({ v: 1, kind: 'event', t: 'c', step: 1, event: 'resume', message: 'three' });
    r.close();
    assert.equal(fs.readFileSync(mf, 'utf8'), text + JSON.stringify({ v: 1, kind: 'event', t: 'c', step: 1, event: 'resume', message: 'three' }) + '\n');
    parsed = parseMetricsLines(fs.readFileSync(mf, 'utf8'));
    assert.equal(parsed.records.length, 3);
  });

  it('writeFileAtomic leaves no temp file behind', () => {
    const dir = tmp();
    writeFileAtomic(path.join(dir, 'a.json'), '{}');
    writeFileAtomic(path.join(dir, 'a.json'), '{"x":1}');
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });
});

describe('train: leak detector', () => {
  const opts = { window: 3, margin: 0.02 };
  function feed(samples: [number, number][]): ReturnType<typeof updateLeak>[] {
    let s = newLeakState();
    return samples.map(([clean, adv], i) => {
      const u = updateLeak(s, { step: i + 1, clean, adv }, opts);
      s = u.state;
      return u;
    });
  }

  it('flags when adversarial train accuracy exceeds clean by more than the margin over the window, once', () => {
    const out = feed([[0.5, 0.6], [0.5, 0.6], [0.5, 0.6], [0.5, 0.65]]);
    assert.equal(out[0].flag, undefined); // not enough intervals yet
    assert.equal(out[1].flag, undefined);
    assert.equal(out[2].flag?.flagged, true);
    assert.equal(out[2].firstFlag, true);
    assert.ok(Math.abs(out[2].flag!.adv - 0.6) < 1e-12 && /label leaking/.test(out[2].flag!.message));
    assert.equal(out[3].flag?.flagged, true);
    assert.equal(out[3].firstFlag, false);
  });

  it('does not flag adversarial accuracy below clean, or above by less than the margin', () => {
    for (const r of feed([[0.7, 0.5], [0.7, 0.5], [0.7, 0.5]])) assert.notEqual(r.flag?.flagged, true);
    for (const r of feed([[0.5, 0.51], [0.5, 0.51], [0.5, 0.52]])) assert.notEqual(r.flag?.flagged, true);
  });

  it('averages over the window only: an old spike ages out', () => {
    const out = feed([[0.3, 0.9], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]);
    assert.equal(out[2].flag?.flagged, true); // (0.9+0.5+0.5)/3 − (0.3+0.5+0.5)/3 = 0.2
    assert.equal(out[3].flag?.flagged, false);
  });
});
