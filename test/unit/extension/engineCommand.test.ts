import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliPath, engineEnv, evaluateArgs, killGroup, resumeArgs, sendTerm, tailLines, trainArgs } from '../../../src/extension/engineCommand';
import { isPidAlive } from '../../../src/extension/runSnapshot';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('engine command lines', () => {
  it('passes backend and workers only when the settings are not their defaults', () => {
    assert.deepEqual(trainArgs('/e/dist/cli.js', '/tmp/c.json', '/runs/a', { backend: 'auto', workers: 0 }), ['/e/dist/cli.js', 'train', '--config', '/tmp/c.json', '--run-dir', '/runs/a']);
    assert.deepEqual(trainArgs('cli', 'c', 'd', { backend: 'wasm', workers: 4 }).slice(6), ['--backend', 'wasm', '--workers', '4']);
    assert.deepEqual(resumeArgs('cli', 'd', { backend: 'cpu', workers: 0 }), ['cli', 'train', '--resume', 'd', '--backend', 'cpu']);
  });

  it('builds evaluate flags from the options', () => {
    assert.deepEqual(evaluateArgs('cli', 'd'), ['cli', 'evaluate', '--run', 'd']);
    assert.deepEqual(evaluateArgs('cli', 'd', { corruptions: ['fog', 'snow'], severities: [1, 3], pgd: '10,8' }),
      ['cli', 'evaluate', '--run', 'd', '--corruptions', 'fog,snow', '--severities', '1,3', '--pgd', '10,8']);
  });

  it('runs the engine with the host runtime as plain node', () => {
    assert.equal(engineEnv({ PATH: '/bin' }).ELECTRON_RUN_AS_NODE, '1');
    assert.equal(engineEnv({ PATH: '/bin' }).FAST_ADVPROP_UI, 'vscode', 'the engine\'s log then names the UI\'s Resume, not a CLI');
    assert.match(cliPath('/ext'), /[\\/]ext[\\/]dist[\\/]cli\.js$/);
  });

  it('keeps the last lines of output for error messages', () => {
    assert.equal(tailLines('a\nb\n\nc\nd\n', 2), 'c\nd');
  });

  if (process.platform !== 'win32') {
    it('SIGTERM reaches the process; SIGKILL to the group also ends its children', async function () {
      this.timeout(20000);
      // A parent that ignores SIGTERM (like an engine finishing its step) and has a child of its own.
      const script = `process.on('SIGTERM', () => console.log('term')); const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(()=>{},1000)'], { stdio: 'ignore' }); console.log('child ' + c.pid); setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ['-e', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      parent.stdout!.on('data', (d) => (out += d));
      for (let i = 0; i < 100 && !/child \d+/.test(out); i++) await sleep(50);
      const childPid = Number(/child (\d+)/.exec(out)![1]);
      assert.equal(sendTerm(parent.pid!), true);
      for (let i = 0; i < 100 && !out.includes('term'); i++) await sleep(50);
      assert.ok(out.includes('term'), 'the parent saw SIGTERM');
      assert.equal(isPidAlive(parent.pid!), true, 'SIGTERM alone lets the engine decide when to exit');
      assert.equal(killGroup(parent.pid!), true);
      for (let i = 0; i < 100 && (isPidAlive(childPid) || parent.exitCode === null && parent.signalCode === null); i++) await sleep(50);
      assert.equal(parent.signalCode, 'SIGKILL');
      assert.equal(isPidAlive(childPid), false, 'the grandchild died with its group');
    });
  }
});
