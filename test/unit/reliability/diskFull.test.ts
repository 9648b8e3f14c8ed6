// A full disk (ENOSPC), an exhausted quota (EDQUOT) or a read-only remount (EROFS) in the middle of
// a run: the run ends as failed with one message naming the file and the fix, the last checkpoint
// stays whole and byte-identical, metrics.jsonl keeps only whole lines, and `--resume` after the
// space is back finishes on the same weights as an uninterrupted run.
//
// No root and no real full disk: the fault is injected in-process at the one seam every run-folder
// write goes through (`runFs` in src/engine/run/atomic.ts), the way a kernel reports it: the write
// that no longer fits is short (half of it lands), the next one fails with the errno; EDQUOT comes
// as node really reports it ("Unknown system error -122"), EROFS at open. The rest is the real
// engine (data, model, wasm/cpu executor, trainer, run writer) through trainCommand.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFs, writeFileAtomic } from '../../../src/engine/run/atomic';
import { loadCheckpoint } from '../../../src/engine/run/checkpoint';
import { RunDirError, RunWriter } from '../../../src/engine/run/runDir';
import { FileWriteError, diskFullCode, writeFailureMessage, type DiskFullCode } from '../../../src/engine/run/writeError';
import { evaluateCommand } from '../../../src/engine/cli/evaluate';
import { defaultDeps, trainCommand, type EngineDeps } from '../../../src/engine/cli/train';
import { parseMetricsLines, parseStatus, type RunConfigRecord, type RunStatus } from '../../../src/shared/runFormat';
import { CRASH_CONFIG, TINY_CONFIG, listTree, maxAbsDiff, readText, rmDir, tmpDir, writeJson } from './helpers';

const TOL = 1e-5;
const status = (dir: string): RunStatus | undefined => parseStatus(readText(path.join(dir, 'status.json')));
const lastCkpt = (dir: string): string => path.join(dir, 'checkpoints', 'last.ckpt');

/** An error shaped like node's own for `code` (EDQUOT has no libuv name: node says "Unknown system error -122"). */
export function errnoError(code: DiskFullCode, syscall: string, file?: string): NodeJS.ErrnoException {
  const errno = -(os.constants.errno as Record<string, number>)[code];
  const name = code === 'EDQUOT' ? `Unknown system error ${errno}` : code;
  const text = { ENOSPC: 'no space left on device', EROFS: 'read-only file system', EDQUOT: `Unknown system error ${errno}` }[code];
  const e = new Error(`${name}: ${text}, ${syscall}${file ? ` '${file}'` : ''}`) as NodeJS.ErrnoException;
  e.code = name;
  e.errno = errno;
  e.syscall = syscall;
  if (file) e.path = file;
  return e;
}

interface FaultRules {
  /** A code makes the open fail (EROFS: nothing can be created). */
  open?(file: string): DiskFullCode | undefined;
  /** A code makes this write short (half of it lands) and every later write to the file fail. */
  write?(file: string, data: Buffer): DiskFullCode | undefined;
}

/** Swaps runFs for a disk that refuses writes by rule; `restore()` puts the real calls back. */
class FaultyDisk {
  private readonly real = { ...runFs };
  private readonly files = new Map<number, string>();
  private readonly failing = new Map<number, DiskFullCode>();
  /** Every fault that fired, as "code op basename". */
  readonly fired: string[] = [];

  constructor(private readonly rules: FaultRules) {
    const real = this.real;
    runFs.openSync = ((file: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null) => {
      const code = this.rules.open?.(String(file));
      if (code) {
        this.fired.push(`${code} open ${path.basename(String(file))}`);
        throw errnoError(code, 'open', String(file));
      }
      const fd = real.openSync(file, flags ?? 'r', mode);
      this.files.set(fd, String(file));
      this.failing.delete(fd);
      return fd;
    }) as typeof runFs.openSync;
    runFs.closeSync = (fd: number) => {
      this.files.delete(fd);
      this.failing.delete(fd);
      real.closeSync(fd);
    };
    runFs.writeSync = (fd: number, buf: Uint8Array, offset = 0, length = buf.length - offset) => {
      const file = this.files.get(fd) ?? `fd ${fd}`;
      const already = this.failing.get(fd);
      if (already) throw errnoError(already, 'write');
      const code = this.rules.write?.(file, Buffer.from(buf.buffer, buf.byteOffset + offset, length));
      if (!code) return real.writeSync(fd, buf, offset, length);
      this.fired.push(`${code} write ${path.basename(file)}`);
      this.failing.set(fd, code);
      // What a nearly full disk does: part of the write lands and the call returns the short count.
      const part = Math.floor(length / 2);
      if (part === 0) throw errnoError(code, 'write');
      return real.writeSync(fd, buf, offset, part);
    };
  }

  restore(): void {
    Object.assign(runFs, this.real);
  }
}

function capture(): { io: { out(l: string): void; err(l: string): void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

function tmpFiles(dir: string): string[] {
  return listTree(dir).filter((f) => f.endsWith('.tmp'));
}

function assertWholeLines(text: string, what: string): ReturnType<typeof parseMetricsLines> {
  assert.ok(text.endsWith('\n'), `${what}: metrics.jsonl ends in a torn line: ${JSON.stringify(text.slice(-80))}`);
  const parsed = parseMetricsLines(text);
  assert.deepEqual(parsed.skipped, [], `${what}: metrics.jsonl has lines that are not records`);
  return parsed;
}

function isStepRecord(file: string, data: Buffer, step: number): boolean {
  if (path.basename(file) !== 'metrics.jsonl') return false;
  try {
    const r = JSON.parse(data.toString('utf8')) as { kind?: string; step?: number };
    return r.kind === 'step' && r.step === step;
  } catch {
    return false;
  }
}

describe('reliability: a full disk mid-run (ENOSPC, EDQUOT, EROFS injected at the write seam)', function () {
  this.timeout(180000);
  let tmp: string;
  let deps: EngineDeps;
  let reference: string;
  let disk: FaultyDisk | undefined;

  before(async () => {
    tmp = tmpDir('diskfull');
    deps = await defaultDeps();
    reference = path.join(tmp, 'reference');
    const c = capture();
    const code = await trainCommand(['--config', writeJson(path.join(tmp, 'crash.advprop.json'), CRASH_CONFIG), '--run-dir', reference], c.io, deps);
    assert.equal(code, 0, `the uninterrupted reference run failed: ${c.err.join('\n')}`);
  });
  afterEach(() => {
    disk?.restore();
    disk = undefined;
  });
  after(() => rmDir(tmp));

  async function resumeAndCompare(run: string, fromStep: number): Promise<void> {
    const c = capture();
    const code = await trainCommand(['--resume', run], c.io, deps);
    assert.equal(code, 0, `resume after freeing space failed: ${c.err.join('\n')}`);
    assert.equal(status(run)?.state, 'completed');
    const m = assertWholeLines(readText(path.join(run, 'metrics.jsonl')), 'after resume');
    const ev = m.records.find((r) => r.kind === 'event' && r.event === 'resume');
    assert.ok(ev && ev.step === fromStep, `no resume event at step ${fromStep}`);
    // Steps past the checkpoint are trained again: 1..k before the resume event, fromStep+1..end after it.
    const at = m.records.indexOf(ev!);
    const stepsOf = (rs: typeof m.records): number[] => rs.filter((r) => r.kind === 'step').map((r) => r.step);
    const before = stepsOf(m.records.slice(0, at));
    const after = stepsOf(m.records.slice(at));
    assert.deepEqual(before, before.map((_, i) => i + 1), `step records before the resume are not 1..n: ${before.join(',')}`);
    assert.deepEqual(after, after.map((_, i) => fromStep + 1 + i), `step records after the resume do not continue at ${fromStep + 1}: ${after.join(',')}`);
    const ref = loadCheckpoint(lastCkpt(reference));
    const got = loadCheckpoint(lastCkpt(run));
    assert.equal(got.step, ref.step);
    assert.ok(maxAbsDiff(got.params, ref.params) <= TOL, `params differ from the uninterrupted run by ${maxAbsDiff(got.params, ref.params)}`);
    assert.ok(maxAbsDiff(got.running, ref.running) <= TOL, `BN running statistics differ by ${maxAbsDiff(got.running, ref.running)}`);
    const refAcc = JSON.parse(readText(path.join(reference, 'results.json'))).clean.accuracy;
    assert.equal(JSON.parse(readText(path.join(run, 'results.json'))).clean.accuracy, refAcc, 'final test accuracy differs');
    assert.deepEqual(tmpFiles(run), []);
  }

  it('ENOSPC while the second checkpoint is written (short write, then ENOSPC): failed with one message naming last.ckpt and the fix; the first checkpoint is byte-identical; resume finishes on the uninterrupted weights', async () => {
    const run = path.join(tmp, 'ckpt-full');
    let ckptOpens = 0;
    let before: Buffer | undefined;
    let metricsBefore = '';
    disk = new FaultyDisk({
      open: (file) => {
        if (/^\.last\.ckpt\..*\.tmp$/.test(path.basename(file)) && ++ckptOpens === 2) {
          before = fs.readFileSync(lastCkpt(run));
          metricsBefore = readText(path.join(run, 'metrics.jsonl'));
        }
        return undefined;
      },
      // Only the big checkpoint does not fit; once its temp file is gone the small files fit again.
      write: (file) => (ckptOpens === 2 && /^\.last\.ckpt\..*\.tmp$/.test(path.basename(file)) ? 'ENOSPC' : undefined),
    });
    const c = capture();
    const code = await trainCommand(['--config', path.join(tmp, 'crash.advprop.json'), '--run-dir', run], c.io, deps);
    disk.restore();
    assert.equal(disk.fired.length, 1, `faults: ${disk.fired.join(', ')}`);
    assert.match(disk.fired[0], /^ENOSPC write \.last\.ckpt\..*\.tmp$/);

    assert.equal(code, 1, `exit ${code}: ${c.err.join('\n')}`);
    const expected = `disk full while writing ${lastCkpt(run)} (ENOSPC: no space left on device): free space on that disk, then resume with: fast-advprop train --resume ${run} (it continues from the checkpoint at step 8)`;
    assert.deepEqual(c.err, [`error: ${expected}`], 'stderr is not the one message');
    const st = status(run);
    assert.equal(st?.state, 'failed');
    assert.equal(st.pid, null);
    assert.equal(st.error?.message, expected);
    assert.equal(st.lastCheckpoint?.step, 8);
    // The previous checkpoint: the same bytes, loadable.
    assert.ok(before, 'the fault never fired');
    assert.ok(fs.readFileSync(lastCkpt(run)).equals(before), 'last.ckpt changed: a half-written temp file replaced it');
    assert.equal(loadCheckpoint(lastCkpt(run)).step, 8);
    assert.deepEqual(tmpFiles(run), [], 'a temp file was left behind');
    // metrics.jsonl: everything from before is there, whole lines only, a failed event, no results.
    const text = readText(path.join(run, 'metrics.jsonl'));
    assert.ok(text.startsWith(metricsBefore));
    const m = assertWholeLines(text, 'after the failure');
    assert.deepEqual(m.records.filter((r) => r.kind === 'step').map((r) => r.step), Array.from({ length: 16 }, (_, i) => i + 1));
    assert.ok(m.records.some((r) => r.kind === 'event' && r.event === 'failed' && r.message === expected), 'no failed event');
    assert.ok(!fs.existsSync(path.join(run, 'results.json')), 'a failed run wrote results.json');
    assert.match(readText(path.join(run, 'engine.log')), /failed: disk full while writing/);

    await resumeAndCompare(run, 8);
  });

  it('ENOSPC on a metrics.jsonl append, and the disk stays full (status.json cannot be written either): exit 1 with the message naming metrics.jsonl, nothing written before is lost or torn; resume finishes', async () => {
    const run = path.join(tmp, 'all-full');
    let full = false;
    let metricsBefore = '';
    let statusBefore = '';
    let ckptBefore: Buffer | undefined;
    disk = new FaultyDisk({
      write: (file, data) => {
        if (!full && isStepRecord(file, data, 11)) {
          full = true;
          metricsBefore = readText(path.join(run, 'metrics.jsonl'));
          statusBefore = readText(path.join(run, 'status.json'));
          ckptBefore = fs.readFileSync(lastCkpt(run));
        }
        return full ? 'ENOSPC' : undefined;
      },
    });
    const c = capture();
    const code = await trainCommand(['--config', path.join(tmp, 'crash.advprop.json'), '--run-dir', run], c.io, deps);
    disk.restore();
    assert.ok(full, 'the fault never fired');
    assert.equal(code, 1, `exit ${code}: ${c.err.join('\n')}`);
    const metricsFile = path.join(run, 'metrics.jsonl');
    assert.deepEqual(c.err, [`error: disk full while writing ${metricsFile} (ENOSPC: no space left on device): free space on that disk, then resume with: fast-advprop train --resume ${run} (it continues from the checkpoint at step 8)`]);
    // Later writes (the failed event, engine.log, the failed status) were refused too and left nothing behind.
    assert.ok(disk.fired.length > 1, `only ${disk.fired.join(', ')} was refused`);
    assert.equal(readText(metricsFile), metricsBefore, 'metrics.jsonl is not what it was before the full disk (a torn half line stayed?)');
    assertWholeLines(readText(metricsFile), 'after the failure');
    assert.equal(readText(path.join(run, 'status.json')), statusBefore, 'status.json changed although every write failed');
    assert.ok(ckptBefore && fs.readFileSync(lastCkpt(run)).equals(ckptBefore), 'last.ckpt changed');
    assert.deepEqual(tmpFiles(run), []);

    await resumeAndCompare(run, 8);
  });

  const endCases: { label: string; code: DiskFullCode; rules: FaultRules; file: string; text: RegExp }[] = [
    {
      label: 'EDQUOT (as node reports it: "Unknown system error -122") writing results.json',
      code: 'EDQUOT',
      rules: { write: (f) => (/^\.results\.json\..*\.tmp$/.test(path.basename(f)) ? 'EDQUOT' : undefined) },
      file: 'results.json',
      text: /^disk quota exceeded while writing \S+results\.json \(EDQUOT: disk quota exceeded\): free space within your quota/,
    },
    {
      label: 'EROFS creating export/weights.bin',
      code: 'EROFS',
      rules: { open: (f) => (/^\.weights\.bin\..*\.tmp$/.test(path.basename(f)) ? 'EROFS' : undefined) },
      file: path.join('export', 'weights.bin'),
      text: /^read-only file system while writing \S+weights\.bin \(EROFS: read-only file system\): make that file system writable again/,
    },
  ];
  for (const k of endCases) {
    it(`${k.label} after the last step: failed naming the file, no results.json; resume evaluates, exports and completes without training`, async () => {
      const run = path.join(tmp, `end-${k.code}`);
      const cfg = writeJson(path.join(tmp, `end-${k.code}.advprop.json`), TINY_CONFIG);
      disk = new FaultyDisk(k.rules);
      const c = capture();
      const code = await trainCommand(['--config', cfg, '--run-dir', run, '--max-steps', '4'], c.io, deps);
      disk.restore();
      assert.equal(disk.fired.length, 1, `faults: ${disk.fired.join(', ')}`);
      assert.equal(code, 1, `exit ${code}: ${c.err.join('\n')}`);
      assert.equal(c.err.length, 1, c.err.join('\n'));
      const msg = c.err[0].replace(/^error: /, '');
      assert.match(msg, k.text);
      assert.ok(msg.includes(path.join(run, k.file)), `the message does not name ${k.file}: ${msg}`);
      assert.ok(msg.endsWith(`then resume with: fast-advprop train --resume ${run} (it continues from the checkpoint at step 4)`), msg);
      const st = status(run);
      assert.equal(st?.state, 'failed');
      assert.equal(st.error?.message, msg);
      assert.ok(!fs.existsSync(path.join(run, 'results.json')));
      assert.equal(loadCheckpoint(lastCkpt(run)).step, 4);
      assertWholeLines(readText(path.join(run, 'metrics.jsonl')), 'after the failure');
      assert.deepEqual(tmpFiles(run), []);

      const r = capture();
      assert.equal(await trainCommand(['--resume', run], r.io, deps), 0, r.err.join('\n'));
      assert.equal(status(run)?.state, 'completed');
      const results = JSON.parse(readText(path.join(run, 'results.json')));
      assert.equal(results.steps, 4);
      assert.ok(fs.existsSync(path.join(run, 'export', 'model.json')) && fs.existsSync(path.join(run, 'export', 'weights.bin')));
      const m = assertWholeLines(readText(path.join(run, 'metrics.jsonl')), 'after resume');
      const steps = m.records.filter((x) => x.kind === 'step').map((x) => x.step);
      assert.deepEqual(steps, [1, 2, 3, 4], 'the resume trained again');
      // Done is done: a second resume has nothing left.
      const again = capture();
      assert.equal(await trainCommand(['--resume', run], again.io, deps), 2);
      assert.match(again.err[0], /nothing left to train/);
    });
  }

  it('evaluate on a full disk: exit 1 with the message naming robustness.json and how to retry; the previous robustness.json is byte-identical, no temp file', async () => {
    const args = ['--run', reference, '--corruptions', 'fog', '--severities', '1', '--limit', '20'];
    let c = capture();
    assert.equal(await evaluateCommand(args, c.io, deps), 0, c.err.join('\n'));
    const file = path.join(reference, 'robustness.json');
    const before = readText(file);
    disk = new FaultyDisk({ write: (f) => (path.basename(f).startsWith('.robustness.json') ? 'ENOSPC' : undefined) });
    c = capture();
    assert.equal(await evaluateCommand(args, c.io, deps), 1);
    assert.equal(disk.fired.length, 1, disk.fired.join(', '));
    assert.match(disk.fired[0], /^ENOSPC write \.robustness\.json\..*\.tmp$/);
    assert.deepEqual(c.err, [`error: disk full while writing ${file} (ENOSPC: no space left on device): free space on that disk, then run fast-advprop evaluate ${args.join(' ')} again`]);
    disk.restore();
    assert.equal(readText(file), before);
    assert.deepEqual(tmpFiles(reference), []);
  });

  it('ENOSPC on a status.json progress update before the first checkpoint: failed naming status.json, says the run must be started again (and --resume says there is no checkpoint)', async () => {
    const run = path.join(tmp, 'status-full');
    const cfg = writeJson(path.join(tmp, 'status.advprop.json'), TINY_CONFIG);
    disk = new FaultyDisk({
      write: (f, data) => {
        if (!/^\.status\.json\..*\.tmp$/.test(path.basename(f))) return undefined;
        const s = parseStatus(data.toString('utf8'));
        return s?.state === 'running' && s.progress.step === 2 ? 'ENOSPC' : undefined;
      },
    });
    const c = capture();
    const code = await trainCommand(['--config', cfg, '--run-dir', run], c.io, deps);
    disk.restore();
    assert.equal(code, 1, c.err.join('\n'));
    const expected = `disk full while writing ${path.join(run, 'status.json')} (ENOSPC: no space left on device): free space on that disk, then start the run again with: fast-advprop train --restart ${run} (it has no checkpoint to resume from yet)`;
    assert.deepEqual(c.err, [`error: ${expected}`]);
    assert.equal(status(run)?.state, 'failed');
    assert.equal(status(run)?.error?.message, expected);
    assert.deepEqual(tmpFiles(run), []);
    const r = capture();
    assert.equal(await trainCommand(['--resume', run], r.io, deps), 2);
    assert.match(r.err[0], /no checkpoint yet.*--restart/);
    const again = capture();
    assert.equal(await trainCommand(['--restart', run], again.io, deps), 0, again.err.join('\n'));
    assert.equal(status(run)?.state, 'completed');
  });
});

describe('reliability: the write seam under a full disk (no training)', () => {
  let dir: string;
  let disk: FaultyDisk | undefined;
  beforeEach(() => (dir = tmpDir('seam')));
  afterEach(() => {
    disk?.restore();
    disk = undefined;
    rmDir(dir);
  });

  for (const code of ['ENOSPC', 'EDQUOT', 'EROFS'] as const) {
    it(`writeFileAtomic under ${code} (${code === 'EROFS' ? 'at open' : 'short write, then the error'}): the old file is untouched, no temp file, a FileWriteError naming the target with the code`, () => {
      const file = path.join(dir, 'a.bin');
      const old = Buffer.alloc(5000, 7);
      fs.writeFileSync(file, old);
      disk = new FaultyDisk(code === 'EROFS' ? { open: () => code } : { write: () => code });
      assert.throws(() => writeFileAtomic(file, Buffer.alloc(9000, 1)), (e: unknown) => {
        assert.ok(e instanceof FileWriteError, String(e));
        assert.equal(e.file, file);
        assert.equal(diskFullCode(e), code);
        assert.ok(e.message.startsWith(`cannot write ${file} (${code}: `), e.message);
        const msg = writeFailureMessage(e, dir, 3)!;
        assert.ok(msg.includes(file) && msg.includes(`(${code}: `) && msg.includes(`fast-advprop train --resume ${dir}`), msg);
        return true;
      });
      assert.ok(fs.readFileSync(file).equals(old));
      assert.deepEqual(fs.readdirSync(dir), ['a.bin']);
    });
  }

  it('RunWriter.appendMetrics under ENOSPC: the half-written line is cut back, the file is what it was, the error names metrics.jsonl', () => {
    const record = { schema: 1, schedule: { epochs: 1, totalSteps: 1 }, backend: { name: 'cpu' } } as unknown as RunConfigRecord;
    const run = path.join(dir, 'run');
    const w = RunWriter.create(run, record);
    try {
      w.appendMetrics({ v: 1, kind: 'event', t: 'a', step: 0, event: 'resume', message: 'one' });
      const mf = path.join(run, 'metrics.jsonl');
      const before = readText(mf);
      disk = new FaultyDisk({ write: () => 'ENOSPC' });
      assert.throws(() => w.appendMetrics({ v: 1, kind: 'event', t: 'b', step: 1, event: 'resume', message: 'x'.repeat(500) }), (e: unknown) =>
        e instanceof FileWriteError && e.file === mf && diskFullCode(e) === 'ENOSPC');
      // engine.log is best effort: a refused line does not throw.
      w.log('a line that does not fit');
      disk.restore();
      assert.equal(readText(mf), before);
      w.appendMetrics({ v: 1, kind: 'event', t: 'c', step: 2, event: 'resume', message: 'three' });
      assert.equal(parseMetricsLines(readText(mf)).records.length, 2);
      assert.deepEqual(parseMetricsLines(readText(mf)).skipped, []);
    } finally {
      w.close();
    }
  });

  it('a run folder that cannot be started on a full disk: RunDirError naming the folder, the code and "free space"; nothing left behind', () => {
    const record = { schema: 1, schedule: { epochs: 1, totalSteps: 1 }, backend: { name: 'cpu' } } as unknown as RunConfigRecord;
    const run = path.join(dir, 'run');
    disk = new FaultyDisk({ write: () => 'ENOSPC' });
    assert.throws(() => RunWriter.create(run, record), (e: unknown) =>
      e instanceof RunDirError && e.message === `--run-dir: cannot create ${run} (ENOSPC: no space left on device); free space on that disk, or choose a folder on another disk`);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
