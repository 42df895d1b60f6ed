/**
 * The data of the finetune and evaluate stages: the training split's batch of
 * every step (all of it, or the first `labelsPerClass` images of each class),
 * optionally flipped and cropped, and the test split in order, as the heads'
 * batches (images normalized as the trunk expects).
 *
 * Every step's batch depends only on the seed and the step, so a run resumed
 * from the checkpoint of step s sees exactly what the uninterrupted run saw:
 * - all labels: `stepBatches` (step s is batch s − e·P of epoch e, each epoch
 *   shuffled with (seed, e));
 * - `labelsPerClass` = k: the split is read once in its order of epoch 0 under
 *   `seed` (the order every run with that seed reads it in) and the first k
 *   images of each class are kept; step s is batch s − e·P of epoch e of that
 *   subset, shuffled with the stream `labelled-epoch-e` of `seed`.
 * Augmentation of step s draws from `augmentRng(seed, 0, s)`.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, Rng, type Logger } from '@ddinit/core';
import { augmentBatch, augmentRng, stepBatches, toTensorBatch, type Dataset, type UintBatch } from '@ddinit/data';
import type { HeadBatch, HeadTargets } from '@ddinit/eval';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import type { FinetuneConfig } from '../config/finetune-config';
import type { InitData } from './init-sample';

/** The labels a head's targets need, as the dataset's features name them. */
const NEEDED: Record<HeadTargets, { present: (data: InitData) => boolean; what: string }> = {
  class: { present: (d) => d.dataset.features.label === 'class', what: "class labels (label kind 'class')" },
  multi: { present: (d) => d.dataset.features.label === 'multi', what: "multi-hot labels (label kind 'multi')" },
  mask: { present: (d) => d.dataset.features.mask !== 'none', what: 'per-pixel masks' },
  boxes: { present: (d) => d.dataset.features.boxes !== 'none', what: 'boxes (xyxy)' },
};

/**
 * @throws DataError naming the dataset, the task and what it has, when it lacks the labels the head needs.
 */
export function checkHeadTargets(data: InitData, task: string, needs: HeadTargets): void {
  if (NEEDED[needs].present(data)) return;
  const f = data.dataset.features;
  throw new DataError(`the ${task} task needs ${NEEDED[needs].what} and this dataset has none`, {
    where: `dataset ${data.source}`,
    expected: NEEDED[needs].what,
    actual: `label kind '${f.label}', masks ${f.mask}, boxes ${f.boxes}`,
  });
}

/** A byte batch as a head's tensors (the caller disposes them with {@link disposeHeadBatch}). */
export function toHeadBatch(batch: UintBatch, normalization: InputNormalizationConfig): HeadBatch {
  const t = toTensorBatch(batch, { scale: normalization.scale, mean: normalization.mean, std: normalization.std });
  return {
    images: t.images,
    ...(t.labels ? { labels: t.labels } : {}),
    ...(t.multiHot ? { multiHot: t.multiHot } : {}),
    ...(t.masks ? { masks: t.masks } : {}),
    ...(t.boxes ? { boxes: t.boxes } : {}),
  };
}

export function disposeHeadBatch(batch: HeadBatch): void {
  tf.dispose([batch.images, batch.labels, batch.multiHot, batch.masks].filter((t) => t !== undefined) as tf.Tensor[]);
}

/** The first `perClass` images of each class in the split's order of epoch 0 under `seed`, in that order. */
export async function labelledSubset(data: InitData, perClass: number, seed: number, logger: Logger): Promise<UintBatch> {
  const { dataset, split, classes } = data;
  const kept: UintBatch[] = [];
  const counts = new Array<number>(classes).fill(0);
  for await (const batch of dataset.batches(split, { batchSize: 256, seed, epoch: 0, ids: false, ...(data.decode ? { decode: data.decode } : {}) })) {
    const rows: number[] = [];
    for (let i = 0; i < batch.size; i++) {
      const c = batch.labels?.[i] ?? -1;
      if (c >= 0 && counts[c] < perClass) {
        counts[c]++;
        rows.push(i);
      }
    }
    if (rows.length > 0) kept.push(selectRows(batch, Int32Array.from(rows)));
    if (counts.every((n) => n >= perClass)) break;
  }
  const short = counts.flatMap((n, c) => (n < perClass ? [`${data.dataset.features.classNames[c] ?? c}: ${n}`] : []));
  if (short.length > 0)
    logger.warn('some classes have fewer labelled images than labelsPerClass; all of theirs are used', { labelsPerClass: perClass, classes: short });
  return concatRows(kept);
}

/** Rows `rows` of a byte batch (class-labelled images), copied. */
function selectRows(batch: UintBatch, rows: Int32Array): UintBatch {
  const pixels = batch.height * batch.width * batch.channels;
  const images = new Uint8Array(rows.length * pixels);
  rows.forEach((r, i) => images.set(batch.images.subarray(r * pixels, (r + 1) * pixels), i * pixels));
  const labels = Int32Array.from(rows, (r) => (batch.labels as Int32Array)[r]);
  return { size: rows.length, height: batch.height, width: batch.width, channels: batch.channels, images, labels, classes: batch.classes, ids: [] };
}

function concatRows(parts: UintBatch[]): UintBatch {
  const [first] = parts;
  if (first === undefined) throw new DataError('no labelled image to train on', { where: 'labelsPerClass', expected: 'at least one image with a class label' });
  const size = parts.reduce((n, p) => n + p.size, 0);
  const images = new Uint8Array(size * first.height * first.width * first.channels);
  const labels = new Int32Array(size);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * first.height * first.width * first.channels);
    labels.set(p.labels as Int32Array, at);
    at += p.size;
  }
  return { ...first, size, images, labels };
}

/** Step s's batch of an in-memory subset (see the module doc). @throws DataError when the subset holds less than one batch. */
async function* subsetBatches(subset: UintBatch, batchSize: number, seed: number, fromStep: number): AsyncGenerator<UintBatch & { step: number }> {
  const perEpoch = Math.floor(subset.size / batchSize);
  if (perEpoch === 0) {
    throw new DataError('the labelled images are fewer than one batch', {
      where: 'labelsPerClass × classes',
      expected: `at least batchSize (${batchSize}) images`,
      actual: subset.size,
    });
  }
  let order: Int32Array = new Int32Array(0);
  for (let step = fromStep; ; step++) {
    const epoch = Math.floor(step / perEpoch);
    const index = step - epoch * perEpoch;
    if (index === 0 || order.length === 0) order = Rng.fromSeed(seed).derive(`labelled-epoch-${epoch}`).permutation(subset.size);
    yield { ...selectRows(subset, order.subarray(index * batchSize, (index + 1) * batchSize)), step };
  }
}

/** The byte batches of steps `fromStep`, `fromStep + 1`, … of the training split (see the module doc). */
export function trainingSteps(
  data: InitData,
  config: FinetuneConfig,
  subset: UintBatch | null,
  fromStep: number,
): AsyncGenerator<UintBatch & { step: number }> {
  if (subset !== null) return subsetBatches(subset, config.batchSize, config.seed, fromStep);
  return stepBatches(data.dataset, data.split, {
    batchSize: config.batchSize,
    seed: config.seed,
    fromStep,
    ids: false,
    ...(data.decode ? { decode: data.decode } : {}),
  });
}

/** Step s's training batch as the head's tensors, augmented when the config says so. */
export async function* trainingBatches(
  data: InitData,
  config: FinetuneConfig,
  subset: UintBatch | null,
  normalization: InputNormalizationConfig,
  fromStep: number,
): AsyncGenerator<HeadBatch> {
  const { flip, cropPadding } = config.augment;
  const [height, width] = data.inputShape;
  for await (const bytes of trainingSteps(data, config, subset, fromStep)) {
    // One event-loop turn per step, so SIGTERM (→ abort) is seen between steps (see pretrain-stage.ts).
    await new Promise((resolve) => setImmediate(resolve));
    const augmented =
      flip || cropPadding > 0
        ? augmentBatch(bytes, { flip, ...(cropPadding > 0 ? { crop: { height, width, padding: cropPadding } } : {}) }, augmentRng(config.seed, 0, bytes.step))
        : bytes;
    yield toHeadBatch(augmented, normalization);
  }
}

/** A split in its stored order (no shuffling), `batchSize` images at a time, at most `limit` images. */
export async function* splitInOrder(
  dataset: Dataset,
  split: string,
  options: { batchSize: number; limit?: number; decode?: { height: number; width: number } },
): AsyncGenerator<UintBatch> {
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  for await (const batch of dataset.batches(split, {
    batchSize: options.batchSize,
    shuffle: false,
    ids: false,
    ...(options.decode ? { decode: options.decode } : {}),
  })) {
    if (left <= 0) return;
    yield batch.size <= left ? batch : firstRows(batch, left);
    left -= batch.size;
  }
}

/** The first `n` examples of a batch, every field trimmed. */
function firstRows(batch: UintBatch, n: number): UintBatch {
  const pixels = batch.height * batch.width;
  return {
    ...batch,
    size: n,
    images: batch.images.subarray(0, n * pixels * batch.channels),
    ...(batch.labels ? { labels: batch.labels.subarray(0, n) } : {}),
    ...(batch.multiHot ? { multiHot: batch.multiHot.subarray(0, n * batch.classes) } : {}),
    ...(batch.masks ? { masks: batch.masks.subarray(0, n * pixels) } : {}),
    ...(batch.boxes ? { boxes: batch.boxes.slice(0, n) } : {}),
    ids: batch.ids.slice(0, n),
  };
}
