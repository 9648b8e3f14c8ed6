// Issue #12, in a trusted workspace: Stop signals only the process that run.lock names and that is
// verifiably the one that took the lock. A run whose status.json names a live process without such
// a lock (forged, or a pid reused after the engine died or the machine rebooted) is shown crashed,
// and Stop marks it so and signals nothing.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFakeRun } from '../fixtures/runFolder';
import { processStartTime } from '../../src/extension/runs/processIdentity';

const EXTENSION_ID = 'fast-advprop.fast-advprop';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LOCK_JS = path.join(__dirname, '..', '..', 'src', 'engine', 'run', 'lock.js');
const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';

interface Snap { alive: boolean; crashed: boolean; status?: { state?: string; pid?: number | null; error?: { message?: string } } }
interface ServicesLike {
  runs: { runsFolder: string; refresh(): void; get(runDir: string): Snap | undefined };
  jobs: { stop(runDir: string): Promise<void> };
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
}

suite('Fast AdvProp process ownership (run.lock)', () => {
  let services: ServicesLike;
  const stamp = Date.now();
  const children: ChildProcess[] = [];

  suiteSetup(async function () {
    this.timeout(60_000);
    services = (await vscode.extensions.getExtension<ServicesLike>(EXTENSION_ID)!.activate())!;
  });
  suiteTeardown(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  /** A stopped run rewritten as `running` with `pid`, plus run.lock fields when given. */
  async function forgedRunning(name: string, pid: number, lock?: Record<string, unknown>): Promise<string> {
    const dir = path.join(services.runs.runsFolder, name);
    writeFakeRun(dir, { name, state: 'stopped', writtenBy: 'the ownership test', epochs: 2, stepsPerEpoch: 4, milestones: [1] });
    const st = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
    delete st.endedAt;
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ ...st, state: 'running', pid }));
    if (lock) fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({ schema: 1, pid, startTime: processStartTime(pid), nonce: 'n', host: os.hostname(), acquiredAt: new Date().toISOString(), command: 'train', ...lock }));
    const deadline = Date.now() + 10_000;
    while (!services.runs.get(dir)?.status && Date.now() < deadline) {
      services.runs.refresh();
      await sleep(100);
    }
    return dir;
  }

  test('status.json naming a live process with no lock, a lock from before a reboot, or a reused pid: shown crashed; Stop (twice) signals nothing and marks it crashed', async function () {
    this.timeout(60_000);
    const victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(victim);
    const t0 = Date.now();
    while (!processStartTime(victim.pid!) && Date.now() - t0 < 5000) await sleep(50);
    const ticks = processStartTime(victim.pid!)!.split(':')[1];
    const cases: [string, Record<string, unknown> | undefined, RegExp][] = [
      ['no-lock', undefined, /no engine holds its run\.lock/],
      ['rebooted', { startTime: `${OTHER_BOOT}:${ticks}` }, /before the machine restarted/],
      ['reused-pid', { startTime: `${processStartTime(victim.pid!)!.split(':')[0]}:${Number(ticks) + 3}` }, /now belongs to another process/],
    ];
    for (const [tag, lock, why] of cases) {
      const dir = await forgedRunning(`own-${tag}-${stamp}`, victim.pid!, lock);
      const snap = services.runs.get(dir)!;
      assert.equal(snap.alive, false, `${tag}: shown as running on status.json's pid`);
      assert.equal(snap.crashed, true, `${tag}: not shown crashed`);
      await services.jobs.stop(dir);
      await services.jobs.stop(dir); // the second Stop is the one that kills a verified owner
      await sleep(1000);
      assert.equal(victim.exitCode, null, `${tag}: the victim exited`);
      assert.equal(victim.signalCode, null, `${tag}: the victim was signalled (${victim.signalCode})`);
      const st = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
      assert.equal(st.state, 'running', tag);
      assert.equal(st.pid, null, `${tag}: the unverifiable pid should be dropped`);
      assert.match(st.error?.message ?? '', why, tag);
      services.runs.refresh();
      assert.equal(services.runs.get(dir)?.crashed, true, tag);
    }
  });

  test('a lock held by the live process that took it: shown running, and Stop sends that process SIGTERM', async function () {
    this.timeout(30_000);
    assert.ok(fs.existsSync(LOCK_JS), `${LOCK_JS} is missing (node scripts/build.mjs)`);
    const name = `own-verified-${stamp}`;
    const dir = await forgedRunning(name, process.pid);
    const owner = spawn(process.execPath, ['-e', `require(${JSON.stringify(LOCK_JS)}).acquireRunLock(${JSON.stringify(dir)}, 'train', { field: '--run' }); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(owner);
    await new Promise<void>((r) => owner.stdout!.once('data', () => r()));
    const st = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ ...st, pid: owner.pid }));
    const deadline = Date.now() + 5000;
    while (!services.runs.get(dir)?.alive && Date.now() < deadline) {
      services.runs.refresh();
      await sleep(100);
    }
    assert.equal(services.runs.get(dir)?.alive, true, 'a verified owner is not shown running');
    await services.jobs.stop(dir);
    assert.equal(await Promise.race([exited(owner), sleep(5000).then(() => 'still alive')]), 'SIGTERM');
    assert.equal(fs.existsSync(path.join(dir, 'run.lock')), false, 'the owner\'s lock outlived it');
  });
});
