import * as path from 'node:path';
import { loadCifar } from './cifar';
import { EMBEDDED_DATASET, findEmbeddedDataset } from './embedded';
import { loadIdxFolder } from './idxDataset';
import { loadImageFolder } from './imageFolder';
import { validateDatasetSpec } from './spec';
import { openStreamedFolder } from './streamedFolder';
import { balancedTake, balancedTakeFiles } from './subset';
import { FASHION_MNIST_CLASSES, isFileDataset, type AnyDatasetPair, type DatasetPair } from './types';

/**
 * Loads the train and test splits named by a `dataset` config section (validated here, so raw
 * JSON may be passed) into memory. Relative paths resolve against `baseDir` (default: the
 * process cwd). A streamed image folder is refused here: see openDataset.
 */
export async function loadDataset(specIn: unknown, baseDir: string = process.cwd()): Promise<DatasetPair> {
  const pair = await openDataset(specIn, baseDir);
  if (isFileDataset(pair.train) || isFileDataset(pair.test)) {
    throw new Error('dataset.loader: "stream" datasets are decoded while training and cannot be loaded whole here; set dataset.loader to "memory" (small folders) or use dataset.testLimit');
  }
  return pair as DatasetPair;
}

/** The splits of a run: in memory, or file lists for a streamed image folder (dataset.loader "stream"). */
export async function openDataset(specIn: unknown, baseDir: string = process.cwd()): Promise<AnyDatasetPair> {
  const spec = validateDatasetSpec(specIn);
  let pair: AnyDatasetPair;
  switch (spec.name) {
    case 'fashion-mnist-subset': {
      pair = await loadIdxFolder(findEmbeddedDataset(), EMBEDDED_DATASET, 'embedded', FASHION_MNIST_CLASSES);
      break;
    }
    case 'idx':
      pair = await loadIdxFolder(path.resolve(baseDir, spec.path), spec.name, path.resolve(baseDir, spec.path), spec.classNames);
      break;
    case 'cifar10':
      pair = await loadCifar(path.resolve(baseDir, spec.path), { variant: 10, name: spec.name });
      break;
    case 'cifar100':
      pair = await loadCifar(path.resolve(baseDir, spec.path), { variant: 100, labels: spec.labels, name: spec.name });
      break;
    case 'image-folder':
      pair = spec.loader === 'stream'
        ? await openStreamedFolder(path.resolve(baseDir, spec.path), spec, spec.name)
        : await loadImageFolder(path.resolve(baseDir, spec.path), spec.size, spec.name);
      break;
  }
  const take = <T extends AnyDatasetPair['train']>(d: T, limit: number | undefined): T => {
    if (!limit) return d;
    return (isFileDataset(d) ? balancedTakeFiles(d, limit) : balancedTake(d, limit)) as T;
  };
  return { train: take(pair.train, spec.trainLimit), test: take(pair.test, spec.testLimit) };
}
