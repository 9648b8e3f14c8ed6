import { scanImageFolder } from './folderLayout';
import type { AnyDatasetPair, FileDataset, StreamSettings } from './types';

/** The streamed training resolution when dataset.size is not set: the ImageNet ResNets'. */
export const DEFAULT_STREAM_SIZE = 224;
export const DEFAULT_STREAM_PREFETCH = 4;

/** The file lists of an image folder read by the streaming loader; no image is opened here. */
export async function openStreamedFolder(
  root: string,
  spec: { size?: number; workers?: number; prefetch?: number; decoder?: StreamSettings['decoder'] },
  name = 'image-folder',
): Promise<AnyDatasetPair> {
  const layout = await scanImageFolder(root);
  const size = spec.size ?? DEFAULT_STREAM_SIZE;
  const stream: StreamSettings = { workers: spec.workers ?? 0, prefetch: spec.prefetch ?? DEFAULT_STREAM_PREFETCH, decoder: spec.decoder ?? 'auto' };
  const make = (split: { files: string[]; labels: Int32Array }): FileDataset => ({
    kind: 'files', name, files: split.files, labels: split.labels, count: split.files.length, height: size, width: size, channels: 3,
    numClasses: layout.classes.length, classNames: [...layout.classes], source: root, stream,
  });
  return { train: make(layout.train), test: make(layout.test) };
}
