/**
 * One training run of a pretext workload for the benchmark (train.ts): the
 * dataset copied to the loopback S3 server, batches through @ddinit/data's
 * `stepBatches` into the workload's pretext batch, `trainModel` with the
 * comparison's optimizer, and the row of figures.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendSelection } from '@ddinit/core/backend';
import { openStore, stepBatches, toTensorBatch, type Dataset } from '@ddinit/data';
import type { S3rverHandle } from '@ddinit/data/testing';
import { trainModel } from '@ddinit/train';
import { summarizeSteps, type TrainRow } from './train-report';
import type { DataSource, TrainBenchOptions } from './train-options';
import type { TrainWorkload } from './train-workloads';

/** The optimizer of the comparison (the Trainer's defaults, spelled out; train.py uses the same). */
export const OPTIMIZER = { optimizer: 'momentum', momentum: 0.9, learningRate: 0.01, weightDecay: 5e-4, weightDecayMode: 'l2' } as const;

/** Step s's batch: `stepBatches` (shuffled, seeded, resumable order) → pixels → the workload's pretext batch. */
export async function* workloadBatches<B>(workload: TrainWorkload<B>, dataset: Dataset, options: TrainBenchOptions, fromStep: number): AsyncGenerator<B> {
  for await (const bytes of stepBatches(dataset, workload.dataset.split, { batchSize: options.images, seed: options.seed, fromStep, ids: false })) {
    const tensors = toTensorBatch(bytes, workload.normalize);
    try {
      yield workload.batch(tensors.images);
    } finally {
      tf.dispose([tensors.images, tensors.labels].filter((t) => t !== undefined));
    }
  }
}

/** Copies the workload's local dataset directory to `s3://bench/<name>` (once per dataset). */
export async function uploadDataset(s3: S3rverHandle, workload: TrainWorkload<unknown>): Promise<string> {
  const location = `s3://bench/${workload.dataset.name}`;
  const local = openStore(workload.dataset.path());
  const remote = openStore(location, { client: s3.client() });
  for (const key of await local.list()) {
    if (!(await remote.exists(key))) await remote.write(key, [await local.readAll(key)]);
  }
  return location;
}

/** One training run of `warmup + steps` steps of `workload` reading from `dataset`; its row without the PyTorch figure. */
export async function benchWorkload(
  workload: TrainWorkload<unknown>,
  dataset: Dataset,
  source: DataSource,
  backend: string,
  options: TrainBenchOptions,
  onStep: (text: string) => void = () => undefined,
): Promise<TrainRow> {
  const tensorsBefore = tf.memory().numTensors;
  const built = workload.build(options.seed);
  const total = options.warmup + options.steps;
  let result;
  try {
    result = await trainModel(
      built.model,
      (model, batch) => built.objective(model, batch),
      { steps: total, ...OPTIMIZER, checkpointEvery: 0 },
      { data: (fromStep) => workloadBatches(workload, dataset, options, fromStep), release: (batch) => workload.release(batch) },
      { progress: (event) => onStep(`${workload.name} (${source}): step ${event.completed}/${total}`) },
    );
  } finally {
    built.dispose();
  }
  return {
    workload: workload.name,
    source,
    backend,
    images: options.images,
    inputs: options.images * workload.inputsPerImage,
    ...summarizeSteps(result.steps, options.warmup),
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    torchStepMs: null,
  };
}

export function backendLabel(selection: BackendSelection): string {
  return selection.name === 'wasm' && selection.nativeBlas?.active === true ? 'wasm-native' : selection.name;
}
