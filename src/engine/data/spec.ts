import { DECODER_CHOICES } from '../../shared/config';
import type { DatasetSpec } from './types';

// Config errors name the exact field (`dataset.xxx`) and say how to fix it, because the user
// usually meets them in a JSON settings file, far from this code.

const NAMES = ['fashion-mnist-subset', 'idx', 'cifar10', 'cifar100', 'image-folder'] as const;
const ALLOWED: Record<(typeof NAMES)[number], string[]> = {
  'fashion-mnist-subset': ['name', 'trainLimit', 'testLimit'],
  idx: ['name', 'path', 'classNames', 'trainLimit', 'testLimit'],
  cifar10: ['name', 'path', 'trainLimit', 'testLimit'],
  cifar100: ['name', 'path', 'labels', 'trainLimit', 'testLimit'],
  'image-folder': ['name', 'path', 'size', 'loader', 'workers', 'prefetch', 'decoder', 'trainLimit', 'testLimit'],
};
const PATH_HINT: Record<string, string> = {
  idx: 'a folder holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]',
  cifar10: 'cifar-10-batches-py/ or cifar-10-batches-bin/ (or their parent folder), or the cifar-10-python.tar.gz / cifar-10-binary.tar.gz archive as downloaded',
  cifar100: 'cifar-100-python/ or cifar-100-binary/ (or their parent folder), or the cifar-100-python.tar.gz / cifar-100-binary.tar.gz archive as downloaded',
  'image-folder': 'a folder with train/<class>/*.png|jpg and val/<class>/* or test/<class>/* (or Tiny-ImageNet\'s train/ + val/images + val/val_annotations.txt)',
};

function positiveInt(obj: Record<string, unknown>, key: string, what: string): void {
  const v = obj[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`dataset.${key}: expected a positive integer (${what}), got ${JSON.stringify(v)}; set it to e.g. 1000 or remove it`);
  }
}

/** Checks an untrusted `dataset` config section; returns it typed or throws naming the bad field. */
export function validateDatasetSpec(raw: unknown): DatasetSpec {
  if (raw === undefined || raw === null) return { name: 'fashion-mnist-subset' };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`dataset: expected an object such as { "name": "fashion-mnist-subset" }, got ${JSON.stringify(raw)}`);
  }
  const obj = raw as Record<string, unknown>;
  const name = obj.name ?? 'fashion-mnist-subset';
  if (typeof name !== 'string' || !(NAMES as readonly string[]).includes(name)) {
    throw new Error(`dataset.name: unknown dataset ${JSON.stringify(name)}; use one of ${NAMES.map((n) => `"${n}"`).join(', ')}`);
  }
  const n = name as (typeof NAMES)[number];
  for (const key of Object.keys(obj)) {
    if (!ALLOWED[n].includes(key)) {
      if (n === 'fashion-mnist-subset' && key === 'path') {
        throw new Error(`dataset.path: the embedded "fashion-mnist-subset" takes no path; to read Fashion-MNIST from a folder use { "name": "idx", "path": ${JSON.stringify(obj.path)} }`);
      }
      throw new Error(`dataset.${key}: not a field of dataset "${n}"; remove it (allowed: ${ALLOWED[n].join(', ')})`);
    }
  }
  if (n !== 'fashion-mnist-subset') {
    if (typeof obj.path !== 'string' || obj.path.trim() === '') {
      throw new Error(`dataset.path: required for dataset "${n}"; set it to ${PATH_HINT[n]}`);
    }
  }
  positiveInt(obj, 'trainLimit', 'maximum number of training images');
  positiveInt(obj, 'testLimit', 'maximum number of test images');
  if (n === 'image-folder') {
    const s = obj.size;
    if (s !== undefined && (typeof s !== 'number' || !Number.isInteger(s) || s < 4 || s > 1024)) {
      throw new Error(`dataset.size: expected an integer side length between 4 and 1024 pixels, got ${JSON.stringify(s)}; e.g. 32, or remove it to keep the first image's size`);
    }
  }
  if (n === 'image-folder') {
    if (obj.loader !== undefined && obj.loader !== 'memory' && obj.loader !== 'stream') {
      throw new Error(`dataset.loader: expected "memory" (decode every image once at load) or "stream" (decode in worker threads while training), got ${JSON.stringify(obj.loader)}`);
    }
    for (const k of ['workers', 'prefetch', 'decoder'] as const) {
      if (obj[k] !== undefined && obj.loader !== 'stream') throw new Error(`dataset.${k}: only used with "loader": "stream"; add it or remove ${k}`);
    }
    const w = obj.workers;
    if (w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 64)) throw new Error(`dataset.workers: expected an integer 0..64 (decode threads; 0 = one per core up to 8), got ${JSON.stringify(w)}`);
    const p = obj.prefetch;
    if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 64)) throw new Error(`dataset.prefetch: expected an integer 1..64 (training steps decoded ahead), got ${JSON.stringify(p)}`);
    const d = obj.decoder;
    if (d !== undefined && !(DECODER_CHOICES as readonly unknown[]).includes(d)) throw new Error(`dataset.decoder: expected ${DECODER_CHOICES.map((c) => JSON.stringify(c)).join(', ')}, got ${JSON.stringify(d)}`);
  }
  if (n === 'cifar100' && obj.labels !== undefined && obj.labels !== 'fine' && obj.labels !== 'coarse') {
    throw new Error(`dataset.labels: expected "fine" (100 classes) or "coarse" (20 superclasses), got ${JSON.stringify(obj.labels)}; fix or remove it`);
  }
  if (n === 'idx' && obj.classNames !== undefined) {
    const c = obj.classNames;
    if (!Array.isArray(c) || c.length === 0 || c.some((x) => typeof x !== 'string')) {
      throw new Error(`dataset.classNames: expected a non-empty array of strings, one per class in label order; fix or remove it`);
    }
  }
  return { ...obj, name: n } as DatasetSpec;
}
