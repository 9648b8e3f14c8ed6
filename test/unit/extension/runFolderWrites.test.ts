import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CONFIG } from '../../../src/shared/config';
import { claimQueued, finalizeStatus, readQueueRecord, readStatus, writeQueued } from '../../../src/extension/runFolderWrites';

describe('records the extension writes into a run folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-writes-')), 'run');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('a queued run has a queued status and its config; only one claimant takes it', () => {
    writeQueued(dir, { schema: 1, kind: 'train', queuedAt: 'now', config: DEFAULT_CONFIG });
    assert.equal(readStatus(dir)?.state, 'queued');
    assert.equal(readStatus(dir)?.pid, null);
    assert.deepEqual(readQueueRecord(dir)?.config, DEFAULT_CONFIG);
    assert.equal(fs.existsSync(path.join(dir, 'config.json')), false, 'config.json is the engine\'s: its absence lets --run-dir accept the folder');
    assert.deepEqual(claimQueued(dir)?.config, DEFAULT_CONFIG);
    assert.equal(claimQueued(dir), undefined);
    assert.deepEqual(fs.readdirSync(dir), ['status.json']);
  });

  it('re-queuing a stopped run for resume keeps its checkpoint and progress', () => {
    fs.mkdirSync(dir, { recursive: true });
    const prev = { schema: 1, state: 'stopped', pid: null, startedAt: 's', updatedAt: 'u', endedAt: 'e', progress: { epoch: 2, epochs: 4, step: 20, totalSteps: 40 }, lastCheckpoint: { step: 20, epoch: 2, path: 'checkpoints/x' } } as const;
    writeQueued(dir, { schema: 1, kind: 'resume', queuedAt: 'now' }, structuredClone(prev) as never);
    const s = readStatus(dir)!;
    assert.equal(s.state, 'queued');
    assert.equal(s.endedAt, undefined);
    assert.deepEqual(s.lastCheckpoint, prev.lastCheckpoint);
    assert.deepEqual(s.progress, prev.progress);
  });

  it('finalizeStatus never overwrites a final state the engine wrote', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({ schema: 1, state: 'completed', pid: null, startedAt: null, updatedAt: '', progress: { epoch: 1, epochs: 1, step: 1, totalSteps: 1 } }));
    assert.equal(finalizeStatus(dir, 'failed', 'x'), false);
    assert.equal(readStatus(dir)?.state, 'completed');
  });

  it('finalizeStatus records why an engine died without a final status', () => {
    assert.equal(finalizeStatus(dir, 'failed', 'Error: boom'), true);
    const s = readStatus(dir)!;
    assert.equal(s.state, 'failed');
    assert.equal(s.error?.message, 'Error: boom');
    assert.ok(s.endedAt);
  });
});
