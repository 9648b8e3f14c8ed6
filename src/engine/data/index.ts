export type { Dataset, DatasetPair, DatasetSpec, DatasetName } from './types';
export { FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './types';
export { loadDataset } from './load';
export { validateDatasetSpec } from './spec';
export { parseIdx, readIdxFile, encodeIdx, isGzip } from './idx';
export { parseCifarBatch, parseCifarPickle, loadCifar, loadCifar10 } from './cifar';
export { unpickle } from './pickle';
export { readTarMembers } from './tar';
export { loadImageFolder, decodeImage } from './imageFolder';
export { loadIdxFolder } from './idxDataset';
export { findEmbeddedDataset, embeddedDatasetCandidates, EMBEDDED_DATASET } from './embedded';
export { balancedTake, selectIndices, classCounts } from './subset';
export { resizeHWC } from './resize';
export {
  makeBatch, epochOrder, cropFlipInto, toUnitRange, mixup, cutmix, oneHot, sampleBeta, DEFAULT_PAD,
  type Batch, type BatchOptions,
} from './augment';
