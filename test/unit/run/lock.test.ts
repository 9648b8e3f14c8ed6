// run.lock (src/engine/run/lock.ts): one owner per run folder, identified by pid + start time +
// boot id, so a forged or reused pid never counts as the owner; stale locks (dead owner, reboot,
// reused pid) are taken over by exactly one process; the owner removes its lock however it ends.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunDirError } from '../../../src/engine/run/runDir';
import { acquireRunLock, judgeLock, runLockScope, takeRunLock } from '../../../src/engine/run/lock';
import { SYSTEM_PROBE, parseRunLock, procProbe } from '../../../src/engine/run/processProbe';
import { RUN_LOCK_FILE, type RunLock } from '../../../src/shared/runFormat';
import { CRASH_CONFIG, REPO, exited, readText, requireCli, rmDir, runCli, startCli, tmpDir, waitFor, writeJson } from '../reliability/helpers';

const bootId = (): string | null => SYSTEM_PROBE.bootId();
const processStartTime = (pid: number): string | null => SYSTEM_PROBE.startTime(pid);

const LOCK_JS = path.join(REPO, 'out', 'src', 'engine', 'run', 'lock.js');
const linux = process.platform === 'linux';
const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';

/**
 * A node process that takes the lock on `dir` and then does `then`: 'hold' (prints "locked" and
 * sleeps), 'exit', 'throw', 'wait-term' (holds with no signal handler of its own).
 */
function lockChild(dir: string, then: 'hold' | 'exit' | 'throw'): ChildProcess {
  const script = `
    const { acquireRunLock } = require(${JSON.stringify(LOCK_JS)});
    try { acquireRunLock(${JSON.stringify(dir)}, 'test child', { field: '--run' }); }
    catch (e) { console.log('refused: ' + e.message); process.exit(2); }
    console.log('locked');
    if (${JSON.stringify(then)} === 'exit') process.exit(0);
    if (${JSON.stringify(then)} === 'throw') setTimeout(() => { throw new Error('boom'); }, 10);
    else setInterval(() => {}, 1000);
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function until(child: ChildProcess, text: string): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes(text) || child.exitCode !== null, `child output "${text}"`, 20000);
  return out;
}

function readLock(dir: string): RunLock | undefined {
  return parseRunLock(readText(path.join(dir, RUN_LOCK_FILE)));
}

function forge(dir: string, over: Partial<RunLock>): RunLock {
  const lock: RunLock = { schema: 1, pid: 1, startTime: null, nonce: 'forged', host: os.hostname(), acquiredAt: '2020-01-01T00:00:00.000Z', command: 'train', ...over };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, RUN_LOCK_FILE), JSON.stringify(lock));
  return lock;
}

describe('run.lock: process ownership of a run folder', function () {
  this.timeout(60000);
  let tmp = '';
  const children: ChildProcess[] = [];
  beforeEach(() => (tmp = tmpDir('lock')));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmDir(tmp);
  });
  before(function () {
    if (!fs.existsSync(LOCK_JS)) throw new Error(`${LOCK_JS} is missing: run "node scripts/build.mjs --tests-only"`);
  });

  it('acquire writes pid, start time + boot id, nonce, host, time and command; release removes it', () => {
    const dir = path.join(tmp, 'run');
    fs.mkdirSync(dir);
    const held = acquireRunLock(dir, 'train', { field: '--run-dir' })!;
    const lock = readLock(dir)!;
    assert.deepEqual(lock, held.lock);
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.host, os.hostname());
    assert.equal(lock.command, 'train');
    assert.match(lock.nonce, /^[0-9a-f]{32}$/);
    if (linux) {
      assert.equal(lock.startTime, processStartTime(process.pid));
      const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      assert.equal(lock.startTime!.split(':')[0], boot);
      assert.match(lock.startTime!.split(':')[1], /^\d+$/);
    }
    assert.equal(judgeLock(lock, held.file).owner, 'live');
    held.release();
    assert.equal(fs.existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  });

  it('a live owner in another process: acquire is refused naming it, and the CLI exits 2 with one line', async function () {
    requireCli(this);
    const dir = path.join(tmp, 'run');
    fs.mkdirSync(dir);
    const child = lockChild(dir, 'hold');
    children.push(child);
    assert.match(await until(child, 'locked'), /locked/);
    assert.throws(() => acquireRunLock(dir, 'train --resume', { field: '--resume' }), (e: unknown) => {
      assert.ok(e instanceof RunDirError);
      assert.match(e.message, new RegExp(`^--resume: run run is being trained by process ${child.pid} \\(test child, started .+\\); stop it first$`));
      return true;
    });
    assert.equal(readLock(dir)?.pid, child.pid, 'a refused acquire touched the owner\'s lock');
    for (const args of [['train', '--resume', dir], ['evaluate', '--run', dir], ['export-model', '--run', dir]]) {
      const res = await runCli(args, { cwd: tmp });
      assert.equal(res.code, 2, `${args.join(' ')}: exit ${res.code}; ${res.stderr}`);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
      assert.match(res.stderr, new RegExp(`^error: --(resume|run): run run is being trained by process ${child.pid} .*; stop it first\\n$`));
      assert.equal(res.stdout, '');
    }
    assert.ok(child.exitCode === null, 'the owner died');
  });

  it('an owner killed with SIGKILL leaves a stale lock that the next acquire recovers, saying so', async () => {
    const dir = path.join(tmp, 'run');
    fs.mkdirSync(dir);
    const child = lockChild(dir, 'hold');
    children.push(child);
    await until(child, 'locked');
    child.kill('SIGKILL');
    await exited(child);
    assert.equal(readLock(dir)?.pid, child.pid, 'SIGKILL cannot run cleanup: the lock should still be there');
    const said: string[] = [];
    const held = acquireRunLock(dir, 'train --resume', { field: '--resume', say: (l) => said.push(l) })!;
    assert.equal(held.recovered?.pid, child.pid);
    assert.deepEqual(said, [`recovered a stale lock left by process ${child.pid} (process ${child.pid} is gone)`]);
    assert.equal(readLock(dir)?.nonce, held.lock.nonce);
    held.release();
  });

  it('a lock naming a live pid from another boot, or a reused pid with another start time, is stale; the right identity is live', async function () {
    if (!linux) this.skip();
    const dir = path.join(tmp, 'run');
    // A real live process that is not the lock's owner: what a forger or a reused pid points at.
    const victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(victim);
    await waitFor(() => processStartTime(victim.pid!) !== null, 'the victim process', 10000);
    const real = processStartTime(victim.pid!)!;
    const [, ticks] = real.split(':');
    const otherBoot = '00000000-0000-4000-8000-000000000000';
    assert.notEqual(bootId(), otherBoot);

    assert.equal(judgeLock(forge(dir, { pid: victim.pid!, startTime: real })).owner, 'live');
    const rebooted = forge(dir, { pid: victim.pid!, startTime: `${otherBoot}:${ticks}` });
    assert.deepEqual(judgeLock(rebooted), { owner: 'stale', lock: rebooted, why: `it was taken before the machine restarted (pid ${victim.pid} is another process now)` });
    const reused = forge(dir, { pid: victim.pid!, startTime: `${bootId()}:${Number(ticks) + 1}` });
    assert.equal(judgeLock(reused).owner, 'stale');
    const said: string[] = [];
    const held = acquireRunLock(dir, 'train --resume', { field: '--resume', say: (l) => said.push(l) })!;
    assert.match(said[0], new RegExp(`^recovered a stale lock left by process ${victim.pid} \\(pid ${victim.pid} now belongs to another process\\)$`));
    held.release();
    assert.equal(victim.exitCode, null, 'the victim must be untouched');
    // Another host cannot be checked from here: refused, with the way out.
    forge(dir, { pid: victim.pid!, host: `not-${os.hostname()}` });
    assert.throws(() => acquireRunLock(dir, 'train', { field: '--run' }), /on host not-.*which this machine cannot check; stop it there, or delete .*run\.lock if that process is gone/);
  });

  it('without /proc (macOS, Windows): the lock records no start time; a live pid keeps the run, a dead one is recovered', async () => {
    const dir = path.join(tmp, 'run');
    // A procfs root with nothing in it reads as an OS that does not tell start times.
    const noProc = procProbe(path.join(tmp, 'no-proc'));
    assert.equal(noProc.bootId(), null);
    const held = acquireRunLock(dir, 'train', { field: '--run', create: true, probe: noProc })!;
    assert.equal(held.lock.startTime, null);
    assert.equal(parseRunLock(readText(path.join(dir, RUN_LOCK_FILE)))?.startTime, null);
    held.release();

    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(live);
    // Nothing can prove a live pid is not the owner: refused, whether the lock has a start time or not.
    forge(dir, { pid: live.pid!, startTime: null });
    assert.throws(() => acquireRunLock(dir, 'train --resume', { field: '--resume', probe: noProc }), new RegExp(`is being trained by process ${live.pid} .*stop it first`));
    forge(dir, { pid: live.pid!, startTime: `${OTHER_BOOT}:1` });
    assert.throws(() => acquireRunLock(dir, 'train --resume', { field: '--resume', probe: noProc }), /stop it first/);

    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await exited(gone);
    forge(dir, { pid: gone.pid!, startTime: null });
    const said: string[] = [];
    const again = acquireRunLock(dir, 'train --resume', { field: '--resume', probe: noProc, say: (l) => said.push(l) })!;
    assert.deepEqual(said, [`recovered a stale lock left by process ${gone.pid} (process ${gone.pid} is gone)`]);
    again.release();
  });

  it('reads the start time as field 22 after the last ")" of <proc>/<pid>/stat, with the boot id', () => {
    const root = path.join(tmp, 'proc');
    fs.mkdirSync(path.join(root, 'sys/kernel/random'), { recursive: true });
    fs.mkdirSync(path.join(root, '4242'));
    fs.writeFileSync(path.join(root, 'sys/kernel/random/boot_id'), 'boot-1\n');
    // A command name with spaces and a ')' of its own, as `comm` may hold.
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[19] = '987654';
    fs.writeFileSync(path.join(root, '4242', 'stat'), `4242 (a) b (c)) ${fields.join(' ')}\n`);
    const probe = procProbe(root);
    assert.equal(probe.startTime(4242), 'boot-1:987654');
    assert.equal(probe.startTime(4243), null);
    assert.equal(probe.startTime(-1), null);
  });

  it('the owner removes its lock on a normal exit, an uncaught error and SIGTERM (no handler of its own)', async () => {
    for (const how of ['exit', 'throw', 'term'] as const) {
      const dir = path.join(tmp, how);
      fs.mkdirSync(dir);
      const child = lockChild(dir, how === 'term' ? 'hold' : how);
      children.push(child);
      child.stderr!.resume();
      await until(child, 'locked');
      if (how === 'term') {
        assert.ok(readLock(dir), 'the holder has no lock');
        child.kill('SIGTERM');
      }
      const ex = await exited(child);
      if (how === 'term') assert.equal(ex.signal, 'SIGTERM', 'the signal must still end the process as SIGTERM');
      assert.equal(fs.existsSync(path.join(dir, RUN_LOCK_FILE)), false, `${how}: the lock was left behind`);
    }
  });

  it('scopes: locks taken inside runLockScope are released when it settles; a nested scope reuses the outer lock', async () => {
    const dir = path.join(tmp, 'run');
    fs.mkdirSync(dir);
    await runLockScope(async () => {
      takeRunLock(dir, 'train', { field: '--run-dir' });
      const nonce = readLock(dir)!.nonce;
      await runLockScope(async () => {
        takeRunLock(dir, 'evaluate', { field: '--run' }); // train's autoEvaluate
        assert.equal(readLock(dir)!.nonce, nonce);
      });
      assert.equal(readLock(dir)?.nonce, nonce, 'the nested scope released the outer lock');
    });
    assert.equal(fs.existsSync(path.join(dir, RUN_LOCK_FILE)), false);
    // A new run folder (and the missing runs folder above it) made by the lock for a start that
    // then failed (e.g. the backend would not load) is removed again.
    const runsDir = path.join(tmp, 'runs');
    await runLockScope(async () => {
      takeRunLock(path.join(runsDir, 'fresh'), 'train', { field: '--runs-dir', create: true });
      assert.ok(fs.existsSync(path.join(runsDir, 'fresh', RUN_LOCK_FILE)));
      throw new Error('backend failed');
    }).catch(() => undefined);
    assert.equal(fs.existsSync(runsDir), false);
  });

  it('race: 8 rounds of two processes acquiring at the same instant (free lock, then a stale one): exactly one wins each time', async () => {
    for (let round = 0; round < 8; round++) {
      const dir = path.join(tmp, `race-${round}`);
      fs.mkdirSync(dir);
      if (round % 2 === 1) forge(dir, { pid: 2 ** 22 + 12345 }); // a dead pid: both try to recover it
      const at = Date.now() + 1500;
      // Each racer holds what it got until the parent has both answers: a winner that exited early
      // would free the lock, and a racer started late on a loaded machine would then win as well,
      // legitimately (one after the other), which is not the race this test is about.
      const script = `
        const { acquireRunLock } = require(${JSON.stringify(LOCK_JS)});
        while (Date.now() < ${at}) {}
        try { acquireRunLock(${JSON.stringify(dir)}, 'race', { field: '--run' }); console.log('won'); }
        catch (e) { console.log('lost: ' + e.message); }
        setInterval(() => {}, 1000);
      `;
      const racers = [0, 1].map(() => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
      children.push(...racers);
      const outs = await Promise.all(racers.map(async (c) => {
        let out = '';
        c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        await waitFor(() => out.includes('\n') || c.exitCode !== null, 'a racer\'s answer', 30000);
        return out.trim();
      }));
      for (const c of racers) c.kill('SIGTERM');
      await Promise.all(racers.map((c) => exited(c)));
      assert.equal(outs.filter((o) => o === 'won').length, 1, `round ${round}: ${JSON.stringify(outs)}`);
      assert.match(outs.find((o) => o !== 'won')!, /^lost: --run: run race-\d is being trained by process \d+/);
    }
  });

  describe('through the real CLI', () => {
    it('two `train --resume RUN` started together: exactly one trains, the other exits 2 naming it; after a simulated reboot --resume recovers the lock', async function () {
      requireCli(this);
      this.timeout(240000);
      const cfg = writeJson(path.join(tmp, 'c.advprop.json'), CRASH_CONFIG);
      const run = path.join(tmp, 'run');
      const first = await runCli(['train', '--config', cfg, '--run-dir', run, '--max-steps', '8'], { cwd: tmp });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(fs.existsSync(path.join(run, RUN_LOCK_FILE)), false, 'a finished train left its lock');

      const racers = [0, 1].map(() => startCli(['train', '--resume', run, '--max-steps', '12'], { cwd: tmp }));
      children.push(...racers);
      const results = await Promise.all(racers.map(async (c) => {
        let stdout = '';
        let stderr = '';
        c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
        c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const ex = await exited(c);
        return { code: ex.code, stdout, stderr, pid: c.pid };
      }));
      const winners = results.filter((r) => r.code === 0);
      const losers = results.filter((r) => r.code === 2);
      assert.equal(winners.length, 1, JSON.stringify(results.map((r) => [r.code, r.stderr.slice(0, 300)])));
      assert.equal(losers.length, 1, JSON.stringify(results.map((r) => [r.code, r.stderr.slice(0, 300)])));
      assert.match(losers[0].stderr, new RegExp(`^error: --resume: run run is being trained by process ${winners[0].pid} \\(train --resume, started .+\\); stop it first\\n$`));
      const resumes = readText(path.join(run, 'metrics.jsonl')).split('\n').filter((l) => l.includes('"event":"resume"'));
      assert.equal(resumes.length, 1, 'the refused resume wrote into the run');

      if (!linux) return;
      // After a reboot: status says running with a pid that is alive again (here: this test
      // process), the lock names it with the old boot id. The resume recovers and trains.
      const st = JSON.parse(readText(path.join(run, 'status.json')));
      fs.writeFileSync(path.join(run, 'status.json'), JSON.stringify({ ...st, state: 'running', pid: process.pid }));
      forge(run, { pid: process.pid, startTime: '00000000-0000-4000-8000-000000000000:1', command: 'train --resume' });
      const after = await runCli(['train', '--resume', run, '--max-steps', '14'], { cwd: tmp });
      assert.equal(after.code, 0, after.stderr);
      assert.match(after.stdout, new RegExp(`recovered a stale lock left by process ${process.pid} \\(it was taken before the machine restarted`));
      assert.equal(JSON.parse(readText(path.join(run, 'status.json'))).state, 'completed');
      assert.equal(fs.existsSync(path.join(run, RUN_LOCK_FILE)), false);
    });
  });
});
