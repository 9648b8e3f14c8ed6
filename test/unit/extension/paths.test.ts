import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UnsafePathError, checkRunDir, resolveRunsFolder, safeRunDir } from '../../../src/extension/paths';

describe('run folder path safety', () => {
  let root: string;
  let runs: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-paths-'));
    runs = path.join(root, 'runs');
    fs.mkdirSync(runs);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('puts a plain name directly under the runs folder', () => {
    assert.equal(safeRunDir(runs, 'fast-advprop-20250101-120000'), path.join(runs, 'fast-advprop-20250101-120000'));
    assert.equal(safeRunDir(runs, 'a.b_c-1'), path.join(runs, 'a.b_c-1'));
  });

  for (const bad of ['../evil', '..', '.', '', '/etc', 'a/b', 'a\\b', '.hidden', 'x'.repeat(101), 'with space', 'C:\\x', '-flag']) {
    it(`refuses the name ${JSON.stringify(bad.length > 20 ? bad.slice(0, 20) + '…' : bad)}`, () => {
      assert.throws(() => safeRunDir(runs, bad), UnsafePathError);
    });
  }

  it('refuses a name that is a symlink to a folder outside', () => {
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(runs, 'link'));
    assert.throws(() => safeRunDir(runs, 'link'), /symbolic link/);
    assert.throws(() => checkRunDir(runs, path.join(runs, 'link')), /symbolic link/);
  });

  it('checkRunDir accepts a direct child and refuses the folder itself, parents and grandchildren', () => {
    fs.mkdirSync(path.join(runs, 'r1', 'checkpoints'), { recursive: true });
    assert.equal(checkRunDir(runs, path.join(runs, 'r1')), path.join(runs, 'r1'));
    assert.equal(checkRunDir(runs, 'r1'), path.join(runs, 'r1'));
    assert.throws(() => checkRunDir(runs, runs), UnsafePathError);
    assert.throws(() => checkRunDir(runs, root), UnsafePathError);
    assert.throws(() => checkRunDir(runs, '/'), UnsafePathError);
    assert.throws(() => checkRunDir(runs, path.join(runs, 'r1', 'checkpoints')), UnsafePathError);
    assert.throws(() => checkRunDir(runs, path.join(runs, '..', 'runs', '..', 'x')), UnsafePathError);
  });

  it('resolves the runs folder setting against the workspace, keeps absolute paths, falls back to global storage', () => {
    assert.equal(resolveRunsFolder('.advprop-runs', '/ws', '/gs'), path.resolve('/ws', '.advprop-runs'));
    assert.equal(resolveRunsFolder('', '/ws', '/gs'), path.resolve('/ws', '.advprop-runs'));
    assert.equal(resolveRunsFolder(undefined, '/ws', '/gs'), path.resolve('/ws', '.advprop-runs'));
    assert.equal(resolveRunsFolder('/data/runs', '/ws', '/gs'), path.normalize('/data/runs'));
    assert.equal(resolveRunsFolder('.advprop-runs', undefined, '/gs'), path.join('/gs', 'runs'));
  });
});
