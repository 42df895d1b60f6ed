/**
 * One training run of a pretext workload for the benchmark (train.ts): the
 * dataset copied to the loopback S3 server, batches through @ddinit/data's
 * `stepBatches` into the workload's pretext batch, `trainModel` with the
 * comparison's optimizer, and the row of figures.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendSelection } from '@ddinit/core/backend';
import { MANIFEST_NAME, openDataset, openStore, stepBatches, type Dataset, type UintBatch } from '@ddinit/data';
import { makeTempDir, type S3rverHandle } from '@ddinit/data/testing';
import { BatchWorker, trainModel, workerBatches } from '@ddinit/train';
import { TRAIN_BATCH_BUILDER_MODULE, type TrainBatchSetup } from './train-batch-builder';
import { summarizeSteps, type TrainRow } from './train-report';
import type { BatchBuilding, DataSource, TrainBenchOptions } from './train-options';
import type { TrainWorkload } from './train-workloads';

/** The optimizer of the comparison (the Trainer's defaults, spelled out; train.py uses the same). */
export const OPTIMIZER = { optimizer: 'momentum', momentum: 0.9, learningRate: 0.01, weightDecay: 5e-4, weightDecayMode: 'l2' } as const;

/** Dataset images per step: `--images`, else the workload's default. */
export function imagesOf(workload: TrainWorkload<unknown>, options: TrainBenchOptions): number {
  return options.images ?? workload.defaultImages;
}

/** Timed steps: `--steps`, else the workload's default. */
export function stepsOf(workload: TrainWorkload<unknown>, options: TrainBenchOptions): number {
  return options.steps ?? workload.defaultSteps;
}

/** Step s's data batch (bytes, with its step): `stepBatches`'s shuffled, seeded, resumable order. */
async function* stepBytes(
  workload: TrainWorkload<unknown>,
  dataset: Dataset,
  options: TrainBenchOptions,
  fromStep: number,
): AsyncGenerator<UintBatch & { step: number }> {
  for await (const bytes of stepBatches(dataset, workload.dataset.split, {
    batchSize: imagesOf(workload, options),
    seed: options.seed,
    fromStep,
    ids: false,
  })) {
    yield bytes;
  }
}

/** Step s's batch built on this thread: step s's bytes → the workload's pretext batch. */
export async function* workloadBatches(
  workload: TrainWorkload<unknown>,
  dataset: Dataset,
  options: TrainBenchOptions,
  fromStep: number,
): AsyncGenerator<unknown> {
  for await (const bytes of stepBytes(workload, dataset, options, fromStep)) yield workload.batch(bytes, options.seed);
}

/** Starts a batch worker that builds `workload`'s batches as {@link workloadBatches} does (same backend, same floats). */
export function startBatchWorker(workload: TrainWorkload<unknown>, options: TrainBenchOptions): Promise<BatchWorker> {
  const setup: TrainBatchSetup = { workload: workload.name, seed: options.seed };
  return BatchWorker.start({ module: TRAIN_BATCH_BUILDER_MODULE, setup, backend: tf.getBackend() === 'cpu' ? 'cpu' : 'wasm' });
}

/** Step s's batch built on `worker`, two steps ahead: the same batches as {@link workloadBatches}. */
export async function* workerBuiltBatches(
  worker: BatchWorker,
  workload: TrainWorkload<unknown>,
  dataset: Dataset,
  options: TrainBenchOptions,
  fromStep: number,
): AsyncGenerator<unknown> {
  for await (const tensors of workerBatches(worker, stepBytes(workload, dataset, options, fromStep), 2)) yield workload.fromTensors(tensors);
}

/**
 * Writes the workload's dataset where `source` says — a prefix of the loopback S3 server, or a
 * temporary directory — and opens it; `close` removes the temporary directory.
 */
export async function openWorkloadDataset(
  workload: TrainWorkload<unknown>,
  source: DataSource,
  s3: S3rverHandle | undefined,
): Promise<{ dataset: Dataset; close(): Promise<void> }> {
  if (source === 's3') {
    if (s3 === undefined) throw new Error('reading from s3 needs the loopback S3 server');
    const location = `s3://bench/${workload.dataset.name}`;
    const store = openStore(location, { client: s3.client() });
    if (!(await store.exists(MANIFEST_NAME))) await workload.dataset.write(store);
    return { dataset: await openDataset(location, { store: { client: s3.client() } }), close: async () => undefined };
  }
  const dir = await makeTempDir(`ddinit-bench-${workload.dataset.name}-`);
  try {
    await workload.dataset.write(openStore(dir.path));
    return { dataset: await openDataset(dir.path), close: () => dir.remove() };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}

/** One training run of `warmup + steps` steps of `workload` reading from `dataset`, batches built where `batches` says; its row without the PyTorch figure. */
export async function benchWorkload(
  workload: TrainWorkload<unknown>,
  dataset: Dataset,
  source: DataSource,
  backend: string,
  options: TrainBenchOptions,
  onStep: (text: string) => void = () => undefined,
  batches: BatchBuilding = 'main',
): Promise<TrainRow> {
  const tensorsBefore = tf.memory().numTensors;
  const worker = batches === 'worker' ? await startBatchWorker(workload, options) : undefined;
  const built = workload.build(options.seed);
  const total = options.warmup + stepsOf(workload, options);
  const data = (fromStep: number) =>
    worker === undefined ? workloadBatches(workload, dataset, options, fromStep) : workerBuiltBatches(worker, workload, dataset, options, fromStep);
  let result;
  try {
    result = await trainModel(
      built.model,
      (model, batch) => built.objective(model, batch),
      { steps: total, ...OPTIMIZER, checkpointEvery: 0 },
      { data, release: (batch) => workload.release(batch) },
      { progress: (event) => onStep(`${workload.name} (${source}, ${batches}): step ${event.completed}/${total}`) },
    );
  } finally {
    built.dispose();
    await worker?.close();
  }
  return {
    workload: workload.name,
    source,
    batches,
    backend,
    images: imagesOf(workload, options),
    inputs: imagesOf(workload, options) * workload.inputsPerImage,
    ...summarizeSteps(result.steps, options.warmup),
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    torchStepMs: null,
  };
}

export function backendLabel(selection: BackendSelection): string {
  return selection.name === 'wasm' && selection.nativeBlas?.active === true ? 'wasm-native' : selection.name;
}
