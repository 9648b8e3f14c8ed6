// The sweep CLI with the local executor, as real processes: a 4-point sweep trains and tabulates,
// bad input creates nothing, a forged manifest is refused naming the field, cancel stops a point.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest } from '../../../src/engine/sweep/manifest';
import { parseConfigText } from '../../../src/shared/config';
import { TINY_CONFIG, listTree, readText, requireCli, rmDir, runCli, tmpDir, writeJson, exited } from '../reliability/helpers';
import { startLongSweep } from './longSweep';

describe('sweep with the local executor (real CLI processes)', function () {
  let tmp: string;
  before(function () {
    requireCli(this);
    tmp = tmpDir('sweep');
  });
  after(() => rmDir(tmp));

  it('4 points (2 methods × 2 seeds), 2 at a time: 4 completed run folders, configs that train reproduces, a table with mean ± std', async function () {
    this.timeout(180000);
    const cfg = writeJson(path.join(tmp, 'tiny.advprop.json'), TINY_CONFIG);
    const out = path.join(tmp, 'four');
    const res = await runCli(['sweep', '--config', cfg, '--set', 'method=vanilla,fast-advprop', '--seeds', '2', '--parallel', '2', '--out', out], { cwd: tmp, timeoutMs: 170000 });
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const m = readManifest(out);
    assert.equal(m.executor, 'local');
    assert.equal(m.points.length, 4);
    for (const p of m.points) {
      const rec = JSON.parse(readText(path.join(out, p.runDir, 'config.json')));
      const asked = parseConfigText(readText(path.join(out, p.config)), p.config);
      assert.equal(rec.config.method, asked.method);
      assert.equal(rec.config.seed, p.seed);
      assert.equal(JSON.parse(readText(path.join(out, p.runDir, 'status.json'))).state, 'completed');
    }
    const accs = m.points.map((p) => JSON.parse(readText(path.join(out, p.runDir, 'results.json'))).clean.accuracy as number);
    const row = res.stdout.split('\n').find((l) => l.startsWith('method=vanilla'))!;
    assert.ok(row.includes(`${(50 * (accs[0] + accs[1])).toFixed(2)} ± ${((100 * Math.abs(accs[0] - accs[1])) / Math.SQRT2).toFixed(2)}`), row);
    const st = await runCli(['sweep', 'status', out], { cwd: tmp });
    assert.equal(st.code, 0);
    assert.match(st.stdout, /4\/4 completed/);
  });

  it('a bad grid value, an unknown executor or a Slurm flag without slurm exits 2 naming it and creates nothing', async () => {
    const out = path.join(tmp, 'bad');
    const cases: [string[], RegExp][] = [
      [['--set', 'attack.steps=1,0'], /^error: attack\.steps: .*from attack\.steps=0/],
      [['--set', 'nosuch=1'], /^error: nosuch: unknown key/],
      [['--seeds', '2', '--executor', 'pbs'], /^error: --executor: must be local or slurm/],
      [['--seeds', '2', '--partition', 'gpu'], /^error: --partition: is a Slurm setting/],
      [['--seeds', '2', '--executor', 'slurm', '--time', 'later'], /^error: --time: /],
      [[], /^error: --grid: the grid is empty/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(['sweep', ...args, '--out', out], { cwd: tmp });
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(fs.existsSync(out), false, `${args.join(' ')} created ${out}`);
    }
  });

  it('a forged manifest is refused naming the field; nothing outside the sweep folder is read or written', async () => {
    const dir = path.join(tmp, 'forged');
    fs.mkdirSync(dir);
    writeJson(path.join(dir, 'sweep.json'), { schema: 1, kind: 'fast-advprop-sweep', name: 'x', createdAt: '', executor: 'local', points: [{ index: 0, name: 'p', group: 'g', seed: 0, overrides: {}, runDir: '../../etc', config: 'c.json' }] });
    const before = listTree(tmp);
    for (const sub of ['status', 'table', 'cancel']) {
      const r = await runCli(['sweep', sub, dir], { cwd: tmp });
      assert.equal(r.code, 2);
      assert.match(r.stderr.trim(), /^error: sweep\.json points\[0\]\.runDir: must be a path inside the sweep folder/);
    }
    assert.deepEqual(listTree(tmp), before);
  });

  it('sweep cancel stops the running point (stop.request: stopped with a checkpoint) and takes the queued ones out of the run queue', async function () {
    this.timeout(120000);
    const { child, out, first, text } = await startLongSweep(tmp, 'cancel');
    const c = await runCli(['sweep', 'cancel', out], { cwd: tmp });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /point 0 .*: stop requested/);
    const ex = await exited(child);
    assert.equal(ex.code, 1, `the sweep should exit 1 (points not completed):\n${text()}`);
    assert.equal(JSON.parse(readText(path.join(first, 'status.json'))).state, 'stopped');
    assert.ok(fs.existsSync(path.join(first, 'checkpoints', 'last.ckpt')));
    const m = readManifest(out);
    for (const p of m.points.slice(1)) {
      // Queued, never started: taken out of the run queue, stopped without ever training.
      const dir = path.join(out, p.runDir);
      const st = JSON.parse(readText(path.join(dir, 'status.json')));
      assert.equal(st.state, 'stopped', `point ${p.index}`);
      assert.equal(st.startedAt, null, `point ${p.index} started after the cancel`);
      assert.equal(fs.existsSync(path.join(dir, 'config.json')), false, `point ${p.index} trained after the cancel`);
      assert.equal(fs.existsSync(path.join(dir, 'queue.json')), false, `point ${p.index} is still queued`);
    }
    assert.ok(m.points.every((p) => p.cancelledAt));
    const st = await runCli(['sweep', 'status', out, '--json'], { cwd: tmp });
    assert.deepEqual((JSON.parse(st.stdout).points as { state: string }[]).map((p) => p.state), ['stopped', 'cancelled', 'cancelled']);
  });

  it('a command sweep runs someone else\'s command per point in its run folder ({placeholders} filled, shell-quoted); exit codes decide completed or failed', async function () {
    this.timeout(60000);
    const out = path.join(tmp, 'command');
    const write = `node -e 'require("fs").writeFileSync(process.argv[1] + "/args.json", JSON.stringify(process.argv.slice(2))); process.exit(Number(process.argv[3]))' {runDir} {lr} {code} {seed}`;
    const res = await runCli(['sweep', '--command', write, '--set', 'lr=0.1,a b', '--set', 'code=0,3', '--out', out], { cwd: tmp });
    assert.equal(res.code, 1, `a point exited 3, so the sweep exits 1:\n${res.stdout}\n${res.stderr}`);
    const m = readManifest(out);
    assert.equal(m.points.length, 4);
    for (const p of m.points) {
      const args = JSON.parse(readText(path.join(out, p.runDir, 'args.json')));
      assert.deepEqual(args, [String(p.overrides.lr), String(p.overrides.code), '0']);
      assert.equal(readText(path.join(out, 'points', `${p.index}.exit`)).trim(), String(p.overrides.code));
      assert.match(readText(path.join(out, p.config)), /^#!\/bin\/sh\n/);
    }
    const st = await runCli(['sweep', 'status', out, '--json'], { cwd: tmp });
    assert.deepEqual((JSON.parse(st.stdout).points as { state: string }[]).map((p) => p.state), ['completed', 'failed', 'completed', 'failed']);
    // A command sweep's keys are not our config's; a placeholder the grid does not give is refused.
    const bad = await runCli(['sweep', '--command', 'run --x {nosuch} --out {runDir}', '--set', 'lr=1', '--out', path.join(tmp, 'bad-cmd')], { cwd: tmp });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), /^error: --grid command: unknown placeholder \{nosuch\}; this point has \{lr\}, \{seed\}, \{index\}, \{name\}, \{runDir\}$/);
    assert.equal(fs.existsSync(path.join(tmp, 'bad-cmd')), false);
    const noDir = await runCli(['sweep', '--command', 'echo {lr}', '--set', 'lr=1', '--out', path.join(tmp, 'bad-cmd')], { cwd: tmp });
    assert.match(noDir.stderr.trim(), /^error: --command: must write into \{runDir\}/);
  });
});
