import type { DecoderChoice } from '../../shared/config';

/** One split of an image-classification dataset, held as raw bytes so it costs 1 byte per pixel. */
export interface Dataset {
  name: string;
  /** count × height × width × channels, HWC per image, 0..255. */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  numClasses: number;
  classNames: string[];
  /** Folder the data came from, or 'embedded' for the bundled Fashion-MNIST subset. */
  source: string;
}

/**
 * One split of a streamed image folder: only the file list and labels are held; images are
 * decoded, cropped and resized at `height`×`width` by the loader's workers as training asks.
 */
export interface FileDataset {
  kind: 'files';
  name: string;
  files: string[];
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: 3;
  numClasses: number;
  classNames: string[];
  source: string;
  stream: StreamSettings;
}

export interface StreamSettings {
  /** Decode threads (0 = one per core, at most 8). */
  workers: number;
  /** Steps decoded ahead of training. */
  prefetch: number;
  decoder: DecoderChoice;
}

export type AnyDataset = Dataset | FileDataset;

export function isFileDataset(d: AnyDataset): d is FileDataset {
  return (d as FileDataset).kind === 'files';
}

export interface DatasetPair {
  train: Dataset;
  test: Dataset;
}

/** What a run trains on: in memory, or (image-folder with loader "stream") a pair of file lists. */
export interface AnyDatasetPair {
  train: AnyDataset;
  test: AnyDataset;
}

interface LimitFields {
  /** Keep at most this many training images, taken class-balanced in file order. */
  trainLimit?: number;
  testLimit?: number;
}

export type DatasetSpec =
  | ({ name: 'fashion-mnist-subset' } & LimitFields)
  | ({ name: 'idx'; path: string; classNames?: string[] } & LimitFields)
  | ({ name: 'cifar10'; path: string } & LimitFields)
  | ({ name: 'cifar100'; path: string; labels?: 'fine' | 'coarse' } & LimitFields)
  | ({ name: 'image-folder'; path: string; size?: number; loader?: 'memory' | 'stream'; workers?: number; prefetch?: number; decoder?: DecoderChoice } & LimitFields);

export type DatasetName = DatasetSpec['name'];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
