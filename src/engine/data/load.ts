import * as path from 'node:path';
import { loadCifar } from './cifar';
import { EMBEDDED_DATASET, findEmbeddedDataset } from './embedded';
import { loadIdxFolder } from './idxDataset';
import { loadImageFolder } from './imageFolder';
import { validateDatasetSpec } from './spec';
import { balancedTake } from './subset';
import { FASHION_MNIST_CLASSES, type DatasetPair } from './types';

/**
 * Loads the train and test splits named by a `dataset` config section (validated here, so raw
 * JSON may be passed). Relative paths resolve against `baseDir` (default: the process cwd).
 */
export async function loadDataset(specIn: unknown, baseDir: string = process.cwd()): Promise<DatasetPair> {
  const spec = validateDatasetSpec(specIn);
  let pair: DatasetPair;
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
      pair = await loadImageFolder(path.resolve(baseDir, spec.path), spec.size, spec.name);
      break;
  }
  return {
    train: spec.trainLimit ? balancedTake(pair.train, spec.trainLimit) : pair.train,
    test: spec.testLimit ? balancedTake(pair.test, spec.testLimit) : pair.test,
  };
}
