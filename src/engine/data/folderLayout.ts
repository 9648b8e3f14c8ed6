import { existsSync, promises as fsp, statSync } from 'node:fs';
import * as path from 'node:path';
import { READ_LIMITS, folderProblem, readBoundedText } from '../util/boundedRead';

// Which files make up an image-folder dataset, without opening any image: torchvision's
// ImageFolder layout (train/<class>/*, with val/<class>/* or test/<class>/*) and Tiny-ImageNet's
// (train/<wnid>/images/*, val/images/* labelled by val/val_annotations.txt). Class indices are the
// sorted train/ folder names, as ImageFolder numbers them, so a model trained here reads the same
// label numbers as one trained with PyTorch on the same folder.

export const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

export interface FolderSplit {
  files: string[];
  labels: Int32Array;
}

export interface FolderLayout {
  classes: string[];
  train: FolderSplit;
  test: FolderSplit;
  /** The folder the evaluation split came from. */
  testFolder: 'val' | 'test';
  kind: 'image-folder' | 'tiny-imagenet';
}

export const EXPECTED_LAYOUT = 'train/<class>/*.jpg|png with val/<class>/* or test/<class>/* (or Tiny-ImageNet: train/<class>/images/* with val/images/* + val/val_annotations.txt)';

// Code-point order, not locale order, so class indices do not depend on the user's locale
// (torchvision's ImageFolder uses Python's sorted(), which is also code-point order).
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function entries(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  const all = await fsp.readdir(dir, { withFileTypes: true });
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of all) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      // Datasets are often assembled from symlinks; follow them, but only to folders and files.
      try {
        const st = statSync(path.join(dir, e.name));
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  return { dirs: dirs.sort(byCodePoint), files: files.sort(byCodePoint) };
}

async function found(root: string): Promise<string> {
  try {
    const { dirs, files } = await entries(root);
    const shown = [...dirs.map((d) => `${d}/`), ...files].slice(0, 8);
    const more = dirs.length + files.length - shown.length;
    return shown.length ? `${shown.join(', ')}${more > 0 ? `, … (${more} more)` : ''}` : 'an empty folder';
  } catch {
    return 'nothing readable';
  }
}

async function refuse(root: string, why: string): Promise<never> {
  throw new Error(`${root}: ${why}; dataset "image-folder" expects ${EXPECTED_LAYOUT}, found ${await found(root)}`);
}

async function classImages(dir: string): Promise<string[]> {
  // Tiny-ImageNet keeps each class's images one level down, in <class>/images/.
  const inner = path.join(dir, 'images');
  const at = existsSync(inner) && statSync(inner).isDirectory() ? inner : dir;
  return (await entries(at)).files.filter((f) => IMAGE_EXTENSIONS.test(f)).map((f) => path.join(at, f));
}

async function classSplit(root: string, split: string, classes: string[]): Promise<FolderSplit> {
  const dir = path.join(root, split);
  const { dirs } = await entries(dir);
  const files: string[] = [];
  const labels: number[] = [];
  for (const cls of dirs) {
    const label = classes.indexOf(cls);
    if (label < 0) {
      throw new Error(`${path.join(dir, cls)}: class "${cls}" has no folder under train/; add train/${cls}/ or remove this folder`);
    }
    for (const f of await classImages(path.join(dir, cls))) {
      files.push(f);
      labels.push(label);
    }
  }
  if (files.length === 0) return refuse(root, `no .png/.jpg/.jpeg images under ${split}/<class>/`);
  return { files, labels: Int32Array.from(labels) };
}

async function tinyImageNetVal(root: string, classes: string[]): Promise<FolderSplit> {
  const ann = path.join(root, 'val', 'val_annotations.txt');
  const lines = readBoundedText(ann, READ_LIMITS.config * 16, 'val_annotations.txt').split(/\r?\n/);
  const files: string[] = [];
  const labels: number[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const [file, wnid] = line.split('\t');
    const label = classes.indexOf(wnid ?? '');
    if (!file || label < 0) throw new Error(`${ann}: line ${i + 1} ${label < 0 ? `names class "${wnid}", which has no folder under train/` : 'is not "<file>\\t<class>\\t…"'}; fix the line or the train/ folders`);
    files.push(path.join(root, 'val', 'images', file));
    labels.push(label);
  });
  if (files.length === 0) return refuse(root, `${ann} lists no images`);
  return { files, labels: Int32Array.from(labels) };
}

/** Lists the images of an image-folder dataset and their labels; a refused folder says what it expected and what it found. */
export async function scanImageFolder(root: string): Promise<FolderLayout> {
  const bad = folderProblem(root);
  if (bad) throw new Error(`${root}: ${bad}; set dataset.path to a folder with ${EXPECTED_LAYOUT}`);
  const top = await entries(root);
  if (!top.dirs.includes('train')) return refuse(root, 'no train/ folder');
  const classes = (await entries(path.join(root, 'train'))).dirs;
  if (classes.length === 0) return refuse(root, 'no class folders under train/');
  const trainSplit = await classSplit(root, 'train', classes);
  const tiny = existsSync(path.join(root, 'val', 'val_annotations.txt')) && existsSync(path.join(root, 'val', 'images'));
  if (tiny) return { classes, train: trainSplit, test: await tinyImageNetVal(root, classes), testFolder: 'val', kind: 'tiny-imagenet' };
  const testFolder = top.dirs.includes('val') ? 'val' : top.dirs.includes('test') ? 'test' : undefined;
  if (!testFolder) return refuse(root, 'no val/ or test/ folder next to train/');
  return { classes, train: trainSplit, test: await classSplit(root, testFolder, classes), testFolder, kind: 'image-folder' };
}
