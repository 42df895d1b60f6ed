/**
 * The batches of training steps `fromStep`, `fromStep + 1`, …, the same for
 * every run with the same seed: step s is batch s − e·P of epoch e = ⌊s / P⌋,
 * P = ⌊examples / batchSize⌋ full batches per epoch (the last partial batch is
 * dropped), each epoch shuffled with (seed, e). A run resumed at step s asks for
 * the batches from s on and gets exactly what the uninterrupted run saw; the
 * batches of the resumed epoch before s are read and skipped (no shard format
 * lets a shuffled epoch start in the middle without reading it).
 *
 * @example
 * for await (const batch of stepBatches(dataset, 'train', { batchSize: 64, seed: 1, fromStep: 1200 })) {
 *   batch.step; // 1200, 1201, …
 * }
 */
import { DataError } from '@ddinit/core';
import type { BatchOptions, Dataset } from '../read/dataset';
import type { UintBatch } from './uint-batch';

export interface StepBatchOptions extends Omit<BatchOptions, 'epoch' | 'dropRemainder' | 'reuseBuffers'> {
  /** The first step to yield (a resumed run's checkpoint step). Default 0. */
  fromStep?: number;
}

/** Full batches per epoch of `split` at `batchSize`. @throws DataError when the split holds less than one batch. */
export function stepsPerEpoch(dataset: Dataset, split: string, batchSize: number): number {
  const examples = dataset.split(split).examples;
  const steps = Math.floor(examples / batchSize);
  if (steps === 0) {
    throw new DataError('the split holds less than one batch', {
      where: `dataset ${dataset.location}, split ${split}`,
      expected: `at least ${batchSize} examples`,
      actual: examples,
    });
  }
  return steps;
}

export async function* stepBatches(dataset: Dataset, split: string, options: StepBatchOptions): AsyncGenerator<UintBatch & { step: number }> {
  const { fromStep = 0, ...read } = options;
  const perEpoch = stepsPerEpoch(dataset, split, options.batchSize);
  for (let epoch = Math.floor(fromStep / perEpoch); ; epoch++) {
    let step = epoch * perEpoch;
    for await (const batch of dataset.batches(split, { ...read, epoch, dropRemainder: true })) {
      if (step >= fromStep) yield { ...batch, step };
      step++;
    }
  }
}
