import * as assert from 'node:assert/strict';
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from '../../../src/shared/config';
import { aggregateBySeed, formatGroupTable } from '../../../src/engine/sweep/aggregate';
import { meanStd } from '../../../src/engine/util/meanStd';
import { MAX_POINTS, commandFor, expandGrid, parseGridText, parseSetFlag } from '../../../src/engine/sweep/grid';
import { parseSqueue } from '../../../src/engine/sweep/slurm/commands';
import { DEFAULT_SLURM, batchScript, checkSlurmSettings } from '../../../src/engine/sweep/slurm/script';
import { displayState, isSettled, type PointState } from '../../../src/engine/sweep/state';
import { UsageError } from '../../../src/engine/util/flags';

describe('sweep grid, table and Slurm text (pure)', () => {
  it('--set parses JSON values where they parse and strings otherwise; a bad key or empty list names --set', () => {
    assert.deepEqual(parseSetFlag('split=8:1,4:1'), ['split', ['8:1', '4:1']]);
    assert.deepEqual(parseSetFlag('attack.steps=1,5'), ['attack.steps', [1, 5]]);
    assert.deepEqual(parseSetFlag('shuffleBN=true,false'), ['shuffleBN', [true, false]]);
    assert.throws(() => parseSetFlag('split'), (e: UsageError) => e.field === '--set' && /key=v1,v2/.test(e.message));
    assert.throws(() => parseSetFlag('a..b=1'), (e: UsageError) => e.field === '--set');
    assert.throws(() => parseSetFlag('lr='), (e: UsageError) => e.field === '--set' && /no values/.test(e.message));
  });

  it('expands variants × axes × seeds in order, each point validated and named, groups without the seed', () => {
    const spec = parseGridText(JSON.stringify({ variants: { vanilla: { method: 'vanilla' }, fast: { method: 'fast-advprop', attack: { steps: 1 } } }, axes: { 'attack.epsilon': [1, 2] }, seeds: 2 }), 'g.json');
    const base = resolveConfig({ seed: 7 });
    const pts = expandGrid(spec, base);
    assert.equal(pts.length, 2 * 2 * 2);
    assert.deepEqual(pts.map((p) => p.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(pts[0].name, '0-vanilla-epsilon-1-seed-7');
    assert.equal(pts[7].name, '7-fast-epsilon-2-seed-8');
    assert.deepEqual(pts.map((p) => p.seed), [7, 8, 7, 8, 7, 8, 7, 8]);
    assert.equal(pts[3].config.attack.epsilon, 2);
    assert.equal(pts[3].config.method, 'vanilla');
    assert.equal(pts[5].config.attack.steps, 1);
    assert.equal(pts[0].group, 'vanilla attack.epsilon=1');
    assert.equal(pts[0].group, pts[1].group);
    assert.notEqual(pts[1].group, pts[2].group);
    assert.deepEqual(pts[6].overrides, { method: 'fast-advprop', 'attack.steps': 1, 'attack.epsilon': 2, seed: 7 });
    assert.equal(new Set(pts.map((p) => p.name)).size, pts.length);
  });

  it('a bad value fails the whole grid with the config field and the axis value that produced it', () => {
    assert.throws(() => expandGrid({ axes: [['attack.steps', [1, 0]]], variants: [], seeds: 0 }, DEFAULT_CONFIG),
      (e: ConfigError) => e instanceof ConfigError && e.field === 'attack.steps' && /from attack\.steps=0/.test(e.message));
    assert.throws(() => expandGrid({ axes: [['bogus', [1]]], variants: [], seeds: 0 }, DEFAULT_CONFIG), (e: ConfigError) => e.field === 'bogus');
    assert.throws(() => expandGrid({ axes: [], variants: [], seeds: 0 }, DEFAULT_CONFIG), /the grid is empty/);
    assert.throws(() => expandGrid({ axes: [['lr', Array.from({ length: 101 }, (_, i) => i / 1000 + 0.001)], ['beta', Array.from({ length: 100 }, () => 0.5)]], variants: [], seeds: 0 }, DEFAULT_CONFIG),
      new RegExp(`more than ${MAX_POINTS}`));
  });

  it('grid files: unknown keys, non-lists and bad seeds are named', () => {
    assert.throws(() => parseGridText('{"axis": {}}', 'g'), (e: UsageError) => e.field === '--grid axis');
    assert.throws(() => parseGridText('{"axes": {"split": "4:1"}}', 'g'), (e: UsageError) => e.field === '--grid axes.split');
    assert.throws(() => parseGridText('{"seeds": -1}', 'g'), (e: UsageError) => e.field === '--grid seeds');
    assert.throws(() => parseGridText('[1]', 'g'), (e: UsageError) => e.field === '--grid');
    assert.throws(() => parseGridText('{"variants": {"a b": {}}}', 'g'), (e: UsageError) => e.field.startsWith('--grid variants'));
    // Comments are allowed, as in run configs.
    assert.equal(parseGridText('{ // splits\n "axes": {"split": ["1:1"]}}', 'g').axes.length, 1);
  });

  it('mean ± std over seeds: sample std, only completed runs count, a failed run is not a zero', () => {
    assert.deepEqual(meanStd([]), { n: 0, mean: null, std: null });
    assert.deepEqual(meanStd([0.5]), { n: 1, mean: 0.5, std: null });
    const r = meanStd([0.8, 0.9, 1.0]);
    assert.ok(Math.abs(r.mean! - 0.9) < 1e-12 && Math.abs(r.std! - 0.1) < 1e-12);
    const rows = aggregateBySeed([
      { group: 'a', seed: 1, state: 'completed', value: 0.9 },
      { group: 'b', seed: 0, state: 'failed', value: null },
      { group: 'a', seed: 0, state: 'completed', value: 0.8 },
      { group: 'b', seed: 1, state: 'completed', value: 0.7 },
    ]);
    assert.deepEqual(rows.map((x) => [x.group, x.runs, x.completed, x.values]), [['a', 2, 2, [0.8, 0.9]], ['b', 2, 1, [null, 0.7]]]);
    assert.ok(Math.abs(rows[1].mean! - 0.7) < 1e-12);
    assert.equal(rows[1].std, null);
    const text = formatGroupTable(rows);
    assert.match(text[2], /^a\s+2\/2\s+85\.00 ± 7\.07\s+80\.00 90\.00\s+2 completed$/);
    // A failed seed shows the one missing-figure placeholder the study table uses too.
    assert.match(text[3], /^b\s+1\/2\s+70\.00\s+– 70\.00\s+1 failed, 1 completed$/);
    assert.match(formatGroupTable(aggregateBySeed([{ group: 'c', seed: 0, state: 'failed', value: null }]))[2], /^c\s+0\/1\s+–\s+–\s+1 failed$/);
  });

  it('squeue -r output: array tasks by index, pending ranges expanded, other jobs ignored', () => {
    const q = parseSqueue(['12_0|RUNNING|None|node7', '12_[2-3,5%2]|PENDING|Resources|', '13_0|RUNNING|None|n1', '12_1|PENDING|Priority|(null)', ''].join('\n'), '12');
    assert.deepEqual([...q.keys()].sort(), [0, 1, 2, 3, 5]);
    assert.deepEqual(q.get(0), { jobId: '12_0', state: 'RUNNING', reason: 'None', node: 'node7' });
    assert.deepEqual(q.get(5), { jobId: '12_5', state: 'PENDING', reason: 'Resources' });
    assert.deepEqual(q.get(1), { jobId: '12_1', state: 'PENDING', reason: 'Priority' });
  });

  it('display state: the run folder first, the scheduler for PENDING + reason, RUNNING on a node, and ends the engine could not write', () => {
    const s = (run: PointState['run'], scheduler?: PointState['scheduler'], extra: Partial<PointState> = {}): PointState => ({ index: 0, name: 'p', group: 'g', seed: 0, runDir: '/x', run, ...(scheduler ? { scheduler } : {}), ...extra });
    assert.equal(displayState(s('pending', { jobId: '1_0', state: 'PENDING', reason: 'Resources' })), 'PENDING (Resources)');
    assert.equal(displayState(s('running', { jobId: '1_0', state: 'RUNNING', node: 'n3' }, { step: 4, totalSteps: 10 })), 'RUNNING on n3 4/10');
    assert.equal(displayState(s('completed', { jobId: '1_0', state: 'COMPLETED' })), 'completed');
    // A study on Slurm evaluates each run in its job after training: until the job records that
    // evaluation's exit, a completed run with its job still RUNNING is being evaluated.
    assert.equal(displayState(s('completed', { jobId: '1_0', state: 'RUNNING', node: 'n3' }, { evaluating: true })), 'evaluating on n3');
    assert.equal(displayState(s('completed', { jobId: '1_0', state: 'RUNNING', node: 'n3' })), 'completed', 'no evaluation asked: the job is only exiting');
    assert.equal(displayState(s('completed', { jobId: '1_0', state: 'COMPLETED' }, { evaluating: true })), 'completed', 'the job ended without recording it');
    assert.equal(isSettled(s('completed', { jobId: '1_0', state: 'RUNNING' }, { evaluating: true })), false);
    assert.equal(displayState(s('running', { jobId: '1_0', state: 'TIMEOUT' })), 'TIMEOUT');
    assert.equal(displayState(s('cancelled')), 'cancelled');
    assert.equal(isSettled(s('running', { jobId: '1_0', state: 'TIMEOUT' })), true);
    assert.equal(isSettled(s('stopped', { jobId: '1_0', state: 'PENDING', reason: 'BeginTime' })), false, 'a requeued stopped run is not done');
    assert.equal(isSettled(s('pending', { jobId: '1_0', state: 'PENDING' })), false);
    assert.equal(isSettled(s('running')), false);
  });

  it('the batch script: settings on #SBATCH lines, requeue + USR1 before the limit, resume/restart/new run by folder state, values quoted', () => {
    const text = batchScript({
      name: 'table4', sweepDir: "/shared/it's here", cli: '/opt/fa/dist/cli.js',
      points: [{ runDir: '/shared/r/0', config: '/shared/c/0.json' }, { runDir: '/shared/r/1 x', config: '/shared/c/1.json' }],
      settings: { ...DEFAULT_SLURM, partition: 'gpu', account: 'lab', time: '04:00:00', gpus: 2, cpus: 8, extra: ['--qos=high'], setup: ['module load nodejs/20'], prefix: 'apptainer exec fa.sif', node: 'node' },
    });
    for (const l of ['#SBATCH --partition=gpu', '#SBATCH --account=lab', '#SBATCH --time=04:00:00', '#SBATCH --gres=gpu:2', '#SBATCH --cpus-per-task=8', '#SBATCH --requeue', '#SBATCH --signal=B:USR1@120', '#SBATCH --qos=high', 'module load nodejs/20']) {
      assert.ok(text.split('\n').includes(l), `missing line ${l}`);
    }
    assert.ok(text.includes(`SWEEP='/shared/it'\\''s here'`));
    assert.ok(text.includes(`  '/shared/r/1 x'`));
    assert.ok(text.includes('apptainer exec fa.sif node /opt/fa/dist/cli.js train "${MODE[@]}" &'));
    assert.match(text, /checkpoints\/last\.ckpt" \]; then MODE=\(--resume/);
    assert.match(text, /config\.json" \]; then MODE=\(--restart/);
    assert.match(text, /scontrol requeue "\$SLURM_JOB_ID"/);
    assert.throws(() => checkSlurmSettings({ ...DEFAULT_SLURM, partition: 'gpu\n#SBATCH --uid=0' }), (e: UsageError) => e.field === '--partition');
    assert.throws(() => checkSlurmSettings({ ...DEFAULT_SLURM, time: 'soon' }), (e: UsageError) => e.field === '--time');
    assert.throws(() => checkSlurmSettings({ ...DEFAULT_SLURM, extra: ['qos=high'] }), (e: UsageError) => e.field === '--sbatch');
    assert.throws(() => checkSlurmSettings({ ...DEFAULT_SLURM, setup: ['a\nb'] }), (e: UsageError) => e.field === '--setup');
  });
});

describe('command sweeps (someone else\'s training code)', () => {
  it('fills {key} with shell-quoted values, keeps keys free of our schema, and refuses unknown placeholders', () => {
    const spec = parseGridText(JSON.stringify({ command: 'python imagenet.py --lr {lr} --arch {arch} --seed {seed} --checkpoint {runDir}', axes: { lr: [0.1], arch: ["resnet50; rm -rf ~"] }, seeds: 1 }), 'g');
    const [p] = expandGrid(spec, DEFAULT_CONFIG);
    assert.equal(commandFor(spec.command!, p, '/s/runs/x y'), `python imagenet.py --lr 0.1 --arch 'resnet50; rm -rf ~' --seed 0 --checkpoint '/s/runs/x y'`);
    assert.throws(() => expandGrid({ ...spec, command: 'x {lrr} {runDir}' }, DEFAULT_CONFIG), (e: UsageError) => e.field === '--grid command' && /unknown placeholder \{lrr\}/.test(e.message));
    assert.throws(() => parseGridText('{"command": "echo hi"}', 'g'), /must write into \{runDir\}/);
    assert.throws(() => parseGridText('{"command": "a\\nb {runDir}"}', 'g'), /one line/);
  });

  it('the batch script runs the point\'s script instead of the engine, forwards one TERM, records the exit code', () => {
    const text = batchScript({ name: 'ref', sweepDir: '/s', cli: '/c.js', command: true, points: [{ runDir: '/s/runs/0', config: '/s/configs/0.command.sh' }], settings: { ...DEFAULT_SLURM, prefix: 'apptainer exec ref.sif' } });
    assert.ok(text.includes('apptainer exec ref.sif sh "${CONFIGS[$i]}" &'));
    assert.ok(text.includes(`trap '[ -n "$pid" ] && kill -TERM "$pid"' TERM INT`));
    assert.ok(text.includes('echo $rc > "$SWEEP/points/$i.exit"'));
    assert.ok(!text.includes(' train '), 'the engine is not run');
  });
});

describe('shipped grids (examples/)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const root = path.resolve(__dirname, '../../../..');
  it('Table 4: Fast AdvProp at 8:1, 4:1, 2:1, 1:1 × 3 seeds, same budget', () => {
    const pts = expandGrid(parseGridText(fs.readFileSync(path.join(root, 'examples/table4-splits.grid.json'), 'utf8'), 'table4'), DEFAULT_CONFIG);
    assert.equal(pts.length, 12);
    assert.deepEqual([...new Set(pts.map((p) => p.config.split))], ['8:1', '4:1', '2:1', '1:1']);
    assert.ok(pts.every((p) => p.config.method === 'fast-advprop' && p.config.sameBudget));
    assert.deepEqual(pts.slice(0, 3).map((p) => p.seed), [0, 1, 2]);
  });
  it('Table 1: the study\'s four variants × 3 seeds', () => {
    const pts = expandGrid(parseGridText(fs.readFileSync(path.join(root, 'examples/table1-methods.grid.json'), 'utf8'), 'table1'), DEFAULT_CONFIG);
    assert.equal(pts.length, 12);
    assert.deepEqual([...new Set(pts.map((p) => p.group))], ['vanilla', 'advprop-pgd5', 'fast-advprop', 'fast-advprop-noshuffle']);
    assert.equal(pts[3].config.method, 'advprop');
    assert.equal(pts[3].config.attack.steps, 5);
    assert.equal(pts[9].config.shuffleBN, false);
  });
});
