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

export interface DatasetPair {
  train: Dataset;
  test: Dataset;
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
  | ({ name: 'image-folder'; path: string; size?: number } & LimitFields);

export type DatasetName = DatasetSpec['name'];

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
