/**
 * The fixed, seeded data sample the init stage works on: the first `size`
 * examples of the split's shuffled epoch 0 for the run seed, scaled to [0, 1]
 * and standardized per channel with the sample's own mean and std (recorded, so
 * training can reuse the same normalization). The next `heldOut` examples of the
 * same epoch — never in the sample — are standardized the same way and kept aside
 * to check that the initialization holds on images it was not fitted to.
 */
import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { DataError, type Observers } from '@ddinit/core';
import { MANIFEST_NAME, isS3Uri, normalizeBytes, openDataset, openStore, toTensorBatch, type Dataset, type StoreOptions, type UintBatch } from '@ddinit/data';
import { resolveDataLocation } from '../config/pipeline-config';

/** Images the init stage has not seen, standardized like the sample. */
export interface HeldOutBatch {
  /** [n, h, w, c] float32. */
  images: tf.Tensor4D;
  /** Class index per image, when the dataset has single-class labels. */
  labels: tf.Tensor1D | null;
}

export interface InitSample {
  /** [size, h, w, c] float32, standardized per channel. */
  images: tf.Tensor4D;
  /** Null when the split has no example left beyond the sample. */
  heldOut: HeldOutBatch | null;
  /** Where the data came from (resolved location). */
  source: string;
  split: string;
  /** [h, w, c] */
  inputShape: [number, number, number];
  /** Number of classes the dataset declares (0 when unlabelled). */
  classes: number;
  normalization: { scale: number; mean: number[]; std: number[] };
}

/** An opened split, before any image is read: what choosing the sample size needs. */
export interface InitData {
  dataset: Dataset;
  source: string;
  split: string;
  /** Examples in the split. */
  examples: number;
  inputShape: [number, number, number];
  classes: number;
  /** The size encoded (PNG/JPEG) images are decoded and resized to; undefined for raw images. */
  decode?: { height: number; width: number };
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
 * Opens the dataset and checks the split (manifest only, no shard is read).
 * Encoded (PNG/JPEG) images are decoded to `decodeSize()` (the model's input), asked
 * for only when the dataset stores them so.
 * @throws DataError naming the location when there is no dataset (or a plain file
 *   is named), the split is missing or empty, or encoded images have no size to go to.
 */
export async function openInitData(
  options: { data: string; split: string; store?: StoreOptions; decodeSize?: () => Promise<{ height: number; width: number }> },
  observers: Observers = {},
): Promise<InitData> {
  const source = resolveDataLocation(options.data);
  const store = openStore(source, { ...options.store, ...(observers.logger ? { logger: observers.logger } : {}) });
  if (!(await store.exists(MANIFEST_NAME))) {
    // A wrong --data is bad input (exit 2), not a storage failure.
    const isFile =
      !isS3Uri(source) &&
      (await stat(source).then(
        (s) => s.isFile(),
        () => false,
      ));
    throw new DataError(isFile ? 'this is a file, not a dataset' : 'no dataset at this location', {
      where: source,
      expected: `a dataset directory or prefix holding ${MANIFEST_NAME} (\`ddinit data convert\` makes one)`,
      actual: isFile ? 'a plain file' : `no ${store.describe(MANIFEST_NAME)}`,
    });
  }
  const dataset = await openDataset(store, observers.logger ? { logger: observers.logger } : {});
  const entry = dataset.split(options.split);
  const image = dataset.features.image;
  const decode = image.encoding === 'encoded' ? await encodedImageSize(source, options.decodeSize, observers) : undefined;
  const { height, width } = image.encoding === 'raw' ? image : (decode as { height: number; width: number });
  return {
    dataset,
    source,
    split: options.split,
    examples: entry.examples,
    inputShape: [height, width, image.channels],
    classes: dataset.features.classNames.length,
    ...(decode ? { decode } : {}),
  };
}

/**
 * Per-channel mean and population std of the first `count` images of `bytes` (channels-last)
 * after ×`scale`, exact in float64: bytes take 256 values, so a histogram per channel gives
 * μ_c = scale·Σ_b b·n_cb / N and σ_c² = Σ_b (scale·b − μ_c)²·n_cb / N in one pass over the bytes
 * (a float32 reduction over 24.7 M values of 160 images at 227 px is off by ~1e-7 relative).
 */
export function byteChannelMoments(bytes: Uint8Array, channels: number, count: number, scale: number): { mean: number[]; std: number[] } {
  const counts = new Float64Array(256 * channels);
  for (let i = 0; i < count; i++) counts[bytes[i] * channels + (i % channels)]++;
  const values = count / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let b = 0; b < 256; b++) sum += b * scale * counts[b * channels + c];
    const m = sum / values;
    let squares = 0;
    for (let b = 0; b < 256; b++) squares += (b * scale - m) ** 2 * counts[b * channels + c];
    mean.push(m);
    std.push(Math.sqrt(squares / values));
  }
  return { mean, std };
}

/** The first `total` images of the split's shuffled epoch 0, as one byte batch. */
async function firstImages(data: InitData, total: number, seed: number, where: string): Promise<UintBatch> {
  const batches = data.dataset.batches(data.split, { batchSize: total, seed, epoch: 0, shuffle: true, ...(data.decode ? { decode: data.decode } : {}) });
  const first = await batches.next();
  await batches.return(undefined);
  if (first.done || first.value.size < total) {
    throw new DataError('the dataset ended before the init sample was complete', { where, expected: total, actual: first.done ? 0 : first.value.size });
  }
  return first.value;
}

/**
 * The per-channel moments of the batch's first `size` images ({@link byteChannelMoments}).
 * @throws DataError naming the channel when one is constant (no std to standardize by).
 */
function sampleMoments(batch: UintBatch, size: number, scale: number, where: string): { mean: number[]; std: number[] } {
  const { height: h, width: w, channels: c } = batch;
  const moments = byteChannelMoments(batch.images, c, size * h * w * c, scale);
  moments.std.forEach((s, channel) => {
    if (!(s > 1e-6)) {
      throw new DataError('a channel is constant over the sample: it cannot be standardized', {
        where: `${where}, channel ${channel}`,
        expected: 'std > 1e-6',
        actual: s,
      });
    }
  });
  return moments;
}

/**
 * Reads the sample (`size` images) and up to `heldOut` more from the same shuffled epoch.
 * @throws DataError naming the dataset when the split has fewer than `size` examples,
 *   or when a channel is constant over the sample (no std to standardize by).
 */
export async function readInitSample(data: InitData, options: { size: number; heldOut: number; seed: number }, observers: Observers = {}): Promise<InitSample> {
  const where = `dataset ${data.source}, split ${data.split}`;
  if (data.examples < options.size) {
    throw new DataError('the split has fewer examples than the init sample needs', {
      where,
      expected: `at least ${options.size} examples`,
      actual: data.examples,
    });
  }
  const total = Math.min(data.examples, options.size + Math.max(0, options.heldOut));
  observers.progress?.({ task: 'read sample', phase: 'start', completed: 0, total });
  const batch = await firstImages(data, total, options.seed, where);
  const scale = 1 / 255;
  const { mean, std } = sampleMoments(batch, options.size, scale, where);
  // One pass from the bytes to the standardized values: byte·(scale/σ_c) − μ_c/σ_c.
  const standardized = toTensorBatch(batch, { scale, mean, std });
  try {
    const images = total > options.size ? tf.slice(standardized.images, 0, options.size) : standardized.images;
    const heldOut: HeldOutBatch | null =
      total > options.size
        ? {
            images: tf.slice(standardized.images, options.size),
            labels: standardized.labels && data.dataset.features.label === 'class' ? (tf.slice(standardized.labels, options.size) as tf.Tensor1D) : null,
          }
        : null;
    observers.progress?.({ task: 'read sample', phase: 'end', completed: total, total });
    return {
      images,
      heldOut,
      source: data.source,
      split: data.split,
      inputShape: data.inputShape,
      classes: batch.classes,
      normalization: { scale, mean, std },
    };
  } finally {
    const kept = total > options.size ? undefined : standardized.images;
    tf.dispose(
      [standardized.images, standardized.labels, standardized.multiHot, standardized.masks].filter((t) => t !== undefined && t !== kept) as tf.Tensor[],
    );
  }
}

/** Images per batch of the growth stream: 64 images of 227×227×3 are 40 MB of float32. */
export const GROWTH_BATCH = 64;

/** Images beyond the sample and the held-out batch, read on demand (the within-layer init's growth source). */
export interface GrowthImages {
  /** How many there are. */
  available: number;
  /** The images in batches of up to GROWTH_BATCH, standardized like the sample, the same on every call; the consumer disposes each. */
  batches(): AsyncGenerator<tf.Tensor4D>;
}

/**
 * The `count` examples that follow the sample and the held-out batch (`skip` examples)
 * in the same shuffled epoch 0, standardized with the sample's normalization and read
 * batch by batch when asked for: a layer that needs more rows than the sample gives gets
 * them without the whole set in memory.
 */
export function growthImages(data: InitData, options: { skip: number; count: number; seed: number; normalization: InitSample['normalization'] }): GrowthImages {
  const { skip, count, normalization } = options;
  async function* batches(): AsyncGenerator<tf.Tensor4D> {
    let position = 0;
    const stream = data.dataset.batches(data.split, {
      batchSize: GROWTH_BATCH,
      seed: options.seed,
      epoch: 0,
      shuffle: true,
      ...(data.decode ? { decode: data.decode } : {}),
    });
    for await (const batch of stream) {
      const [start, end] = [Math.max(skip - position, 0), Math.min(skip + count - position, batch.size)];
      position += batch.size;
      if (end <= start) continue;
      const pixels = normalizeBytes(batch, normalization);
      const { height: h, width: w, channels: c } = batch;
      yield tf.tensor4d(pixels.subarray(start * h * w * c, end * h * w * c), [end - start, h, w, c]);
      if (position >= skip + count) break;
    }
  }
  return { available: count, batches };
}

/** Disposes the sample's tensors (images and held-out batch). */
export function disposeInitSample(sample: InitSample): void {
  const tensors: tf.Tensor[] = [sample.images];
  if (sample.heldOut) tensors.push(sample.heldOut.images, ...(sample.heldOut.labels ? [sample.heldOut.labels] : []));
  tf.dispose(tensors);
}

/** {@link openInitData} then {@link readInitSample} (no held-out batch unless asked). */
export async function loadInitSample(
  options: {
    data: string;
    split: string;
    size: number;
    seed: number;
    heldOut?: number;
    store?: StoreOptions;
    decodeSize?: () => Promise<{ height: number; width: number }>;
  },
  observers: Observers = {},
): Promise<InitSample> {
  const data = await openInitData(options, observers);
  return readInitSample(data, { size: options.size, heldOut: options.heldOut ?? 0, seed: options.seed }, observers);
}
