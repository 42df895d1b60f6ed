/**
 * The batch builder a `@ddinit/train` BatchWorker runs for the pretext training-step benchmark
 * (`--batches worker`): the same `TrainWorkload.batch` as the main-thread path, on the worker's
 * own tfjs. Imported by the worker only (batch-worker-entry.ts), by URL.
 */
import type * as tf from '@tensorflow/tfjs';
import { openDataset, stepReader, type StoreOptions, type UintBatch } from '@ddinit/data';
import type { BatchBuilder } from '@ddinit/train';
import { stepReadOptions, TRAIN_WORKLOADS } from './train-workloads';

/** Where a worker reads a workload's data: the dataset's location, split and store options, the images per step. */
export interface WorkloadRead {
  location: string;
  split: string;
  store: Pick<StoreOptions, 's3'>;
}

export interface TrainBatchSetup {
  workload: string;
  seed: number;
  /** The worker reads step s's data itself (input: `{ step }`); absent, the input carries the bytes. */
  read?: WorkloadRead & { images: number };
}

/** This module's URL, for `BatchWorker.start`. */
export const TRAIN_BATCH_BUILDER_MODULE = import.meta.url;

/** Step `input.step`'s batch of the named workload, from the bytes in `input` or read here, as named tensors. */
export function createBatchBuilder(setup: TrainBatchSetup): BatchBuilder {
  const workload = TRAIN_WORKLOADS.find((w) => w.name === setup.workload);
  if (workload === undefined) throw new Error(`no workload ${setup.workload}`);
  const batchOf = (bytes: UintBatch & { step: number }) => workload.tensorsOf(workload.batch(bytes, setup.seed)) as Record<string, tf.Tensor>;
  const { read } = setup;
  if (read === undefined) return (input) => batchOf(input as UintBatch & { step: number });
  const readStep = stepReader(() => openDataset(read.location, { store: read.store }), read.split, stepReadOptions(read.images, setup.seed));
  return async (input) => batchOf(await readStep((input as { step: number }).step));
}
