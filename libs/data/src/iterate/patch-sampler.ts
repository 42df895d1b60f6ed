/**
 * Seeded random patches from a set of images, for patch statistics (the
 * k-means and PCA/ZCA filters of Krähenbühl et al., 2016, §3.1, are fitted on
 * such patches). Every valid patch position of the whole set is equally likely:
 * an image is picked with probability proportional to its number of positions,
 * then a position uniformly within it.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, Rng } from '@ddinit/core';
import type { UintBatch } from './uint-batch';
import { normalizeBytes, type NormalizeOptions } from './tensor-batch';

/** One image: `data` holds H·W·C bytes in HWC order. */
export interface PatchSource {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

export interface PatchSampleOptions {
  /** Patches to draw (≥ 1). */
  count: number;
  /** Patch size: `k` for k×k, or height and width. */
  size: number | { height: number; width: number };
  /** A seed or a stream (e.g. `rng.derive('patches-conv1')`). */
  rng: number | Rng;
}

/** Patches as bytes: `patches` holds count·height·width·channels bytes, NHWC. */
export interface PatchSample {
  patches: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** For each patch: source image index, top row, left column. */
  origins: Int32Array;
}

/**
 * @throws ConfigError for a bad count or size; DataError when images disagree
 *   on channels or none is large enough for a patch.
 * @example
 * const sample = samplePatches(photos, { count: 10_000, size: 11, rng: 42 });
 * // sample.patches: 10 000 · 11 · 11 · 3 bytes
 */
export function samplePatches(images: readonly PatchSource[], options: PatchSampleOptions): PatchSample {
  const ph = typeof options.size === 'number' ? options.size : options.size.height;
  const pw = typeof options.size === 'number' ? options.size : options.size.width;
  if (!Number.isInteger(options.count) || options.count < 1) throw new ConfigError('count must be an integer ≥ 1', { where: 'count', actual: options.count });
  if (!Number.isInteger(ph) || !Number.isInteger(pw) || ph < 1 || pw < 1)
    throw new ConfigError('patch size must be positive integers', { where: 'size', actual: `${ph}×${pw}` });
  if (images.length === 0) throw new DataError('no images to sample patches from', { where: 'samplePatches', expected: '≥ 1 image', actual: 0 });
  const C = images[0].channels;
  const weights = new Float64Array(images.length + 1);
  images.forEach((image, i) => {
    if (image.channels !== C) throw new DataError('images differ in channel count', { where: `image ${i}`, expected: C, actual: image.channels });
    if (image.data.length !== image.height * image.width * image.channels) {
      throw new DataError('image data length does not match its shape', {
        where: `image ${i}`,
        expected: image.height * image.width * image.channels,
        actual: image.data.length,
      });
    }
    const positions = Math.max(0, image.height - ph + 1) * Math.max(0, image.width - pw + 1);
    weights[i + 1] = weights[i] + positions;
  });
  const total = weights[images.length];
  if (total === 0)
    throw new DataError('no image is large enough for a patch', { where: 'samplePatches', expected: `≥ ${ph}×${pw} pixels`, actual: 'smaller images' });
  const rng = typeof options.rng === 'number' ? Rng.fromSeed(options.rng) : options.rng;
  const patches = new Uint8Array(options.count * ph * pw * C);
  const origins = new Int32Array(options.count * 3);
  const rowBytes = pw * C;
  for (let n = 0; n < options.count; n++) {
    const u = rng.uniform() * total;
    let lo = 0;
    let hi = images.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (weights[mid + 1] <= u) lo = mid + 1;
      else hi = mid;
    }
    const image = images[lo];
    const top = rng.int(image.height - ph + 1);
    const left = rng.int(image.width - pw + 1);
    for (let y = 0; y < ph; y++) {
      const s = ((top + y) * image.width + left) * C;
      patches.set(image.data.subarray(s, s + rowBytes), (n * ph + y) * rowBytes);
    }
    origins.set([lo, top, left], n * 3);
  }
  return { patches, count: options.count, height: ph, width: pw, channels: C, origins };
}

/** The images of a byte batch as patch sources (views, no copy). */
export function batchImages(batch: UintBatch): PatchSource[] {
  const bytes = batch.height * batch.width * batch.channels;
  return Array.from({ length: batch.size }, (_, n) => ({
    data: batch.images.subarray(n * bytes, (n + 1) * bytes),
    height: batch.height,
    width: batch.width,
    channels: batch.channels,
  }));
}

/** Patches as a normalized float32 tensor `[count, height, width, channels]` (caller disposes). */
export function patchesToTensor(sample: PatchSample, normalize: NormalizeOptions = {}): tf.Tensor4D {
  const asBatch: UintBatch = {
    size: sample.count,
    height: sample.height,
    width: sample.width,
    channels: sample.channels,
    images: sample.patches,
    classes: 0,
    ids: [],
  };
  return tf.tensor4d(normalizeBytes(asBatch, normalize), [sample.count, sample.height, sample.width, sample.channels], 'float32');
}
