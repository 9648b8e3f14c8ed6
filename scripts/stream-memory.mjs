// Resident memory of a training process on a streamed image folder as the folder grows: the same
// run (same steps, batch, resolution) on a generated folder of N JPEGs of mixed sizes and on an
// M-image subset of it (hard links to the same files), peak RSS from /usr/bin/time -v.
// usage: node scripts/stream-memory.mjs [--images 20000] [--subset 2000] [--dir /tmp/fap-stream-N] [--steps 30] [--size 64]
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
const images = Number(arg('images', 20000));
const subset = Number(arg('subset', 2000));
const steps = Number(arg('steps', 30));
const size = Number(arg('size', 64));
const classes = 100;
const dir = arg('dir', join(os.tmpdir(), `fap-stream-${images}`));
const count = (d) => readdirSync(join(d, 'train')).reduce((a, c) => a + readdirSync(join(d, 'train', c)).length, 0);

if (!existsSync(join(dir, 'train')) || count(dir) < images) {
  const { writeJpegFolder } = createRequire(import.meta.url)(join(root, 'out/src/engine/bench/jpegFolder.js'));
  console.log(`writing ${images} JPEGs to ${dir} …`);
  await writeJpegFolder(dir, { classes, perClass: Math.ceil(images / classes), valPerClass: 2, seed: images });
}
const small = `${dir}-subset-${subset}`;
if (!existsSync(small)) {
  for (const split of ['train', 'val']) {
    for (const c of readdirSync(join(dir, split))) {
      mkdirSync(join(small, split, c), { recursive: true });
      const files = readdirSync(join(dir, split, c)).sort();
      const keep = split === 'train' ? files.slice(0, Math.ceil(subset / classes)) : files;
      for (const f of keep) linkSync(join(dir, split, c, f), join(small, split, c, f));
    }
  }
}

const work = mkdtempSync(join(os.tmpdir(), 'fap-stream-mem-'));
const rows = [];
for (const [label, data] of [[`${count(small)} images`, small], [`${count(dir)} images`, dir]]) {
  const cfg = join(work, `${rows.length}.json`);
  writeFileSync(cfg, JSON.stringify({
    method: 'fast-advprop', epochs: 1, batchSize: 32, maxSteps: steps, logEvery: 10, model: { arch: 'resnet8', width: 8 },
    augment: { crop: true, flip: true }, autoEvaluate: false,
    dataset: { name: 'image-folder', path: data, loader: 'stream', size, workers: 2, prefetch: 4 },
  }));
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(root, 'dist/cli.js'), 'train', '--config', cfg, '--run-dir', join(work, `run-${rows.length}`)], { encoding: 'utf8' });
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || !rss) {
    console.error(r.stdout.slice(-2000), r.stderr.slice(-2000));
    process.exit(1);
  }
  rows.push({ label, rss, wall });
  console.log(`${label}: peak RSS ${(rss / 1024).toFixed(0)} MiB, wall ${wall}`);
}
rmSync(work, { recursive: true, force: true });
const [a, b] = rows;
console.log(`ratio ${(b.rss / a.rss).toFixed(3)} (${b.label} / ${a.label}); ${os.cpus()[0]?.model?.trim()}, ${os.availableParallelism()} cores, node ${process.version}, ${steps} steps of batch 32 at ${size} px`);
