// Paths that try to leave the runs folder are refused; a runs folder that cannot be written gives
// a clear message naming the path, a non-zero exit, and no half-written run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UnsafePathError, checkRunDir, safeRunDir } from '../../../src/extension/paths';
import { ConfigError, resolveConfig } from '../../../src/shared/config';
import { chooseRunDir, defaultRunName } from '../../../src/engine/run/runDir';
import { parseStatus } from '../../../src/shared/runFormat';
import { TINY_CONFIG, listTree, readText, requireCli, rmDir, runCli, tmpDir, writeJson } from './helpers';

const ESCAPES = ['../x', '../../etc', '..', '.', '', '/abs', '/etc/passwd', 'a/b', 'a\\b', 'a\u0000b', '\u0000', './x', 'x/..', '.hidden', '-rf', ' x', 'x '.repeat(60), 'é', 'a'.repeat(101)];

describe('reliability: run names and run folders stay inside the runs folder', () => {
  let root: string;
  beforeEach(() => (root = tmpDir('paths')));
  afterEach(() => rmDir(root));

  it('safeRunDir refuses names with "..", separators, absolute paths and NUL bytes; accepts plain names as direct children', () => {
    for (const name of ESCAPES) assert.throws(() => safeRunDir(root, name), UnsafePathError, JSON.stringify(name));
    for (const name of ['run-1', 'a.b_c', 'x'.repeat(100), '1']) assert.equal(path.dirname(safeRunDir(root, name)), path.resolve(root), name);
  });

  it('safeRunDir and checkRunDir refuse a symlink in the runs folder that points outside it', () => {
    const outside = tmpDir('outside');
    try {
      fs.symlinkSync(outside, path.join(root, 'link'));
      assert.throws(() => safeRunDir(root, 'link'), UnsafePathError);
      assert.throws(() => checkRunDir(root, 'link'), UnsafePathError);
      assert.throws(() => checkRunDir(root, path.join(root, 'link')), UnsafePathError);
    } finally {
      rmDir(outside);
    }
  });

  it('checkRunDir refuses folders outside the runs folder, the folder itself and nested paths', () => {
    for (const p of ['../x', '/etc', path.dirname(root), root, path.join(root, 'a', 'b'), `${root}/../x`, 'a/../../x', '', '  ', '..', '.']) {
      assert.throws(() => checkRunDir(root, p), UnsafePathError, JSON.stringify(p));
    }
    assert.equal(checkRunDir(root, 'r1'), path.join(path.resolve(root), 'r1'));
    assert.equal(checkRunDir(root, path.join(root, 'r1')), path.join(path.resolve(root), 'r1'));
  });

  it('a config `name` that would escape is a ConfigError on "name"; a valid one becomes a direct child via chooseRunDir', () => {
    for (const name of ESCAPES) {
      assert.throws(() => resolveConfig({ name }), (e: unknown) => e instanceof ConfigError && e.field === 'name', JSON.stringify(name));
    }
    const cfg = resolveConfig({ name: 'ok-run' });
    assert.equal(chooseRunDir({ runsDir: root, name: defaultRunName(cfg) }), path.join(path.resolve(root), 'ok-run'));
    fs.mkdirSync(path.join(root, 'ok-run'));
    assert.equal(chooseRunDir({ runsDir: root, name: defaultRunName(cfg) }), path.join(path.resolve(root), 'ok-run-2'));
  });
});

describe('reliability: the CLI keeps runs where it is told and fails cleanly where it cannot write', function () {
  let tmp: string;
  before(function () {
    requireCli(this);
  });
  beforeEach(() => (tmp = tmpDir('disk')));
  afterEach(() => rmDir(tmp));

  it('config name "../escape": exit 2 on "name", nothing created in or next to the runs folder', async () => {
    const runs = path.join(tmp, 'runs');
    fs.mkdirSync(runs);
    const cfg = writeJson(path.join(tmp, 'c.advprop.json'), { ...TINY_CONFIG, name: '../escape' });
    const res = await runCli(['train', '--config', cfg, '--runs-dir', runs], { cwd: tmp });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /^error: name: /);
    assert.deepEqual(listTree(tmp), ['c.advprop.json', 'runs']);
  });

  it('config name "ok" with --runs-dir: the run is <runs>/ok and nothing is written elsewhere', async () => {
    const runs = path.join(tmp, 'runs');
    const cfg = writeJson(path.join(tmp, 'c.advprop.json'), { ...TINY_CONFIG, name: 'ok' });
    const cwd = path.join(tmp, 'cwd');
    fs.mkdirSync(cwd);
    const res = await runCli(['train', '--config', cfg, '--runs-dir', runs, '--max-steps', '2'], { cwd });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(runs), ['ok']);
    assert.deepEqual(fs.readdirSync(cwd), [], 'the CLI wrote into its working folder');
    assert.equal(parseStatus(readText(path.join(runs, 'ok', 'status.json')))?.state, 'completed');
  });

  const unwritable: [string, (tmp: string) => string[]][] = [
    ['--run-dir under a regular file (ENOTDIR)', (t) => {
      fs.writeFileSync(path.join(t, 'afile'), 'x');
      return ['--run-dir', path.join(t, 'afile', 'run')];
    }],
    ['--runs-dir under a regular file (ENOTDIR)', (t) => {
      fs.writeFileSync(path.join(t, 'afile'), 'x');
      return ['--runs-dir', path.join(t, 'afile', 'runs')];
    }],
    // (/proc is no use here: node's recursive mkdir spins forever on it, see docs/reliability.md.)
    ['--run-dir that is an existing regular file', (t) => {
      fs.writeFileSync(path.join(t, 'afile'), 'x');
      return ['--run-dir', path.join(t, 'afile')];
    }],
  ];
  for (const [label, make] of unwritable) {
    it(`${label}: non-zero exit, one-line message naming the path, no stack trace, nothing half-written`, async () => {
      const cfg = writeJson(path.join(tmp, 'c.advprop.json'), TINY_CONFIG);
      const args = make(tmp);
      const target = args[1];
      const before = listTree(tmp);
      const res = await runCli(['train', '--config', cfg, ...args], { cwd: tmp });
      assert.notEqual(res.code, 0, 'exit 0 for an unwritable run folder');
      assert.ok(!/\n\s+at /.test(res.stderr), `stack trace instead of a message:\n${res.stderr.slice(0, 600)}`);
      const lines = res.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `stderr is not one line:\n${res.stderr.slice(0, 600)}`);
      assert.ok(lines[0].includes(path.dirname(target)) || lines[0].includes(target), `the message does not name the path: ${lines[0]}`);
      assert.deepEqual(listTree(tmp), before, 'something was written');
    });
  }

  it('a run folder whose checkpoints/ cannot be created: status failed naming the path, exit 1, metrics intact', async () => {
    const cfg = writeJson(path.join(tmp, 'c.advprop.json'), TINY_CONFIG);
    const run = path.join(tmp, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'checkpoints'), 'not a folder');
    const res = await runCli(['train', '--config', cfg, '--run-dir', run], { cwd: tmp });
    assert.equal(res.code, 1, `exit ${res.code}: ${res.stderr.slice(0, 400)}`);
    const st = parseStatus(readText(path.join(run, 'status.json')));
    assert.equal(st?.state, 'failed');
    assert.equal(st.pid, null);
    assert.match(st.error?.message ?? '', /checkpoints/, `the error does not name the path: ${st.error?.message}`);
    assert.ok(!/\n\s+at /.test(res.stderr), `stack trace on stderr:\n${res.stderr.slice(0, 600)}`);
    assert.ok(fs.readdirSync(run).every((f) => !f.endsWith('.tmp')), 'a temp file was left behind');
  });
});
