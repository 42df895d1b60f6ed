/**
 * The fixed, seeded data sample the init stage works on: the first `size`
 * examples of the split's shuffled epoch 0 for the run seed, scaled to [0, 1]
 * and standardized per channel with the sample's own mean and std (recorded, so
 * training can reuse the same normalization).
 */
import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { DataError, type Observers } from '@ddinit/core';
import { MANIFEST_NAME, defaultDatasetPath, isS3Uri, openDataset, openStore, toTensorBatch, type StoreOptions } from '@ddinit/data';
import { EMBEDDED_DATA } from '../config/pipeline-config';

export interface InitSample {
  /** [size, h, w, c] float32, standardized per channel. */
  images: tf.Tensor4D;
  /** Where the data came from (resolved location). */
  source: string;
  split: string;
  /** [h, w, c] */
  inputShape: [number, number, number];
  /** Number of classes the dataset declares (0 when unlabelled). */
  classes: number;
  normalization: { scale: number; mean: number[]; std: number[] };
}

export function resolveDataLocation(data: string): string {
  return data === EMBEDDED_DATA ? defaultDatasetPath() : data;
}

/** The size to decode an encoded dataset's images to (the model's input), logged; a DataError saying what to run when there is none. */
async function encodedImageSize(
  source: string,
  decodeSize: (() => Promise<{ height: number; width: number }>) | undefined,
  observers: Observers,
): Promise<{ height: number; width: number }> {
  if (decodeSize === undefined) {
    throw new DataError('this dataset stores encoded (PNG/JPEG) images and no size to decode them to was given', {
      where: source,
      expected: `raw images: convert with a size, e.g. \`ddinit data convert image-folder --size 32x32 …\``,
      actual: 'encoded images',
    });
  }
  const size = await decodeSize();
  observers.logger?.info('decoding the encoded images to the model input', { data: source, height: size.height, width: size.width });
  return size;
}

/**
 * Reads the sample. Throws DataError naming the dataset when the split has
 * fewer than `size` examples, or when a channel is constant (no std to
 * standardize by).
 */
export async function loadInitSample(
  options: {
    data: string;
    split: string;
    size: number;
    seed: number;
    store?: StoreOptions;
    /** The size encoded (PNG/JPEG) images are decoded and resized to, asked for only when the dataset stores them so. */
    decodeSize?: () => Promise<{ height: number; width: number }>;
  },
  observers: Observers = {},
): Promise<InitSample> {
  const source = resolveDataLocation(options.data);
  const store = openStore(source, { ...options.store, ...(observers.logger ? { logger: observers.logger } : {}) });
  if (!(await store.exists(MANIFEST_NAME))) {
    // A wrong --data is bad input (exit 2), not a storage failure.
    const isFile = !isS3Uri(source) && (await stat(source).then((s) => s.isFile(), () => false));
    throw new DataError(isFile ? 'this is a file, not a dataset' : 'no dataset at this location', {
      where: source,
      expected: `a dataset directory or prefix holding ${MANIFEST_NAME} (\`ddinit data convert\` makes one)`,
      actual: isFile ? 'a plain file' : `no ${store.describe(MANIFEST_NAME)}`,
    });
  }
  const dataset = await openDataset(store, observers.logger ? { logger: observers.logger } : {});
  const entry = dataset.split(options.split);
  if (entry.examples < options.size) {
    throw new DataError('the split has fewer examples than the init sample needs', {
      where: `dataset ${source}, split ${options.split}`,
      expected: `at least ${options.size} examples`,
      actual: entry.examples,
    });
  }
  observers.progress?.({ task: 'read sample', phase: 'start', completed: 0, total: options.size });
  const decode = dataset.features.image.encoding === 'encoded' ? await encodedImageSize(source, options.decodeSize, observers) : undefined;
  const batches = dataset.batches(options.split, { batchSize: options.size, seed: options.seed, epoch: 0, shuffle: true, ...(decode ? { decode } : {}) });
  const first = await batches.next();
  await batches.return(undefined);
  if (first.done || first.value.size < options.size) {
    throw new DataError('the dataset ended before the init sample was complete', {
      where: `dataset ${source}, split ${options.split}`,
      expected: options.size,
      actual: first.done ? 0 : first.value.size,
    });
  }
  const batch = first.value;
  const scale = 1 / 255;
  const raw = toTensorBatch(batch, { scale });
  try {
    const { mean, std } = tf.tidy(() => {
      const moments = tf.moments(raw.images, [0, 1, 2]);
      return { mean: Array.from(moments.mean.dataSync()), std: Array.from(tf.sqrt(moments.variance).dataSync()) };
    });
    std.forEach((s, c) => {
      if (!(s > 1e-6)) {
        throw new DataError('a channel is constant over the sample: it cannot be standardized', {
          where: `dataset ${source}, split ${options.split}, channel ${c}`,
          expected: 'std > 1e-6',
          actual: s,
        });
      }
    });
    const images = tf.tidy(() => tf.div(tf.sub(raw.images, mean), std) as tf.Tensor4D);
    observers.progress?.({ task: 'read sample', phase: 'end', completed: options.size, total: options.size });
    return {
      images,
      source,
      split: options.split,
      inputShape: [batch.height, batch.width, batch.channels],
      classes: batch.classes,
      normalization: { scale, mean, std },
    };
  } finally {
    tf.dispose([raw.images, raw.labels, raw.multiHot, raw.masks].filter((t) => t !== undefined) as tf.Tensor[]);
  }
}
