// Printed commands paste as one argument per value (issue #12: "continue with: fast-advprop train
// --resume <dir>" printed the path bare, so pasting a run at `/tmp/q;touch x` ran `touch x`).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFailureMessage } from '../../../src/engine/run/writeError';
import { shellCommand, shellQuote } from '../../../src/shared/shellQuote';
import { TINY_CONFIG, requireCli, rmDir, runCli, tmpDir, writeJson } from '../reliability/helpers';

const HOSTILE = ['/tmp/q;touch x', '/tmp/a b', "/tmp/it's", '/tmp/$(touch x)', '/tmp/`touch x`', '/tmp/x\ny', '/tmp/a&&touch x', '-rf', '', '/tmp/*', '/tmp/q|touch x', '/tmp/\\'];

/** What sh makes of a printed command line: its arguments, one per line (NUL-free inputs). */
function shArgs(line: string, cwd: string): string[] {
  const out = execFileSync('sh', ['-c', `for a in ${line}; do printf '%s\\0' "$a"; done`], { cwd, encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shell quoting of printed commands', () => {
  let tmp = '';
  beforeEach(() => (tmp = tmpDir('quote')));
  afterEach(() => rmDir(tmp));

  it('plain paths stay as they are; anything else pastes back as exactly the same single argument and runs nothing', () => {
    assert.equal(shellQuote('/home/me/runs/fast-advprop-20250101-120000'), '/home/me/runs/fast-advprop-20250101-120000');
    assert.equal(shellQuote('/tmp/q;touch x'), "'/tmp/q;touch x'");
    for (const s of HOSTILE) {
      assert.deepEqual(shArgs(shellQuote(s), tmp), [s], JSON.stringify(s));
    }
    assert.deepEqual(shArgs(shellCommand(['fast-advprop', 'train', '--resume', '/tmp/q;touch x']), tmp), ['fast-advprop', 'train', '--resume', '/tmp/q;touch x']);
    assert.deepEqual(fs.readdirSync(tmp), [], 'pasting ran a command');
  });

  it('the disk-full advice quotes the run folder', () => {
    const e = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const msg = writeFailureMessage(e, '/tmp/q;touch x', 3)!;
    assert.match(msg, /then resume with: fast-advprop train --resume '\/tmp\/q;touch x' \(it continues from the checkpoint at step 3\)$/);
  });

  it('a stopped run at /…/q;touch x prints a continue-with line that pastes back as that folder (real CLI)', async function () {
    requireCli(this);
    const run = path.join(tmp, 'q;touch x');
    fs.mkdirSync(run);
    // A stop request waiting in the folder stops the run after its first step.
    fs.writeFileSync(path.join(run, 'stop.request'), 'test\n');
    const cfg = writeJson(path.join(tmp, 'c.json'), TINY_CONFIG);
    const res = await runCli(['train', '--config', cfg, '--run-dir', run], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    const hint = /continue with: (.*)$/m.exec(res.stdout)?.[1];
    assert.ok(hint, res.stdout);
    assert.deepEqual(shArgs(hint, tmp), ['fast-advprop', 'train', '--resume', run]);
    assert.deepEqual(fs.readdirSync(tmp).sort(), ['c.json', 'q;touch x'], 'pasting the hint ran touch');
  });

  it('launched by the extension (FAST_ADVPROP_UI=vscode), a stopped run points at the UI\'s Resume, not at a CLI a .vsix user lacks (real CLI)', async function () {
    requireCli(this);
    const run = path.join(tmp, 'from-vscode');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'stop.request'), 'test\n');
    const cfg = writeJson(path.join(tmp, 'c2.json'), TINY_CONFIG);
    const res = await runCli(['train', '--config', cfg, '--run-dir', run], { cwd: tmp, env: { ...process.env, FAST_ADVPROP_UI: 'vscode' } });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^stopped at step \d+; resume it from the Runs view or the dashboard's Resume button$/m);
    assert.doesNotMatch(res.stdout + res.stderr, /continue with|fast-advprop train/);
  });
});
