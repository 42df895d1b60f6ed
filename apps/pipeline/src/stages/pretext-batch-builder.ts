/**
 * The pretrain stage's batch builder on a `@ddinit/train` BatchWorker: step s's data batch
 * (bytes) → the dataset's images standardized as at init → the task's inputs (turns, patches
 * or tiles). The same code as the stage's own path on the training thread (pretrain-stage.ts),
 * so the same batches; imported by the worker only, by URL.
 *
 * With `setup.read` the worker also reads the data batches itself and takes only the step as
 * input: a training step holds its thread's event loop for its whole length, so reads made
 * there (S3 requests, shard chunks) advance only between steps, while the worker's loop is free.
 */
import { openDataset, openStore, stepReader, toTensorBatch, type RetryOptions, type StoreOptions, type UintBatch } from '@ddinit/data';
import { createPretextTask, type PretextTaskConfig } from '@ddinit/pretrain';
import type { BatchBuilder, LabelledBatch } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';

/** Where and how the worker reads: the dataset's resolved location, its split, the stage's batch size, a store given by plain (cloneable) options. */
export interface PretextReadSetup {
  source: string;
  split: string;
  batchSize: number;
  store: Pick<StoreOptions, 's3'> & { retry?: Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'> };
}

export interface PretextBatchSetup {
  task: PretextTaskConfig;
  imageShape: [number, number, number];
  seed: number;
  normalization: InputNormalizationConfig;
  /** The worker reads step s's data batch itself (input: `{ step }`); absent, the input carries it. */
  read?: PretextReadSetup;
}

/** This module's URL, for `BatchWorker.start`. */
export const PRETEXT_BATCH_BUILDER_MODULE = import.meta.url;

/** Step s's pretext batch from step s's bytes (`input`: a UintBatch with its `step`). */
export function pretextBatchOf(
  bytes: UintBatch,
  step: number,
  setup: PretextBatchSetup,
  build: ReturnType<typeof createPretextTask>['buildBatch'],
): LabelledBatch {
  const { scale, mean, std } = setup.normalization;
  const tensors = toTensorBatch(bytes, { scale, mean, std });
  try {
    return build(tensors.images, step);
  } finally {
    for (const t of [tensors.images, tensors.labels, tensors.multiHot, tensors.masks]) t?.dispose();
  }
}

export function createBatchBuilder(setup: PretextBatchSetup): BatchBuilder {
  const task = createPretextTask(setup.task, { imageShape: setup.imageShape, seed: setup.seed });
  const batchOf = (bytes: UintBatch, step: number) => {
    const batch = pretextBatchOf(bytes, step, setup, (images, s) => task.buildBatch(images, s));
    return { inputs: batch.inputs, labels: batch.labels };
  };
  if (setup.read === undefined) {
    return (input) => {
      const { step, ...bytes } = input as UintBatch & { step: number };
      return batchOf(bytes, step);
    };
  }
  const { source, split, batchSize, store } = setup.read;
  // The options of the stage's own reading (pretrain-stage.ts stepBytes), so the same batches.
  const readStep = stepReader(() => openDataset(openStore(source, store)), split, { batchSize, seed: setup.seed });
  return async (input) => {
    const { step } = input as { step: number };
    return batchOf(await readStep(step), step);
  };
}
