import * as assert from 'node:assert/strict';
import { JobQueue, mustQueue } from '../../../src/extension/jobQueue';

describe('run queue', () => {
  it('queues once the limit is reached; the limit is at least 1', () => {
    assert.equal(mustQueue(0, 1), false);
    assert.equal(mustQueue(1, 1), true);
    assert.equal(mustQueue(1, 2), false);
    assert.equal(mustQueue(2, 2), true);
    assert.equal(mustQueue(0, 0), false);
    assert.equal(mustQueue(1, 0), true);
    assert.equal(mustQueue(1, Number.NaN), true);
  });

  it('starts in FIFO order as slots free, never more than the free slots', () => {
    const q = new JobQueue<{ runDir: string }>();
    for (const r of ['a', 'b', 'c']) q.enqueue({ runDir: r });
    q.enqueue({ runDir: 'a' }); // a duplicate start request is not queued twice
    assert.equal(q.size, 3);
    assert.deepEqual(q.takeStartable(1, 1), []);
    assert.deepEqual(q.takeStartable(0, 1).map((x) => x.runDir), ['a']);
    assert.deepEqual(q.takeStartable(1, 3).map((x) => x.runDir), ['b', 'c']);
    assert.equal(q.size, 0);
  });

  it('an item held back by mayStart (a sweep point over its sweep\'s limit) keeps its place and does not use up a slot', () => {
    const q = new JobQueue<{ runDir: string }>();
    for (const r of ['s/1', 's/2', 'x', 's/3']) q.enqueue({ runDir: r });
    let sweepRunning = 1;
    const take = () => q.takeStartable(0, 3, (i) => !i.runDir.startsWith('s/') || (sweepRunning < 1 ? (sweepRunning++, true) : false));
    assert.deepEqual(take().map((x) => x.runDir), ['x']);
    assert.deepEqual(q.list().map((x) => x.runDir), ['s/1', 's/2', 's/3']);
    sweepRunning = 0;
    assert.deepEqual(take().map((x) => x.runDir), ['s/1']);
    q.prune((i) => i.runDir === 's/3');
    assert.deepEqual(q.list().map((x) => x.runDir), ['s/2']);
  });

  it('removes a cancelled run so it never starts', () => {
    const q = new JobQueue<{ runDir: string }>();
    q.enqueue({ runDir: 'a' });
    q.enqueue({ runDir: 'b' });
    assert.equal(q.remove('a')?.runDir, 'a');
    assert.equal(q.remove('a'), undefined);
    assert.equal(q.has('b'), true);
    assert.deepEqual(q.takeStartable(0, 5).map((x) => x.runDir), ['b']);
  });
});
