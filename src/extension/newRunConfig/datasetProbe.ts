import * as fs from 'node:fs';
import * as path from 'node:path';

// What New Run Config asks about the data: which kind, then which folder (or archive), checked on
// the spot so a wrong pick is refused in one line naming what was expected and what was found,
// before a config that cannot start is written. The engine checks again, fully, when a run starts.

export interface DatasetKind {
  label: string;
  detail: string;
  /** The config's dataset section, less the path. */
  section: Record<string, unknown>;
  /** undefined: nothing to pick (the embedded set). */
  pick?: 'folder' | 'folder-or-archive';
  expected?: string;
}

export const DATASET_KINDS: DatasetKind[] = [
  { label: 'Fashion-MNIST subset (embedded)', detail: 'works offline; the default job', section: { name: 'fashion-mnist-subset' } },
  {
    label: 'CIFAR-10', detail: 'cifar-10-batches-py, cifar-10-batches-bin, or the downloaded .tar.gz', section: { name: 'cifar10' }, pick: 'folder-or-archive',
    expected: 'cifar-10-batches-py/ (data_batch_1 … test_batch), cifar-10-batches-bin/ (data_batch_1.bin …) or cifar-10-python.tar.gz / cifar-10-binary.tar.gz',
  },
  {
    label: 'CIFAR-100', detail: 'cifar-100-python, cifar-100-binary, or the downloaded .tar.gz', section: { name: 'cifar100' }, pick: 'folder-or-archive',
    expected: 'cifar-100-python/ (train, test, meta), cifar-100-binary/ (train.bin, test.bin) or cifar-100-python.tar.gz / cifar-100-binary.tar.gz',
  },
  {
    label: 'Image folder, streamed (ImageNet-style)', detail: 'train/<class>/* + val/<class>/*; decoded while training at 224 px', section: { name: 'image-folder', loader: 'stream', size: 224 }, pick: 'folder',
    expected: 'train/<class>/* with val/<class>/* or test/<class>/* (or Tiny-ImageNet: val/images + val/val_annotations.txt)',
  },
  {
    label: 'Image folder, in memory (small)', detail: 'train/<class>/* + val/ or test/; decoded once at load', section: { name: 'image-folder' }, pick: 'folder',
    expected: 'train/<class>/* with val/<class>/* or test/<class>/*',
  },
  {
    label: 'IDX files (MNIST format)', detail: 'train-images-idx3-ubyte[.gz] and the three others', section: { name: 'idx' }, pick: 'folder',
    expected: 'train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]',
  },
];

function listing(dir: string): string {
  try {
    const names = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
    if (names.length === 0) return 'an empty folder';
    return names.slice(0, 6).join(', ') + (names.length > 6 ? `, … (${names.length - 6} more)` : '');
  } catch (e) {
    return `nothing readable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

const has = (p: string): boolean => fs.existsSync(p);

function cifarOk(p: string, v: 10 | 100): boolean {
  if (/\.(tar\.gz|tgz|tar)$/i.test(p)) return fs.statSync(p).isFile();
  const layouts = v === 10
    ? [['cifar-10-batches-py', 'data_batch_1'], ['cifar-10-batches-bin', 'data_batch_1.bin']]
    : [['cifar-100-python', 'train'], ['cifar-100-binary', 'train.bin']];
  return layouts.some(([sub, f]) => has(path.join(p, f)) || has(path.join(p, sub, f)));
}

/** undefined when `p` looks like the kind's layout; else one line: what was expected, what was found. */
export function probeDataset(kind: DatasetKind, p: string): string | undefined {
  if (!kind.pick) return undefined;
  if (!has(p)) return `${p} does not exist`;
  const name = kind.section.name;
  let ok: boolean;
  if (name === 'cifar10' || name === 'cifar100') ok = cifarOk(p, name === 'cifar10' ? 10 : 100);
  else if (!fs.statSync(p).isDirectory()) return `${p} is a file; ${kind.label} expects a folder with ${kind.expected}`;
  else if (name === 'image-folder') ok = has(path.join(p, 'train')) && (has(path.join(p, 'val')) || has(path.join(p, 'test')));
  else ok = ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte'].every((f) => has(path.join(p, f)) || has(path.join(p, `${f}.gz`)));
  if (ok) return undefined;
  const found = fs.statSync(p).isDirectory() ? listing(p) : `the file ${path.basename(p)}`;
  return `${kind.label} expects ${kind.expected}; found ${found} in ${p}`;
}

/** The dataset section for the template, with the path relative to the config's folder when inside it. */
export function datasetSection(kind: DatasetKind, picked: string | undefined, configFolder: string): Record<string, unknown> {
  if (!kind.pick || !picked) return { ...kind.section };
  const rel = path.relative(configFolder, picked);
  const p = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : picked;
  return { ...kind.section, path: p };
}
