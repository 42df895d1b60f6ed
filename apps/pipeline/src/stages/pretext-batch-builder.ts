/**
 * The pretrain stage's batch builder on a `@ddinit/train` BatchWorker: step s's data batch
 * (bytes) → the dataset's images standardized as at init → the task's inputs (turns, patches
 * or tiles). The same code as the stage's own path on the training thread (pretrain-stage.ts),
 * so the same batches; imported by the worker only, by URL.
 */
import { toTensorBatch, type UintBatch } from '@ddinit/data';
import { createPretextTask, type PretextTaskConfig } from '@ddinit/pretrain';
import type { BatchBuilder, LabelledBatch } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';

export interface PretextBatchSetup {
  task: PretextTaskConfig;
  imageShape: [number, number, number];
  seed: number;
  normalization: InputNormalizationConfig;
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
  return (input) => {
    const { step, ...bytes } = input as UintBatch & { step: number };
    const batch = pretextBatchOf(bytes, step, setup, (images, s) => task.buildBatch(images, s));
    return { inputs: batch.inputs, labels: batch.labels };
  };
}
