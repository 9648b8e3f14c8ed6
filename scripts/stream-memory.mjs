// Resident memory of a training process on a streamed image folder as the folder grows: the same
// run (same steps, batch, resolution) on a generated folder of N JPEGs of mixed sizes and on an
// M-image subset of it (hard links to the same files), peak RSS from /usr/bin/time -v.
// usage: node scripts/stream-memory.mjs [--images 20000] [--subset 2000] [--dir /tmp/fap-stream-N] [--steps 30] [--size 64]
// With --mode evaluate: the same for `evaluate` on a folder of N val JPEGs and an M-image subset
// of them (one corruption × severity, at --size 224 by default), the run trained once per folder
// for one step; --cli FILE measures another build (e.g. main's dist/cli.js) on the same folders.
// usage: node scripts/stream-memory.mjs --mode evaluate [--images 5000] [--subset 500] [--size 224] [--cli dist/cli.js]
// Needs `node scripts/build.mjs` first (dist/cli.js, out/ for the JPEG generator).
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const mode = arg('mode', 'train');
if (mode !== 'train' && mode !== 'evaluate') throw new Error(`--mode: expected train or evaluate, got ${mode}`);
const evaluating = mode === 'evaluate';
const images = Number(arg('images', evaluating ? 5000 : 20000));
const subset = Number(arg('subset', evaluating ? 500 : 2000));
const steps = Number(arg('steps', 30));
const size = Number(arg('size', evaluating ? 224 : 64));
const classes = 100;
const dir = arg('dir', join(os.tmpdir(), `fap-${evaluating ? 'evalmem' : 'stream'}-${images}`));
const cli = arg('cli', join(root, 'dist/cli.js'));
const peak = (args) => {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8' });
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || !rss) {
    console.error(r.stdout.slice(-2000), r.stderr.slice(-2000));
    process.exit(1);
  }
  return { rss, wall, stdout: r.stdout };
};
/** Images in one split of a folder. */
const countIn = (d, split) => readdirSync(join(d, split)).reduce((a, c) => a + readdirSync(join(d, split, c)).length, 0);

/** Generates `dir` unless it already has `images` in `split`; the other split gets `other` per class. */
async function ensureFolder(split, other) {
  if (existsSync(join(dir, split)) && countIn(dir, split) >= images) return;
  const { writeJpegFolder } = createRequire(import.meta.url)(join(root, 'out/src/engine/bench/jpegFolder.js'));
  const per = Math.ceil(images / classes);
  console.log(`writing ${images} ${split} JPEGs to ${dir} …`);
  await writeJpegFolder(dir, split === 'train' ? { classes, perClass: per, valPerClass: other, seed: images } : { classes, perClass: other, valPerClass: per, seed: images });
}

/** `to`: hard links to `dir`'s files, `split` cut to `subset` images (the other split whole). */
function linkSubset(to, split) {
  if (existsSync(to)) return;
  for (const s of ['train', 'val']) {
    for (const c of readdirSync(join(dir, s))) {
      mkdirSync(join(to, s, c), { recursive: true });
      const files = readdirSync(join(dir, s, c)).sort();
      for (const f of s === split ? files.slice(0, Math.ceil(subset / classes)) : files) linkSync(join(dir, s, c, f), join(to, s, c, f));
    }
  }
}

if (evaluating) {
  await measureEvaluate();
  process.exit(0);
}

await ensureFolder('train', 2);
const small = `${dir}-subset-${subset}`;
linkSubset(small, 'train');

const work = mkdtempSync(join(os.tmpdir(), 'fap-stream-mem-'));
const rows = [];
for (const [label, data] of [[`${countIn(small, 'train')} images`, small], [`${countIn(dir, 'train')} images`, dir]]) {
  const cfg = join(work, `${rows.length}.json`);
  writeFileSync(cfg, JSON.stringify({
    method: 'fast-advprop', epochs: 1, batchSize: 32, maxSteps: steps, logEvery: 10, model: { arch: 'resnet8', width: 8 },
    augment: { crop: true, flip: true }, autoEvaluate: false,
    dataset: { name: 'image-folder', path: data, loader: 'stream', size, workers: 2, prefetch: 4 },
  }));
  const { rss, wall } = peak([join(root, 'dist/cli.js'), 'train', '--config', cfg, '--run-dir', join(work, `run-${rows.length}`)]);
  rows.push({ label, rss, wall });
  console.log(`${label}: peak RSS ${(rss / 1024).toFixed(0)} MiB, wall ${wall}`);
}
rmSync(work, { recursive: true, force: true });
const [a, b] = rows;
console.log(`ratio ${(b.rss / a.rss).toFixed(3)} (${b.label} / ${a.label}); ${os.cpus()[0]?.model?.trim()}, ${os.availableParallelism()} cores, node ${process.version}, ${steps} steps of batch 32 at ${size} px`);

/** Peak RSS of `evaluate` on N val images and on M of them: flat when the split is streamed in chunks. */
async function measureEvaluate() {
  await ensureFolder('val', 1);
  const small = `${dir}-val-${subset}`;
  linkSubset(small, 'val');
  const work = mkdtempSync(join(os.tmpdir(), 'fap-evalmem-'));
  const rows = [];
  for (const data of [small, dir]) {
    const k = rows.length;
    const cfg = join(work, `${k}.json`);
    writeFileSync(cfg, JSON.stringify({
      method: 'fast-advprop', epochs: 1, batchSize: 8, maxSteps: 1, logEvery: 1, model: { arch: 'resnet8', width: 2 }, autoEvaluate: false,
      dataset: { name: 'image-folder', path: data, loader: 'stream', size, workers: 2 },
    }));
    const run = join(work, `run-${k}`);
    peak([join(root, 'dist/cli.js'), 'train', '--config', cfg, '--run-dir', run]);
    const r = peak([cli, 'evaluate', '--run', run, '--corruptions', 'gaussian_noise', '--severities', '3', '--json']);
    const label = `${countIn(data, 'val')} val images`;
    rows.push({ label, ...r });
    console.log(`${label}: evaluate peak RSS ${(r.rss / 1024).toFixed(0)} MiB, wall ${r.wall}, clean accuracy ${JSON.parse(r.stdout).clean.accuracy}`);
  }
  rmSync(work, { recursive: true, force: true });
  const [a, b] = rows;
  console.log(`ratio ${(b.rss / a.rss).toFixed(3)} (${b.label} / ${a.label}); ${cli}; ${os.cpus()[0]?.model?.trim()}, ${os.availableParallelism()} cores, node ${process.version}, ${size} px, gaussian_noise 3`);
}
