/**
 * The batch builder a `@ddinit/train` BatchWorker runs for the pretext training-step benchmark
 * (`--batches worker`): the same `TrainWorkload.batch` as the main-thread path, on the worker's
 * own tfjs. Imported by the worker only (batch-worker-entry.ts), by URL.
 */
import type * as tf from '@tensorflow/tfjs';
import type { UintBatch } from '@ddinit/data';
import type { BatchBuilder } from '@ddinit/train';
import { TRAIN_WORKLOADS } from './train-workloads';

export interface TrainBatchSetup {
  workload: string;
  seed: number;
}

/** This module's URL, for `BatchWorker.start`. */
export const TRAIN_BATCH_BUILDER_MODULE = import.meta.url;

/** Step `input.step`'s batch of the named workload from one data batch's bytes, as named tensors. */
export function createBatchBuilder(setup: TrainBatchSetup): BatchBuilder {
  const workload = TRAIN_WORKLOADS.find((w) => w.name === setup.workload);
  if (workload === undefined) throw new Error(`no workload ${setup.workload}`);
  return (input) => workload.tensorsOf(workload.batch(input as UintBatch & { step: number }, setup.seed)) as Record<string, tf.Tensor>;
}
