import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { READ_LIMITS, folderProblem, readBounded } from '../util/boundedRead';
import { pickleDict, unpickle, type PickleValue } from './pickle';
import { readTarMembers } from './tar';
import { CIFAR10_CLASSES, type Dataset, type DatasetPair } from './types';

// CIFAR-10 and CIFAR-100 in the four layouts people hold them in: the binary and the python
// (pickle) versions, each as the unpacked folder or as the .tar.gz archive as downloaded (read on
// the fly, see tar.ts). Pixels are stored channel-planar (1024 R, 1024 G, 1024 B, rows top to
// bottom) in every layout; we convert to HWC to match every other loader and the engine's NHWC.

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;

export type CifarVariant = 10 | 100;
type Layout = 'bin' | 'py';
/** CIFAR-100 carries two labels per image: 100 fine classes and 20 coarse superclasses. */
export type Cifar100Labels = 'fine' | 'coarse';

interface LayoutFiles {
  folder: string;
  train: string[];
  test: string;
  meta: string;
}

const FILES: Record<CifarVariant, Record<Layout, LayoutFiles>> = {
  10: {
    bin: { folder: 'cifar-10-batches-bin', train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: 'test_batch.bin', meta: 'batches.meta.txt' },
    py: { folder: 'cifar-10-batches-py', train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}`), test: 'test_batch', meta: 'batches.meta' },
  },
  100: {
    bin: { folder: 'cifar-100-binary', train: ['train.bin'], test: 'test.bin', meta: 'fine_label_names.txt' },
    py: { folder: 'cifar-100-python', train: ['train'], test: 'test', meta: 'meta' },
  },
};

const EXPECTED: Record<CifarVariant, string> = {
  10: 'cifar-10-batches-py/ (data_batch_1 … data_batch_5, test_batch), cifar-10-batches-bin/ (data_batch_1.bin … test_batch.bin), or the cifar-10-python.tar.gz / cifar-10-binary.tar.gz archive',
  100: 'cifar-100-python/ (train, test, meta), cifar-100-binary/ (train.bin, test.bin), or the cifar-100-python.tar.gz / cifar-100-binary.tar.gz archive',
};

interface Split { images: Uint8Array; labels: Int32Array }

function planarToHwc(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let p = 0; p < PLANE; p++) {
    dst[dstOff + 3 * p] = src[srcOff + p];
    dst[dstOff + 3 * p + 1] = src[srcOff + PLANE + p];
    dst[dstOff + 3 * p + 2] = src[srcOff + 2 * PLANE + p];
  }
}

/**
 * Decodes binary records: `labelBytes` leading label bytes (1 for CIFAR-10; 2 for CIFAR-100,
 * coarse then fine) and 3072 planar pixels. `labelIndex` picks which label byte is the label.
 */
export function parseCifarBatch(buf: Uint8Array, file: string, variant: CifarVariant = 10, labelIndex = variant === 100 ? 1 : 0): Split {
  const labelBytes = variant === 100 ? 2 : 1;
  const record = labelBytes + PIXELS;
  const classes = variant === 100 && labelIndex === 0 ? 20 : variant;
  if (buf.length === 0 || buf.length % record !== 0) {
    throw new Error(`${file}: ${buf.length} bytes is not a whole number of ${record}-byte CIFAR-${variant} records (truncated or not the binary version); download cifar-${variant}-binary.tar.gz again`);
  }
  const n = buf.length / record;
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const base = r * record;
    const y = buf[base + labelIndex];
    if (y >= classes) {
      const other = variant === 10 ? ' (CIFAR-100 uses a different layout: set dataset.name to "cifar100")' : '';
      throw new Error(`${file}: record ${r} has label ${y}, outside 0..${classes - 1}; this is not a CIFAR-${variant} binary file${other}`);
    }
    labels[r] = y;
    planarToHwc(buf, base + labelBytes, images, r * PIXELS);
  }
  return { images, labels };
}

function field(d: Map<string, PickleValue>, key: string, file: string): PickleValue {
  if (!d.has(key)) throw new Error(`${file}: the pickle has no "${key}" entry (has ${[...d.keys()].join(', ')}); not a CIFAR python batch of this kind`);
  return d.get(key)!;
}

function intList(v: PickleValue, key: string, file: string): Int32Array {
  if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) return Int32Array.from(v as number[]);
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && v.kind === 'ndarray' && v.shape.length === 1) {
    const n = v.shape[0];
    const width = { '<u1': 1, '<i8': 8, '<i4': 4 }[v.dtype];
    if (width && v.data.length === n * width) {
      const dv = new DataView(v.data.buffer, v.data.byteOffset, v.data.byteLength);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = width === 1 ? v.data[i] : width === 4 ? dv.getInt32(4 * i, true) : Number(dv.getBigInt64(8 * i, true));
      return out;
    }
  }
  throw new Error(`${file}: "${key}" is not a list of integer labels`);
}

function stringList(v: PickleValue | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map((x) => (typeof x === 'string' ? x : x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : undefined));
  return out.every((s) => s !== undefined) ? (out as string[]) : undefined;
}

/** Decodes one python batch (a pickled dict with "data" and "labels"/"fine_labels"/"coarse_labels"). */
export function parseCifarPickle(buf: Uint8Array, file: string, variant: CifarVariant = 10, which: Cifar100Labels = 'fine'): Split {
  const d = pickleDict(unpickle(buf, file), file);
  const data = field(d, 'data', file);
  if (!(typeof data === 'object' && data !== null && !Array.isArray(data) && !(data instanceof Uint8Array) && data.kind === 'ndarray')) {
    throw new Error(`${file}: "data" is not a numpy array`);
  }
  if (data.dtype !== '<u1' || data.shape.length !== 2 || data.shape[1] !== PIXELS || data.fortran || data.data.length !== data.shape[0] * PIXELS) {
    throw new Error(`${file}: "data" is a ${data.dtype} array of shape (${data.shape.join(', ')}), expected uint8 (N, 3072) in C order; not a CIFAR python batch`);
  }
  const key = variant === 10 ? 'labels' : `${which}_labels`;
  const labels = intList(field(d, key, file), key, file);
  const n = data.shape[0];
  if (labels.length !== n) throw new Error(`${file}: ${labels.length} labels for ${n} images`);
  const classes = variant === 100 && which === 'coarse' ? 20 : variant;
  const bad = labels.findIndex((y) => y < 0 || y >= classes);
  if (bad >= 0) {
    throw new Error(`${file}: image ${bad} has label ${labels[bad]}, outside 0..${classes - 1}; is this CIFAR-${variant === 10 ? 100 : 10}? set dataset.name accordingly`);
  }
  const images = new Uint8Array(n * PIXELS);
  for (let r = 0; r < n; r++) planarToHwc(data.data, r * PIXELS, images, r * PIXELS);
  return { images, labels };
}

function concat(parts: Split[]): Split {
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return { images, labels };
}

/** Where the files are: a folder (the batches themselves or their parent) or the members of an archive. */
interface Source {
  layout: Layout;
  where: string;
  read(name: string): Buffer | undefined;
}

function folderSource(dir: string, variant: CifarVariant): Source | undefined {
  for (const layout of ['py', 'bin'] as Layout[]) {
    const f = FILES[variant][layout];
    for (const d of [dir, path.join(dir, f.folder)]) {
      if (existsSync(path.join(d, f.test)) || f.train.some((t) => existsSync(path.join(d, t)))) {
        return { layout, where: d, read: (name) => (existsSync(path.join(d, name)) ? readBounded(path.join(d, name), READ_LIMITS.cifarBatch * 8, 'a CIFAR batch') : undefined) };
      }
    }
  }
  return undefined;
}

async function archiveSource(file: string, variant: CifarVariant): Promise<Source> {
  const names = new Set<string>();
  for (const layout of ['py', 'bin'] as Layout[]) {
    const f = FILES[variant][layout];
    for (const n of [...f.train, f.test, f.meta, 'coarse_label_names.txt']) names.add(`${f.folder}/${n}`);
  }
  const members = await readTarMembers(file, { want: (n) => names.has(n), maxBytes: READ_LIMITS.cifarBatch * 8 });
  for (const layout of ['py', 'bin'] as Layout[]) {
    const f = FILES[variant][layout];
    if ([...members.keys()].some((k) => k.startsWith(`${f.folder}/`))) {
      return { layout, where: `${file}:${f.folder}`, read: (name) => members.get(`${f.folder}/${name}`) };
    }
  }
  throw new Error(`${file}: the archive holds no CIFAR-${variant} batches; dataset "cifar${variant}" expects ${EXPECTED[variant]}`);
}

function classNamesOf(src: Source, variant: CifarVariant, which: Cifar100Labels): string[] | undefined {
  const f = FILES[variant][src.layout];
  if (src.layout === 'bin') {
    const meta = src.read(variant === 100 && which === 'coarse' ? 'coarse_label_names.txt' : f.meta);
    return meta?.toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  }
  const buf = src.read(f.meta);
  if (!buf) return undefined;
  const d = pickleDict(unpickle(buf, path.join(src.where, f.meta)), path.join(src.where, f.meta));
  return stringList(d.get(variant === 10 ? 'label_names' : `${which}_label_names`));
}

export interface CifarOptions {
  variant?: CifarVariant;
  /** CIFAR-100 only: "fine" (100 classes, default) or "coarse" (20 superclasses). */
  labels?: Cifar100Labels;
  name?: string;
}

/** Loads CIFAR-10 or CIFAR-100 from a folder or a .tar.gz, in the binary or the python layout. */
export async function loadCifar(where: string, opts: CifarOptions = {}): Promise<DatasetPair> {
  const variant = opts.variant ?? 10;
  const which = opts.labels ?? 'fine';
  const name = opts.name ?? `cifar${variant}`;
  let isFile = false;
  try {
    isFile = statSync(where).isFile();
  } catch {
    /* folderProblem below names the problem */
  }
  let src: Source | undefined;
  if (isFile) src = await archiveSource(where, variant);
  else {
    const bad = folderProblem(where);
    if (bad) throw new Error(`${where}: ${bad}; set dataset.path to ${EXPECTED[variant]}`);
    src = folderSource(where, variant);
    if (!src) throw new Error(`${where}: no CIFAR-${variant} batches found; dataset "cifar${variant}" expects ${EXPECTED[variant]}`);
  }
  const f = FILES[variant][src.layout];
  const missing = [...f.train, f.test].filter((n) => src.read(n) === undefined);
  if (missing.length) {
    throw new Error(`${missing.map((n) => path.join(src.where, n)).join(', ')}: not found; dataset "cifar${variant}" needs ${[...f.train, f.test].join(', ')} together`);
  }
  const parse = (n: string): Split => {
    const file = path.join(src.where, n);
    const buf = src.read(n)!;
    if (src.layout === 'py') return parseCifarPickle(buf, file, variant, which);
    return parseCifarBatch(buf, file, variant, variant === 100 && which === 'coarse' ? 0 : variant === 100 ? 1 : 0);
  };
  const numClasses = variant === 100 && which === 'coarse' ? 20 : variant;
  let classNames = classNamesOf(src, variant, which);
  if (!classNames || classNames.length < numClasses) classNames = variant === 10 ? [...CIFAR10_CLASSES] : Array.from({ length: numClasses }, (_, i) => `class ${i}`);
  classNames = classNames.slice(0, numClasses);
  const make = (s: Split): Dataset => ({
    name, images: s.images, labels: s.labels, count: s.labels.length, height: SIDE, width: SIDE, channels: 3,
    numClasses, classNames, source: src.where,
  });
  return { train: make(concat(f.train.map(parse))), test: make(parse(f.test)) };
}

/** CIFAR-10 from any of its layouts (kept for callers that name it). */
export function loadCifar10(where: string, name = 'cifar10'): Promise<DatasetPair> {
  return loadCifar(where, { variant: 10, name });
}
