// Issue #12 as an attacker (or bad luck) would try it, against the real CLI: forged and edited run
// folders, SIGKILL at chosen points (also while a checkpoint is written), device files and FIFOs
// where files belong, numbers at the edge of what JSON can say. Each refusal must be one line,
// exit 2, no stack trace, and leave the run folder byte-identical; each kill must end, after
// resumes, on exactly the weights, BN statistics and momentum of an uninterrupted run, with one
// metrics record per step in the file itself.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeIdx } from '../../../src/engine/data/idx';
import { RUN_LOCK_FILE, parseMetricsLines, parseStatus, type RunConfigRecord } from '../../../src/shared/runFormat';
import {
  CRASH_CONFIG, assertSameState, checkpointState, exited, readText, requireCli, rmDir, runCli, startCli, stepNumbers, tmpDir, waitFor, writeJson,
  type CliResult,
} from './helpers';

const CKPT = (run: string): string => path.join(run, 'checkpoints', 'last.ckpt');
const TOTAL = 24; // CRASH_CONFIG: 3 epochs × 8 steps after same-budget scaling; checkpoints at 8, 16, 24

function assertRefusal(res: CliResult, what: RegExp, label: string): void {
  const lines = res.stderr.split('\n').filter(Boolean);
  assert.equal(res.code, 2, `${label}: exit ${res.code} (signal ${res.signal}); stderr ${res.stderr.slice(0, 600)}`);
  assert.ok(!/\n\s+at /.test(res.stderr), `${label}: printed a stack trace:\n${res.stderr.slice(0, 800)}`);
  assert.equal(lines.length, 1, `${label}: stderr is not one line:\n${res.stderr.slice(0, 600)}`);
  assert.match(lines[0], /^error: [^\s:]+: /, `${label}: not "error: <field>: …": ${lines[0]}`);
  assert.match(lines[0], what, `${label}: ${lines[0]}`);
  assert.ok(lines[0].length < 600, `${label}: message is ${lines[0].length} characters`);
}

/**
 * Every entry under `dir` with its type and content hash: equal snapshots mean nothing was written.
 * run.lock is left out: a SIGKILLed run leaves its lock behind, and the next command (even one that
 * refuses) recovers it and removes it when it exits, which is the lock working, not data changing.
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const n of fs.readdirSync(d).sort()) {
      if (!rel && n === RUN_LOCK_FILE) continue;
      const p = path.join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(p, r);
      } else if (st.isFile()) out[r] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
      else out[r] = 'special';
    }
  };
  walk(dir, '');
  return out;
}

/** Step numbers of the step records as the file holds them (no reader-side clean-up). */
function rawSteps(run: string): number[] {
  const { records, skipped } = parseMetricsLines(readText(path.join(run, 'metrics.jsonl')));
  assert.deepEqual(skipped, [], `${run}: unreadable metrics lines`);
  return records.filter((r) => r.kind === 'step').map((r) => r.step);
}

function assertExactlyOnce(run: string, total: number, label: string): void {
  const steps = rawSteps(run);
  assert.deepEqual(steps, Array.from({ length: total }, (_, i) => i + 1), `${label}: metrics.jsonl step records are not 1..${total} exactly once`);
  const epochs = parseMetricsLines(readText(path.join(run, 'metrics.jsonl'))).records.filter((r) => r.kind === 'epoch').map((r) => r.step);
  assert.ok(epochs.every((s, i) => i === 0 || s > epochs[i - 1]), `${label}: epoch records repeat or go backwards: ${epochs.join(',')}`);
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('reliability: attack suite (issue #12, real CLI processes)', function () {
  let tmp: string;
  let cfg: string;
  let reference: string;

  before(async function () {
    requireCli(this);
    tmp = tmpDir('attack');
    cfg = writeJson(path.join(tmp, 'crash.advprop.json'), CRASH_CONFIG);
    reference = path.join(tmp, 'reference');
    const res = await runCli(['train', '--config', cfg, '--run-dir', reference], { cwd: tmp });
    assert.equal(res.code, 0, `the uninterrupted reference run failed: ${res.stderr}`);
  });
  after(() => rmDir(tmp));

  const sameAsReference = (run: string, label: string): void => {
    assert.equal(parseStatus(readText(path.join(run, 'status.json')))?.state, 'completed', `${label}: not completed`);
    assertSameState(checkpointState(CKPT(reference)), checkpointState(CKPT(run)), label);
    assert.equal(sha(path.join(run, 'export', 'weights.bin')), sha(path.join(reference, 'export', 'weights.bin')), `${label}: exported weights.bin differ`);
    assertExactlyOnce(run, TOTAL, label);
    assert.deepEqual(fs.readdirSync(path.join(run, 'checkpoints')).filter((n) => n.endsWith('.tmp')), [], `${label}: temp files left in checkpoints/`);
  };

  /** Starts (or resumes) `run`, waits until metrics.jsonl holds a step ≥ `step`, and SIGKILLs it; false if it finished first. */
  async function killAt(args: string[], run: string, step: number): Promise<boolean> {
    const child = startCli(args, { cwd: tmp });
    child.stdout!.resume();
    child.stderr!.resume();
    let done = false;
    void exited(child).then(() => (done = true));
    await waitFor(() => done || stepNumbers(readText(path.join(run, 'metrics.jsonl'))).some((s) => s >= step), `step ${step}`, 60000, 3);
    child.kill('SIGKILL');
    const ex = await exited(child);
    return ex.signal === 'SIGKILL';
  }

  // 9: right after the first checkpoint; 21: late in the last epoch. The repeated-kill test adds 3, 10, 11, 12, 22.
  for (const k of [9, 21]) {
    it(`SIGKILL after step ${k}: resume cuts the steps after the checkpoint; metrics hold 1..24 once; weights, BN statistics and momentum equal the uninterrupted run bit for bit`, async () => {
      const run = path.join(tmp, `kill-${k}`);
      assert.ok(await killAt(['train', '--config', cfg, '--run-dir', run], run, k), 'the run finished before the kill');
      const stepsBefore = rawSteps(run);
      assert.ok(stepsBefore.length >= k);
      const res = await runCli(['train', '--resume', run], { cwd: tmp });
      assert.equal(res.code, 0, res.stderr);
      sameAsReference(run, `killed after step ${k}`);
    });
  }

  it('repeated SIGKILLs (before the first checkpoint, twice between two checkpoints, near the end): --restart, then resumes; one record per step, bit-identical end state', async () => {
    const run = path.join(tmp, 'kill-repeated');
    assert.ok(await killAt(['train', '--config', cfg, '--run-dir', run], run, 3), 'finished before the first kill');
    // No checkpoint yet: --resume refuses without writing and names --restart.
    const before = snapshot(run);
    assertRefusal(await runCli(['train', '--resume', run], { cwd: tmp }), /no checkpoint yet.*--restart/, 'resume without a checkpoint');
    assert.deepEqual(snapshot(run), before, 'a refused resume changed the run folder');
    assertRefusal(await runCli(['train', '--config', cfg, '--run-dir', run], { cwd: tmp }), /already holds a run.*--resume.*--restart/, 'a new run into it');
    let killed = await killAt(['train', '--restart', run], run, 10);
    assert.ok(killed, 'the restart finished before the second kill');
    for (const k of [11, 12, 22]) {
      // 11 and 12 come before the next checkpoint (16): each resume trains 9.. again.
      killed = await killAt(['train', '--resume', run], run, k);
      if (!killed) break;
    }
    if (killed) {
      const res = await runCli(['train', '--resume', run], { cwd: tmp });
      assert.equal(res.code, 0, res.stderr);
    }
    sameAsReference(run, 'killed five times');
    const record = JSON.parse(readText(path.join(run, 'config.json'))) as RunConfigRecord;
    assert.equal(record.resumedFrom?.[0].restarted, true, 'config.json does not record the restart');
  });

  it('SIGKILL while last.ckpt is being written (the kill lands on the temp file when it can): resume removes the orphan temp and ends bit-identical', async () => {
    const run = path.join(tmp, 'kill-ckpt');
    const ckDir = path.join(run, 'checkpoints');
    const child = startCli(['train', '--config', cfg, '--run-dir', run], { cwd: tmp });
    child.stdout!.resume();
    child.stderr!.resume();
    await waitFor(() => fs.existsSync(CKPT(run)), 'the first checkpoint', 60000, 2);
    // The second checkpoint (step 16): kill the moment its temp file appears.
    const watcher = fs.watch(ckDir, (_e, name) => {
      if (name && /^\.last\.ckpt\..*\.tmp$/.test(String(name)) && stepNumbers(readText(path.join(run, 'metrics.jsonl'))).some((s) => s >= 9)) child.kill('SIGKILL');
    });
    await waitFor(() => stepNumbers(readText(path.join(run, 'metrics.jsonl'))).some((s) => s >= 17) || child.exitCode !== null || child.signalCode !== null, 'the second checkpoint', 60000, 2);
    child.kill('SIGKILL');
    watcher.close();
    const ex = await exited(child);
    assert.equal(ex.signal, 'SIGKILL', 'the run finished before the kill');
    // Whether or not the kill hit mid-write, plant what a killed writer leaves, full size.
    fs.writeFileSync(path.join(ckDir, '.last.ckpt.999999.3.tmp'), fs.readFileSync(CKPT(run)).subarray(0, 1000));
    fs.writeFileSync(path.join(run, '.status.json.999999.4.tmp'), '{');
    const res = await runCli(['train', '--resume', run], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    sameAsReference(run, 'killed during a checkpoint write');
    assert.ok(!fs.existsSync(path.join(run, '.status.json.999999.4.tmp')), 'orphan status temp file left');
  });

  it('a run ended by --max-steps 10, resumed with --max-steps 20, equals an uninterrupted --max-steps 20 run bit for bit; metrics 1..20 once', async () => {
    const a = path.join(tmp, 'max10');
    const b = path.join(tmp, 'max20');
    assert.equal((await runCli(['train', '--config', cfg, '--run-dir', a, '--max-steps', '10'], { cwd: tmp })).code, 0);
    assert.equal(checkpointState(CKPT(a)).step, 10);
    const res = await runCli(['train', '--resume', a, '--max-steps', '20'], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await runCli(['train', '--config', cfg, '--run-dir', b, '--max-steps', '20'], { cwd: tmp })).code, 0);
    assertSameState(checkpointState(CKPT(b)), checkpointState(CKPT(a)), '10 + resume → 20 vs 20');
    assert.equal(sha(path.join(a, 'export', 'weights.bin')), sha(path.join(b, 'export', 'weights.bin')));
    assertExactlyOnce(a, 20, 'max-steps resume');
    assert.equal(JSON.parse(readText(path.join(a, 'results.json'))).steps, 20);
  });

  describe('forged and edited run folders: --resume refuses before writing anything', () => {
    let base: string;
    let other: string;
    before(async () => {
      base = path.join(tmp, 'base');
      other = path.join(tmp, 'other-seed');
      assert.equal((await runCli(['train', '--config', cfg, '--run-dir', base, '--max-steps', '9'], { cwd: tmp })).code, 0);
      assert.equal((await runCli(['train', '--config', cfg, '--run-dir', other, '--max-steps', '9', '--seed', '5'], { cwd: tmp })).code, 0);
    });

    const editRecord = (edit: (r: Record<string, unknown>) => unknown) => (run: string): void => {
      const f = path.join(run, 'config.json');
      const r = JSON.parse(readText(f)) as Record<string, unknown>;
      const v = edit(r);
      fs.writeFileSync(f, JSON.stringify(v === undefined ? r : v));
    };
    const replace = (rel: string, make: (file: string) => void) => (run: string): void => {
      fs.rmSync(path.join(run, rel), { recursive: true, force: true });
      make(path.join(run, rel));
    };
    const mkfifo = (file: string): void => void execFileSync('mkfifo', [file]);
    const cases: [string, (run: string) => void, RegExp, string[]?][] = [
      ['config.json edited (lr)', editRecord((r) => void ((r.config as { lr: number }).lr = 0.05)), /checkpoint: .*last\.ckpt was written for a different config than .*config\.json/],
      ['config.json edited (seed)', editRecord((r) => void ((r.config as { seed: number }).seed = 1)), /different config/],
      ['last.ckpt from another run', (run) => fs.copyFileSync(CKPT(other), CKPT(run)), /different config.*another run/],
      ['config.json is null', editRecord(() => null), /--resume: .*config\.json is damaged \(it holds null/],
      ['config.json is a list', editRecord(() => []), /config\.json is damaged/],
      ['config.json has no dataset record', editRecord((r) => void delete r.dataset), /config\.json is damaged \(no valid "dataset" record\)/],
      ['config.json has no schedule record', editRecord((r) => void delete r.schedule), /config\.json is damaged \(no valid "schedule" record\)/],
      ['config.json config has lr 1e999', (run) => fs.writeFileSync(path.join(run, 'config.json'), readText(path.join(run, 'config.json')).replace(/"lr": [^,]+/, '"lr": 1e999')), /config\.json is damaged \(its config is invalid: lr: must be a finite number, got Infinity/],
      ['config.json is 2 MiB', (run) => fs.appendFileSync(path.join(run, 'config.json'), ' '.repeat(2 * 1024 * 1024)), /config\.json is damaged \(is 2 MiB, more than a run's config\.json may hold \(1 MiB\)/],
      ['config.json is a FIFO', replace('config.json', mkfifo), /config\.json is damaged \(is a FIFO/],
      ['config.json links to /dev/zero', replace('config.json', (f) => fs.symlinkSync('/dev/zero', f)), /is a character device/],
      ['config.json is a folder', replace('config.json', (f) => fs.mkdirSync(f)), /is a folder, not a regular file/],
      ['config.json is a symlink loop', replace('config.json', (f) => fs.symlinkSync(f, f)), /symbolic link loop/],
      ['last.ckpt is a FIFO', replace('checkpoints/last.ckpt', mkfifo), /checkpoint: .*last\.ckpt: is a FIFO/],
      ['last.ckpt links to /dev/zero', replace('checkpoints/last.ckpt', (f) => fs.symlinkSync('/dev/zero', f)), /last\.ckpt: is a character device/],
      ['last.ckpt is a folder', replace('checkpoints/last.ckpt', (f) => fs.mkdirSync(f)), /last\.ckpt: is a folder/],
      ['the run folder is a symlink loop', () => undefined, /--resume: .*: cannot be opened: a symbolic link loop/, ['loop']],
      ['--dataset-path on the built-in dataset', () => undefined, /--dataset-path: the run trains on the built-in dataset/, ['--dataset-path', '.']],
      ['--epochs on resume', () => undefined, /--epochs: cannot change on --resume/, ['--epochs', '9']],
      ['--max-steps -1 on resume', () => undefined, /--max-steps: must be ≥ 0/, ['--max-steps', '-1']],
      ['--max-steps 1e18 on resume', () => undefined, /--max-steps: must be ≤ 1000000000/, ['--max-steps', '1000000000000000000']],
      ['--restart on a run with a checkpoint', () => undefined, /--restart: .* has a checkpoint .*--resume/, ['--restart-instead']],
    ];
    for (const [label, forge, what, extra] of cases) {
      it(`${label}: exit 2, one line naming the file or flag and the fix, the folder byte-identical`, async () => {
        const run = path.join(tmp, `forged-${label.replace(/\W+/g, '-')}`);
        fs.cpSync(base, run, { recursive: true });
        forge(run);
        let args = ['train', '--resume', run, ...(extra ?? [])];
        if (extra?.[0] === 'loop') {
          fs.rmSync(run, { recursive: true });
          fs.symlinkSync(run, run);
          args = ['train', '--resume', run];
        } else if (extra?.[0] === '--restart-instead') args = ['train', '--restart', run];
        const before = extra?.[0] === 'loop' ? {} : snapshot(run);
        assertRefusal(await runCli(args, { cwd: tmp }), what, label);
        if (extra?.[0] !== 'loop') assert.deepEqual(snapshot(run), before, `${label}: the refused resume changed the run folder`);
      });
    }

    it('a FIFO as status.json does not block a resume (status is advisory); the run finishes', async () => {
      const run = path.join(tmp, 'forged-status-fifo');
      fs.cpSync(base, run, { recursive: true });
      fs.rmSync(path.join(run, 'status.json'));
      mkfifo(path.join(run, 'status.json'));
      const res = await runCli(['train', '--resume', run, '--max-steps', '12'], { cwd: tmp });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(parseStatus(readText(path.join(run, 'status.json')))?.state, 'completed');
      assertExactlyOnce(run, 12, 'status FIFO');
    });
  });

  it('a moved IDX dataset: resume without --dataset-path refuses naming it; with it, the run finishes bit-identical to an unmoved run and config.json records the move', async () => {
    const data = path.join(tmp, 'idx-a');
    fs.mkdirSync(data);
    const write = (prefix: string, count: number, seed: number, into = data): void => {
      let s = seed;
      const next = (): number => (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
      const images = Uint8Array.from({ length: count * 64 }, next);
      const labels = Uint8Array.from({ length: count }, (_, i) => i % 4);
      fs.writeFileSync(path.join(into, `${prefix}-images-idx3-ubyte`), encodeIdx([count, 8, 8], images));
      fs.writeFileSync(path.join(into, `${prefix}-labels-idx1-ubyte`), encodeIdx([count], labels));
    };
    write('train', 64, 1);
    write('t10k', 16, 2);
    const idxCfg = writeJson(path.join(tmp, 'idx.advprop.json'), { ...CRASH_CONFIG, dataset: { name: 'idx', path: data } });
    const unmoved = path.join(tmp, 'idx-unmoved');
    assert.equal((await runCli(['train', '--config', idxCfg, '--run-dir', unmoved, '--max-steps', '8'], { cwd: tmp })).code, 0);
    const run = path.join(tmp, 'idx-moved');
    assert.equal((await runCli(['train', '--config', idxCfg, '--run-dir', run, '--max-steps', '4'], { cwd: tmp })).code, 0);
    const moved = path.join(tmp, 'idx-b');
    fs.renameSync(data, moved);
    const before = snapshot(run);
    assertRefusal(await runCli(['train', '--resume', run, '--max-steps', '8'], { cwd: tmp }), /^error: dataset[\w.]*: .*--dataset-path NEW_FOLDER/, 'moved dataset');
    assert.deepEqual(snapshot(run), before, 'the refused resume changed the run folder');
    // A folder with other data is refused too.
    const wrong = path.join(tmp, 'idx-wrong');
    fs.mkdirSync(wrong);
    write('train', 48, 3, wrong);
    write('t10k', 16, 2, wrong);
    assertRefusal(await runCli(['train', '--resume', run, '--max-steps', '8', '--dataset-path', wrong], { cwd: tmp }), /--dataset-path: .*48 train .* but the run trained on 64 train/, 'a different dataset');
    assert.deepEqual(snapshot(run), before);
    const res = await runCli(['train', '--resume', run, '--max-steps', '8', '--dataset-path', moved], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assertSameState(checkpointState(CKPT(unmoved)), checkpointState(CKPT(run)), 'moved dataset');
    const record = JSON.parse(readText(path.join(run, 'config.json'))) as RunConfigRecord;
    assert.equal(record.config.dataset.path, moved);
    assert.deepEqual(record.resumedFrom?.at(-1)?.datasetPath, { from: data, to: moved });
  });

  describe('device files, FIFOs and odd numbers for a new run or evaluate: exit 2, one line, nothing created', () => {
    let dir: string;
    before(() => {
      dir = path.join(tmp, 'inputs');
      fs.mkdirSync(dir);
      execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
      fs.symlinkSync(path.join(dir, 'loop.json'), path.join(dir, 'loop.json'));
      fs.writeFileSync(path.join(dir, 'big.json'), `{${' '.repeat(2 * 1024 * 1024)}}`);
      const idx = path.join(dir, 'idx-fifo');
      fs.mkdirSync(idx);
      execFileSync('mkfifo', [path.join(idx, 'train-images-idx3-ubyte')]);
      fs.writeFileSync(path.join(dir, 'idx-fifo.json'), JSON.stringify({ dataset: { name: 'idx', path: idx } }));
    });
    const json = (name: string, value: string): string => {
      const f = path.join(dir, `${name}.json`);
      fs.writeFileSync(f, value);
      return f;
    };
    const cases: [string, () => string[], RegExp][] = [
      ['--config /dev/zero', () => ['train', '--config', '/dev/zero'], /--config: \/dev\/zero: is a character device/],
      ['--config FIFO', () => ['train', '--config', path.join(dir, 'fifo.json')], /--config: .*fifo\.json: is a FIFO/],
      ['--config folder', () => ['train', '--config', dir], /--config: .*: is a folder/],
      ['--config symlink loop', () => ['train', '--config', path.join(dir, 'loop.json')], /--config: .*loop\.json: cannot be read: a symbolic link loop/],
      ['--config 2 MiB', () => ['train', '--config', path.join(dir, 'big.json')], /--config: .*big\.json: is 2 MiB, more than a run config may hold \(1 MiB\)/],
      ['IDX file is a FIFO', () => ['train', '--config', path.join(dir, 'idx-fifo.json')], /dataset: .*train-images-idx3-ubyte: is a FIFO/],
      ['dataset.path is a symlink loop', () => ['train', '--config', json('ds-loop', JSON.stringify({ dataset: { name: 'idx', path: path.join(dir, 'loop.json') } }))], /dataset: .*loop\.json: cannot be opened: a symbolic link loop/],
      ['lr 1e999', () => ['train', '--config', json('lr', '{"lr": 1e999}')], /lr: must be a finite number, got Infinity/],
      ['epochs 1.7e308', () => ['train', '--config', json('ep', '{"epochs": 1.7e308}')], /epochs: must be ≤ 10000/],
      ['epochs 1e12', () => ['train', '--config', json('ep2', '{"epochs": 1e12}')], /epochs: must be ≤ 10000/],
      ['mixupAlpha 1e300', () => ['train', '--config', json('mix', '{"augment": {"mixupAlpha": 1e300}}')], /augment\.mixupAlpha: must be ≤ 100/],
      ['leak.window 1e9', () => ['train', '--config', json('leak', '{"leak": {"window": 1e9}}')], /leak\.window: must be ≤ 1000/],
      ['attack.steps 1e6', () => ['train', '--config', json('steps', '{"attack": {"steps": 1000000}}')], /attack\.steps: must be ≤ 1000/],
      ['trainLimit 1e12', () => ['train', '--config', json('lim', '{"dataset": {"trainLimit": 1e12}}')], /dataset\.trainLimit: must be ≤ 10000000/],
      ['--epochs 1e20', () => ['train', '--epochs', '99999999999999999999'], /--epochs: must be ≤ 10000/],
      ['config null', () => ['train', '--config', json('null', 'null')], /\(root\): a run config must be a JSON object, got null/],
      ['--dataset-path without a run', () => ['train', '--dataset-path', dir], /--dataset-path: only re-points/],
      ['evaluate --limit -5', () => ['evaluate', '--run', reference, '--limit', '-5'], /--limit: must be a number of test images from 1/],
      ['evaluate --limit 0', () => ['evaluate', '--run', reference, '--limit', '0'], /--limit: must be/],
      ['evaluate --pgd 1,99999', () => ['evaluate', '--run', reference, '--pgd', '1,99999'], /--pgd: expected K,EPS with 1 ≤ K ≤ 1000 and 0 ≤ ε ≤ 255/],
      ['evaluate --pgd 99999,1', () => ['evaluate', '--run', reference, '--pgd', '99999,1'], /--pgd: expected K,EPS/],
      ['evaluate --checkpoint FIFO', () => ['evaluate', '--run', reference, '--checkpoint', path.join(dir, 'fifo.json')], /--checkpoint: .*fifo\.json: is a FIFO/],
      ['evaluate --checkpoint /dev/zero', () => ['evaluate', '--run', reference, '--checkpoint', '/dev/zero'], /--checkpoint: .*is a character device/],
      ['evaluate a folder whose config.json is a FIFO', () => {
        const run = path.join(dir, 'fifo-run');
        fs.mkdirSync(run, { recursive: true });
        if (!fs.existsSync(path.join(run, 'config.json'))) execFileSync('mkfifo', [path.join(run, 'config.json')]);
        return ['evaluate', '--run', run];
      }, /--run: .*config\.json is damaged \(is a FIFO/],
    ];
    for (const [label, args, what] of cases) {
      it(`${label}`, async () => {
        const cwd = path.join(tmp, `cwd-${label.replace(/\W+/g, '-')}`);
        fs.mkdirSync(cwd);
        const refBefore = snapshot(reference);
        assertRefusal(await runCli(args(), { cwd, timeoutMs: 60000 }), what, label);
        assert.deepEqual(fs.readdirSync(cwd), [], `${label}: something was created in the working folder`);
        assert.deepEqual(snapshot(reference), refBefore, `${label}: the evaluated run changed`);
      });
    }
  });
});
