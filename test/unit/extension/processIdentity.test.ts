// The extension's reading of run.lock (src/extension/runs/processIdentity.ts): a pid is only ever
// "the run's engine" when the lock names it and it is still the process that took the lock.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootId, judgeLock, ownerOf, processStartTime, verifiedPid } from '../../../src/extension/runs/processIdentity';
import { procProbe } from '../../../src/engine/run/processProbe';
import type { RunLock } from '../../../src/shared/runFormat';

const linux = process.platform === 'linux';
const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';

describe('process identity from run.lock (extension side)', () => {
  let dir = '';
  let victim: ChildProcess;
  let identity = '';
  before(async function () {
    if (!linux) this.skip();
    victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !processStartTime(victim.pid!); i++) await new Promise((r) => setTimeout(r, 20));
    identity = processStartTime(victim.pid!)!;
  });
  after(() => victim?.kill('SIGKILL'));
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-ident-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const lockOf = (o: Partial<RunLock>): RunLock => ({ schema: 1, pid: victim.pid!, startTime: identity, nonce: 'n1', host: os.hostname(), acquiredAt: '', command: 'train', ...o });
  const write = (o: Partial<RunLock> | string): void => fs.writeFileSync(path.join(dir, 'run.lock'), typeof o === 'string' ? o : JSON.stringify(lockOf(o)));

  it('reads field 22 of /proc/<pid>/stat with the boot id; a gone process has none', () => {
    const [boot, ticks] = identity.split(':');
    assert.equal(boot, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    assert.equal(boot, bootId());
    // A process started later has a start time that is not smaller.
    assert.ok(Number(processStartTime(process.pid)!.split(':')[1]) <= Number(ticks));
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    assert.equal(processStartTime(gone), null);
  });

  it('verified only for the live process that took the lock: a dead pid, another boot, another start time or a missing start time are stale', () => {
    assert.equal(judgeLock(lockOf({})).owner, 'verified');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    assert.deepEqual(judgeLock(lockOf({ pid: dead })), { owner: 'stale', lock: lockOf({ pid: dead }), why: `process ${dead} is gone` });
    const ticks = identity.split(':')[1];
    assert.equal(judgeLock(lockOf({ startTime: `${OTHER_BOOT}:${ticks}` })).owner, 'stale');
    assert.match((judgeLock(lockOf({ startTime: `${OTHER_BOOT}:${ticks}` })) as { why: string }).why, /before the machine restarted/);
    assert.match((judgeLock(lockOf({ startTime: `${bootId()}:${Number(ticks) + 7}` })) as { why: string }).why, /now belongs to another process/);
    assert.equal(judgeLock(lockOf({ startTime: null })).owner, 'stale', 'a lock without a start time cannot be checked here');
    assert.equal(judgeLock(lockOf({ host: `not-${os.hostname()}` })).owner, 'other-host');
  });

  it('without /proc (macOS, Windows): a live pid whose lock records no start time is verified; a dead one is stale', () => {
    const noProc = procProbe(path.join(dir, 'no-proc'));
    assert.equal(judgeLock(lockOf({ startTime: null }), noProc).owner, 'verified');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    assert.equal(judgeLock(lockOf({ pid: dead, startTime: null }), noProc).owner, 'stale');
    // A lock from a Linux boot cannot be matched where boot ids cannot be read: never signalled.
    assert.equal(judgeLock(lockOf({}), noProc).owner, 'stale');
  });

  it('verifiedPid: the pid only while the lock is the one verified before (same nonce)', () => {
    write({});
    assert.equal(ownerOf(dir).owner, 'verified');
    assert.equal(verifiedPid(dir), victim.pid);
    assert.equal(verifiedPid(dir, 'n1'), victim.pid);
    assert.equal(verifiedPid(dir, 'other'), undefined);
    write({ startTime: `${OTHER_BOOT}:1` });
    assert.equal(verifiedPid(dir, 'n1'), undefined);
  });

  it('no lock, a garbage, oversized or wrong-typed lock, or a FIFO named run.lock: no owner, and nothing hangs', () => {
    assert.deepEqual(ownerOf(dir), { owner: 'none' });
    for (const bad of ['', '{', 'null', '[]', JSON.stringify({ ...lockOf({}), schema: 2 }), JSON.stringify({ ...lockOf({}), pid: '1' }), JSON.stringify({ ...lockOf({}), pid: -1 }), JSON.stringify({ ...lockOf({}), pad: 'x'.repeat(5000) })]) {
      write(bad);
      assert.deepEqual(ownerOf(dir), { owner: 'none' }, bad.slice(0, 60));
    }
    fs.rmSync(path.join(dir, 'run.lock'));
    execFileSync('mkfifo', [path.join(dir, 'run.lock')]);
    assert.deepEqual(ownerOf(dir), { owner: 'none' });
  });
});
