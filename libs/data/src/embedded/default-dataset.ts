/**
 * The dataset that ships with the library: a class-balanced Fashion-MNIST
 * sample (300 training and 100 test images per class: 3 000 + 1 000 images of
 * 28×28×1, about 3 MB), committed under `libs/data/assets/fashion-mnist-sample`
 * with its MIT license text. It is there after `npm ci`, with no download.
 *
 * Rebuild it (byte-identical) from Debian's `dataset-fashion-mnist`:
 * `npx tsx libs/data/scripts/build-default-dataset.ts`.
 */
import { DEBIAN_FASHION_MNIST_DIR, convertFashionMnist } from '../convert/fashion-mnist';
import type { DatasetManifest } from '../format/manifest';
import { openDataset, type Dataset, type OpenDatasetOptions } from '../read/dataset';
import { defaultDatasetPath } from './default-dataset-path';

export { defaultDatasetPath };

/** Examples per class in the committed sample. */
export const DEFAULT_SAMPLE_PER_CLASS = { train: 300, test: 100 } as const;

/**
 * Opens the embedded sample.
 * @example
 * const dataset = await openDefaultDataset();
 * dataset.split('train').examples; // 3000
 */
export function openDefaultDataset(options: OpenDatasetOptions = {}): Promise<Dataset> {
  return openDataset(defaultDatasetPath(), options);
}

/**
 * Builds the sample from the full Fashion-MNIST IDX files: the first
 * `perClass` images of each class in file order, one shard per split.
 */
export function buildDefaultDataset(output: string, sourceDir = DEBIAN_FASHION_MNIST_DIR): Promise<DatasetManifest> {
  return convertFashionMnist({
    output,
    sourceDir,
    name: 'fashion-mnist-sample',
    perClass: { ...DEFAULT_SAMPLE_PER_CLASS },
    writer: { overwrite: true },
  });
}
