import type { Dataset, FileDataset } from './types';

/**
 * At most `limit` images, class-balanced: classes take turns (in class order) giving their next
 * image in file order, so a small limit still covers every class evenly. Kept images stay in file
 * order. A limit at or above the count returns the dataset unchanged.
 */
export function balancedTake(ds: Dataset, limit: number): Dataset {
  if (limit >= ds.count) return ds;
  return selectIndices(ds, balancedIndices(ds, limit));
}

/** balancedTake for a streamed folder: the same images, as file paths. */
export function balancedTakeFiles(ds: FileDataset, limit: number): FileDataset {
  if (limit >= ds.count) return ds;
  const picked = balancedIndices(ds, limit);
  return { ...ds, files: picked.map((i) => ds.files[i]), labels: Int32Array.from(picked, (i) => ds.labels[i]), count: picked.length };
}

function balancedIndices(ds: Pick<Dataset, 'labels' | 'numClasses' | 'count'>, limit: number): number[] {
  const perClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.count; i++) perClass[ds.labels[i]].push(i);
  const cursor = new Array<number>(ds.numClasses).fill(0);
  const picked: number[] = [];
  while (picked.length < limit) {
    for (let c = 0; c < ds.numClasses && picked.length < limit; c++) {
      if (cursor[c] < perClass[c].length) picked.push(perClass[c][cursor[c]++]);
    }
  }
  picked.sort((a, b) => a - b);
  return picked;
}

/** A new Dataset holding the given images (copied) in the given order. */
export function selectIndices(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const px = ds.height * ds.width * ds.channels;
  const images = new Uint8Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j];
    images.set(ds.images.subarray(i * px, (i + 1) * px), j * px);
    labels[j] = ds.labels[i];
  }
  return { ...ds, images, labels, count: indices.length };
}

/** Images per class, for reports and balance checks. */
export function classCounts(ds: Pick<Dataset, 'labels' | 'numClasses'>): number[] {
  const counts = new Array<number>(ds.numClasses).fill(0);
  for (const y of ds.labels) counts[y]++;
  return counts;
}
