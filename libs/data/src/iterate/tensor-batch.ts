/**
 * Byte batches to float32 NHWC tensors (`@tensorflow/tfjs` only; the backend
 * is the caller's choice).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import type { Dataset, BatchOptions } from '../read/dataset';
import { augmentBatch, augmentRng, type AugmentOptions } from './augment';
import type { Box } from '../format/example';
import type { UintBatch } from './uint-batch';

export interface NormalizeOptions {
  /** Multiplies the bytes first. Default 1/255 (pixels in [0, 1]). */
  scale?: number;
  /** Per-channel mean subtracted after scaling (one value or one per channel). Default 0. */
  mean?: number | readonly number[];
  /** Per-channel standard deviation divided by last. Default 1. */
  std?: number | readonly number[];
}

/** Tensors of one batch; the caller owns (and disposes) them. */
export interface TensorBatch {
  /** float32 `[N, H, W, C]`, normalized. */
  images: tf.Tensor4D;
  /** int32 `[N]` class indices (label kind `class`). */
  labels?: tf.Tensor1D;
  /** float32 `[N, K]` 0/1 (label kind `multi`). */
  multiHot?: tf.Tensor2D;
  /** int32 `[N, H, W]` class index per pixel. */
  masks?: tf.Tensor3D;
  /** Each example's boxes in the batch's pixels (a copy; detection heads build their targets from them). */
  boxes?: Box[][];
  ids: string[];
}

function perChannel(value: number | readonly number[] | undefined, fallback: number, channels: number, name: string): Float32Array {
  const values = value === undefined ? [fallback] : typeof value === 'number' ? [value] : [...value];
  if (values.length !== 1 && values.length !== channels) {
    throw new ConfigError(`${name} needs one value or one per channel`, { where: name, expected: `1 or ${channels} values`, actual: values.length });
  }
  return Float32Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c]);
}

/**
 * `(byte · scale − mean[c]) / std[c]` for every pixel, as a float32 array in NHWC order.
 * @throws ConfigError when mean/std do not match the channel count or std has a zero.
 */
export function normalizeBytes(batch: UintBatch, options: NormalizeOptions = {}): Float32Array {
  const C = batch.channels;
  const scale = options.scale ?? 1 / 255;
  const mean = perChannel(options.mean, 0, C, 'mean');
  const std = perChannel(options.std, 1, C, 'std');
  if (std.some((s) => !(s !== 0 && Number.isFinite(s)))) throw new ConfigError('std must be finite and non-zero', { where: 'std', actual: Array.from(std) });
  const out = new Float32Array(batch.images.length);
  // Per channel: byte·(scale/std) − mean/std.
  const a = Float32Array.from(std, (s) => scale / s);
  const b = Float32Array.from(std, (s, c) => mean[c] / s);
  const src = batch.images;
  if (C === 1) {
    const a0 = a[0];
    const b0 = b[0];
    for (let i = 0; i < src.length; i++) out[i] = src[i] * a0 - b0;
  } else {
    for (let i = 0; i < src.length; i++) {
      const c = i % C;
      out[i] = src[i] * a[c] - b[c];
    }
  }
  return out;
}

/**
 * Turns a byte batch into tensors. Pure: reads the batch, allocates new tensors.
 * @example
 * const { images, labels } = toTensorBatch(batch, { mean: 0.286, std: 0.353 });
 * // images: float32 [N, 28, 28, 1]; labels: int32 [N]
 */
export function toTensorBatch(batch: UintBatch, options: NormalizeOptions = {}): TensorBatch {
  const { size: N, height: H, width: W, channels: C } = batch;
  const pixels = normalizeBytes(batch, options);
  return tf.tidy('toTensorBatch', () => ({
    images: tf.tensor4d(pixels, [N, H, W, C], 'float32'),
    // A copy: tfjs may keep a reference to the array it is given, and batch arrays can be reused.
    ...(batch.labels ? { labels: tf.tensor1d(batch.labels.slice(), 'int32') } : {}),
    ...(batch.multiHot ? { multiHot: tf.tensor2d(Float32Array.from(batch.multiHot), [N, batch.classes], 'float32') } : {}),
    ...(batch.masks ? { masks: tf.tensor3d(Int32Array.from(batch.masks), [N, H, W], 'int32') } : {}),
    ...(batch.boxes ? { boxes: batch.boxes.map((list) => list.map((box) => ({ ...box }))) } : {}),
    ids: [...batch.ids],
  }));
}

export interface TensorBatchOptions extends BatchOptions {
  normalize?: NormalizeOptions;
  /** Random crop/flip, seeded per (seed, epoch, batch index). */
  augment?: AugmentOptions;
}

/**
 * One epoch of tensor batches from a dataset split. Dispose each batch's
 * tensors when done with them.
 * @example
 * for await (const batch of tensorBatches(dataset, 'train', { batchSize: 32, seed: 1, epoch, augment: { flip: true } })) {
 *   try { … } finally { tf.dispose([batch.images, batch.labels]); }
 * }
 */
export async function* tensorBatches(dataset: Dataset, split: string, options: TensorBatchOptions): AsyncGenerator<TensorBatch> {
  let index = 0;
  const reuseBuffers = options.reuseBuffers ?? true;
  for await (const bytes of dataset.batches(split, { ...options, reuseBuffers })) {
    const batch = options.augment ? augmentBatch(bytes, options.augment, augmentRng(options.seed ?? 0, options.epoch ?? 0, index)) : bytes;
    index++;
    yield toTensorBatch(batch, options.normalize);
  }
}
