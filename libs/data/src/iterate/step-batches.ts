/**
 * The batches of training steps `fromStep`, `fromStep + 1`, …, the same for
 * every run with the same seed: step s is batch s − e·P of epoch e = ⌊s / P⌋,
 * P = ⌊examples / batchSize⌋ full batches per epoch (the last partial batch is
 * dropped), each epoch shuffled with (seed, e). A run resumed at step s asks for
 * the batches from s on and gets exactly what the uninterrupted run saw; the
 * batches of the resumed epoch before s are read and skipped (no shard format
 * lets a shuffled epoch start in the middle without reading it).
 *
 * Reading runs `readAhead` batches ahead of the consumer, across epoch
 * boundaries: the next epoch's shard is fetched, verified and decoded while the
 * current epoch's last batches are used, not when its first batch is asked for
 * (with a corpus of a few batches per epoch that wait was a fifth of the step
 * time, docs/RESULTS.md "Training step (issue 13)").
 *
 * @example
 * for await (const batch of stepBatches(dataset, 'train', { batchSize: 64, seed: 1, fromStep: 1200 })) {
 *   batch.step; // 1200, 1201, …
 * }
 */
import { ConfigError, DataError } from '@ddinit/core';
import type { BatchOptions, Dataset } from '../read/dataset';
import type { UintBatch } from './uint-batch';

export interface StepBatchOptions extends Omit<BatchOptions, 'epoch' | 'dropRemainder' | 'reuseBuffers'> {
  /** The first step to yield (a resumed run's checkpoint step). Default 0. */
  fromStep?: number;
  /**
   * Batches read ahead of the consumer, across epoch boundaries (default 2); at most this
   * many finished batches wait unclaimed, plus the one being assembled. 0 reads on demand.
   */
  readAhead?: number;
}

export const DEFAULT_READ_AHEAD = 2;

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

/** The step batches on demand: one epoch's `batches` after the other. */
async function* epochBatches(
  dataset: Dataset,
  split: string,
  read: BatchOptions,
  perEpoch: number,
  fromStep: number,
): AsyncGenerator<UintBatch & { step: number }> {
  for (let epoch = Math.floor(fromStep / perEpoch); ; epoch++) {
    let step = epoch * perEpoch;
    for await (const batch of dataset.batches(split, { ...read, epoch, dropRemainder: true })) {
      if (step >= fromStep) yield { ...batch, step };
      step++;
    }
  }
}

/**
 * The items of `source` in order, with `depth` of them requested ahead: an async generator
 * queues the requests and works through them one after the other, so it keeps reading
 * while the consumer holds an item, and never holds more than `depth` unclaimed ones.
 * A failure surfaces when the consumer reaches the item it would have been.
 */
export async function* readAheadOf<T>(source: AsyncGenerator<T>, depth: number): AsyncGenerator<T> {
  const requests: Promise<IteratorResult<T>>[] = [];
  const request = (): void => {
    const next = source.next();
    next.catch(() => undefined); // awaited in order below; this only keeps a failure ahead of the consumer from going unhandled
    requests.push(next);
  };
  try {
    for (let i = 0; i < depth; i++) request();
    for (;;) {
      const result = await (requests.shift() as Promise<IteratorResult<T>>);
      if (result.done === true) return;
      request();
      yield result.value;
    }
  } finally {
    await source.return(undefined);
  }
}

export async function* stepBatches(dataset: Dataset, split: string, options: StepBatchOptions): AsyncGenerator<UintBatch & { step: number }> {
  const { fromStep = 0, readAhead = DEFAULT_READ_AHEAD, ...read } = options;
  if (!Number.isInteger(readAhead) || readAhead < 0) {
    throw new ConfigError('readAhead must be a whole number of batches', { where: 'stepBatches', expected: 'an integer ≥ 0', actual: readAhead });
  }
  const perEpoch = stepsPerEpoch(dataset, split, options.batchSize);
  const batches = epochBatches(dataset, split, read as BatchOptions, perEpoch, fromStep);
  yield* readAhead === 0 ? batches : readAheadOf(batches, readAhead);
}

/**
 * Step s's batch on demand, for a consumer that asks step by step (a batch worker reading its
 * own data): asked for the step after the last, it reads on; asked for any other step, it
 * starts {@link stepBatches} again from there, so a resumed run gets an uninterrupted run's
 * batches. The dataset is opened at the first call; calls must not overlap.
 * @throws ConfigError (from stepBatches) when the split holds less than one batch.
 */
export function stepReader(
  open: () => Promise<Dataset>,
  split: string,
  options: Omit<StepBatchOptions, 'fromStep'>,
): (step: number) => Promise<UintBatch & { step: number }> {
  let dataset: Promise<Dataset> | undefined;
  let batches: AsyncGenerator<UintBatch & { step: number }> | undefined;
  let next = -1;
  return async (step) => {
    if (batches === undefined || step !== next) {
      await batches?.return(undefined);
      batches = stepBatches(await (dataset ??= open()), split, { ...options, fromStep: step });
    }
    // stepBatches never ends (epoch after epoch); `done` only follows a return above.
    const { value } = (await batches.next()) as IteratorYieldResult<UintBatch & { step: number }>;
    next = step + 1;
    return value;
  };
}
