// Builds the embedded default dataset (media/datasets/fashion-mnist-subset/) from the full
// Fashion-MNIST shipped by the Debian package `dataset-fashion-mnist`.
// The subset is small enough to ship inside the extension (a few MB) yet class-balanced, so a
// first run works offline with no download. Selection is deterministic (first N of each class in
// file order) so rerunning this script reproduces byte-identical files and the sha256 sums in
// PROVENANCE.md.
//
// Usage: node scripts/make-default-dataset.mjs [--src DIR] [--out DIR]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
};
const srcDir = arg('--src', '/usr/share/datasets/fashion-mnist');
const outDir = arg('--out', join(root, 'media/datasets/fashion-mnist-subset'));
const copyrightFile = '/usr/share/doc/dataset-fashion-mnist/copyright';

const TRAIN_PER_CLASS = 1000;
const TEST_PER_CLASS = 200;
const NUM_CLASSES = 10;

function readIdx(path) {
  if (!existsSync(path)) {
    throw new Error(`${path}: not found — install the Debian package (apt-get install dataset-fashion-mnist) or pass --src DIR`);
  }
  let buf = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const ndim = buf[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + size) throw new Error(`${path}: expected ${offset + size} bytes, found ${buf.length}`);
  return { dims, data: buf.subarray(offset) };
}

function encodeIdx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), { level: 9 });
}

function subset(prefix, perClass) {
  const images = readIdx(join(srcDir, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(srcDir, `${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) throw new Error(`${prefix}: ${n} images but ${labels.dims[0]} labels`);
  const taken = new Array(NUM_CLASSES).fill(0);
  const picked = [];
  for (let i = 0; i < n; i++) {
    const y = labels.data[i];
    if (taken[y] < perClass) {
      taken[y]++;
      picked.push(i);
    }
  }
  if (taken.some((t) => t !== perClass)) throw new Error(`${prefix}: not enough images per class (${taken.join(',')})`);
  const px = h * w;
  const outImages = new Uint8Array(picked.length * px);
  const outLabels = new Uint8Array(picked.length);
  picked.forEach((src, dst) => {
    outImages.set(images.data.subarray(src * px, (src + 1) * px), dst * px);
    outLabels[dst] = labels.data[src];
  });
  return {
    images: encodeIdx([picked.length, h, w], outImages),
    labels: encodeIdx([picked.length], outLabels),
    count: picked.length,
    sourceCount: n,
  };
}

function packageVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'dataset-fashion-mnist'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown (dpkg-query unavailable)';
  }
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

mkdirSync(outDir, { recursive: true });
const train = subset('train', TRAIN_PER_CLASS);
const test = subset('t10k', TEST_PER_CLASS);
const files = {
  'train-images-idx3-ubyte.gz': train.images,
  'train-labels-idx1-ubyte.gz': train.labels,
  't10k-images-idx3-ubyte.gz': test.images,
  't10k-labels-idx1-ubyte.gz': test.labels,
};
for (const [name, buf] of Object.entries(files)) writeFileSync(join(outDir, name), buf);

// The licence text is taken verbatim from the Debian copyright file so that what we ship matches
// what the packager recorded for upstream (Expat = MIT).
const copyright = existsSync(copyrightFile) ? readFileSync(copyrightFile, 'utf8') : '';
const expat = copyright.split(/^License: Expat\s*$/m).pop() ?? '';
const licenceBody = expat
  .split('\n')
  .map((l) => l.replace(/^ \.?$/, '').replace(/^ /, '').replace(/\s+$/, ''))
  .join('\n')
  .trim();
if (!licenceBody.includes('Permission is hereby granted')) {
  throw new Error(`${copyrightFile}: could not find the Expat licence text — is dataset-fashion-mnist installed?`);
}
writeFileSync(
  join(outDir, 'LICENSE'),
  `The MIT License (MIT)\n\nCopyright (c) 2017 Zalando SE, https://tech.zalando.com\n\n${licenceBody}\n`,
);

const version = packageVersion();
const provenance = `# Provenance of the embedded Fashion-MNIST subset

- Source: Fashion-MNIST (Zalando SE, https://github.com/zalandoresearch/fashion-mnist), MIT licence (see LICENSE).
- Taken from the Debian package \`dataset-fashion-mnist\`, version \`${version}\`, files in \`${srcDir}\`.
- Selection rule: walk each source file in file order and keep the first ${TRAIN_PER_CLASS} images of each of the
  ${NUM_CLASSES} classes from the training set (${train.count} of ${train.sourceCount}) and the first ${TEST_PER_CLASS}
  of each class from the test set \`t10k\` (${test.count} of ${test.sourceCount}). Kept images stay in file order.
- Format: IDX (unsigned byte), gzip level 9, same file names as upstream.
- Rebuild: \`node scripts/make-default-dataset.mjs\` (deterministic; the sums below should not change).

## sha256

| file | sha256 |
|---|---|
${Object.entries(files)
  .map(([name, buf]) => `| ${name} | ${sha256(buf)} |`)
  .join('\n')}

## sha256 of the source files

| file | sha256 |
|---|---|
${['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']
  .map((name) => `| ${name} | ${sha256(readFileSync(join(srcDir, name)))} |`)
  .join('\n')}
`;
writeFileSync(join(outDir, 'PROVENANCE.md'), provenance);
const total = Object.values(files).reduce((a, b) => a + b.length, 0);
console.log(`wrote ${outDir}: ${train.count} train + ${test.count} test images, ${(total / 1e6).toFixed(2)} MB`);
