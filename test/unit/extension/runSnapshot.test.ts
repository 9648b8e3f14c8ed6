import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processStartTime } from '../../../src/extension/runs/processIdentity';
import { runGroupOf } from '../../../src/extension/runGroups';
import { RunFolderReader, isPidAlive } from '../../../src/extension/runSnapshot';

function deadPid(): number {
  // A pid that certainly existed and exited.
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('run folder reader', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-snap-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const status = (o: Record<string, unknown>) =>
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ schema: 1, state: 'running', pid: process.pid, startedAt: '2025-01-01T00:00:00Z', updatedAt: '', progress: { epoch: 1, epochs: 2, step: 3, totalSteps: 10 }, ...o }));

  it('knows live and dead pids', () => {
    assert.equal(isPidAlive(process.pid), true);
    assert.equal(isPidAlive(deadPid()), false);
    assert.equal(isPidAlive(null), false);
    assert.equal(isPidAlive(-1), false);
  });

  it('an empty folder is a snapshot with no status, not an error', () => {
    const r = new RunFolderReader(dir);
    r.poll();
    assert.equal(r.snapshot.status, undefined);
    assert.equal(r.snapshot.statusProblem, undefined);
    assert.equal(r.snapshot.alive, false);
  });

  it('a half-written status.json is shown as unreadable', () => {
    fs.writeFileSync(path.join(dir, 'status.json'), '{"schema":1,"sta');
    const r = new RunFolderReader(dir);
    assert.doesNotThrow(() => r.poll());
    assert.equal(r.snapshot.status, undefined);
    assert.equal(r.snapshot.statusProblem, 'unreadable');
  });

  it('running is alive only while run.lock names a verified live process; status.json\'s pid alone, or a dead pid, is crashed', () => {
    status({});
    const r = new RunFolderReader(dir);
    r.poll();
    assert.equal(r.snapshot.alive, false, 'a live pid in status.json without a lock must not count as running');
    assert.equal(r.snapshot.crashed, true);
    const lock = { schema: 1, pid: process.pid, startTime: processStartTime(process.pid), nonce: 'n', host: os.hostname(), acquiredAt: '', command: 'train' };
    fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify(lock));
    assert.equal(r.poll(), true);
    assert.equal(r.snapshot.alive, true);
    assert.equal(r.snapshot.crashed, false);
    if (process.platform === 'linux') {
      // After a reboot: same pid, alive, but the lock was taken under another boot id.
      fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({ ...lock, startTime: `00000000-0000-4000-8000-000000000000:${lock.startTime!.split(':')[1]}` }));
      assert.equal(r.poll(), true);
      assert.equal(r.snapshot.alive, false);
      assert.equal(r.snapshot.crashed, true);
      assert.match(r.snapshot.staleOwner ?? '', /stale lock of process \d+: it was taken before the machine restarted/);
    }
    fs.rmSync(path.join(dir, 'run.lock'));
    status({ pid: deadPid() });
    assert.equal(r.poll(), true);
    assert.equal(r.snapshot.alive, false);
    assert.equal(r.snapshot.crashed, true);
  });

  it('a lock naming another machine (a cluster node on a shared filesystem) is running there, not crashed; the queue does not count it as alive here', () => {
    status({ pid: deadPid() });
    fs.writeFileSync(path.join(dir, 'run.lock'), JSON.stringify({ schema: 1, pid: deadPid(), startTime: null, nonce: 'n', host: `node-of-${os.hostname()}`, acquiredAt: '', command: 'train' }));
    const r = new RunFolderReader(dir);
    r.poll();
    assert.equal(r.snapshot.elsewhere, `node-of-${os.hostname()}`);
    assert.equal(r.snapshot.crashed, false);
    assert.equal(r.snapshot.alive, false);
    assert.equal(runGroupOf(r.snapshot), 'running');
    fs.rmSync(path.join(dir, 'run.lock'));
    assert.equal(r.poll(), true);
    assert.equal(r.snapshot.elsewhere, undefined);
    assert.equal(r.snapshot.crashed, true);
  });

  it('final and queued states are never crashed', () => {
    for (const state of ['completed', 'stopped', 'failed', 'queued']) {
      status({ state, pid: state === 'queued' ? null : deadPid() });
      const r = new RunFolderReader(dir);
      r.poll();
      assert.equal(r.snapshot.crashed, false, state);
      assert.equal(r.snapshot.alive, false, state);
    }
  });

  it('poll reports changes only when something changed, and reads metrics incrementally', () => {
    status({ state: 'completed', pid: null });
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"v":1,"kind":"step","step":1}\n');
    const r = new RunFolderReader(dir);
    assert.equal(r.poll(), true);
    assert.equal(r.poll(), false);
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"v":1,"kind":"epoch","epoch":1,"test":{"acc":0.5,"loss":1}}\n');
    assert.equal(r.poll(), true);
    assert.equal(r.snapshot.metrics.length, 2);
    assert.equal(r.snapshot.createdMs, Date.parse('2025-01-01T00:00:00Z'));
  });

  it('this window\'s child counts as alive before the engine writes a status', () => {
    const r = new RunFolderReader(dir, () => true);
    r.poll();
    assert.equal(r.snapshot.alive, true);
  });
});
