/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, arXiv:1708.07747; MIT
 * license, © 2017 Zalando SE): 28×28 grey images of 10 clothing classes,
 * 60 000 for training and 10 000 for testing, as gzipped IDX files. Debian's
 * `dataset-fashion-mnist` installs them under /usr/share/datasets/fashion-mnist.
 */
import { join } from 'node:path';
import type { Observers } from '@ddinit/core';
import type { DatasetManifest } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { convertIdx, type ConvertIdxOptions } from './idx';

/** Where Debian's `dataset-fashion-mnist` puts the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export const FASHION_MNIST_SOURCE = 'Fashion-MNIST, Han Xiao, Kashif Rasul, Roland Vollgraf (2017), arXiv:1708.07747; github.com/zalandoresearch/fashion-mnist';

export const FASHION_MNIST_LICENSE = 'MIT, Copyright (c) 2017 Zalando SE';

export interface ConvertFashionMnistOptions extends Observers {
  output: string | BlobStore;
  /** Directory with the four gzipped (or raw) IDX files. Default Debian's. */
  sourceDir?: string;
  /** Keep at most this many examples per class and split (first ones in file order). */
  perClass?: { train?: number; test?: number };
  name?: string;
  writer?: ConvertIdxOptions['writer'];
}

/**
 * Converts Fashion-MNIST (train and test splits) into a dataset.
 * @example
 * await convertFashionMnist({ output: 's3://datasets/fashion-mnist' });
 */
export async function convertFashionMnist(options: ConvertFashionMnistOptions): Promise<DatasetManifest> {
  const dir = options.sourceDir ?? DEBIAN_FASHION_MNIST_DIR;
  const split = (prefix: string, perClass: number | undefined) => ({
    images: join(dir, `${prefix}-images-idx3-ubyte.gz`),
    labels: join(dir, `${prefix}-labels-idx1-ubyte.gz`),
    ...(perClass === undefined ? {} : { perClass }),
  });
  return convertIdx({
    ...options,
    name: options.name ?? 'fashion-mnist',
    classNames: [...FASHION_MNIST_CLASSES],
    source: FASHION_MNIST_SOURCE,
    license: FASHION_MNIST_LICENSE,
    splits: { train: split('train', options.perClass?.train), test: split('t10k', options.perClass?.test) },
  });
}
