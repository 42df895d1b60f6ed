/**
 * One training run of a pretext workload for the benchmark (train.ts): the
 * dataset copied to the loopback S3 server, batches through @ddinit/data's
 * `stepBatches` (read and built on a batch worker, or on the training thread) into the
 * workload's pretext batch, `trainModel` with the
 * comparison's optimizer, and the row of figures.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendSelection } from '@ddinit/core/backend';
import { MANIFEST_NAME, openDataset, openStore, stepBatches, type Dataset, type UintBatch } from '@ddinit/data';
import { makeTempDir, S3RVER_CREDENTIALS, type S3rverHandle } from '@ddinit/data/testing';
import { BatchWorker, stepInputs, trainModel, workerBatches } from '@ddinit/train';
import { TRAIN_BATCH_BUILDER_MODULE, type TrainBatchSetup, type WorkloadRead } from './train-batch-builder';
import { summarizeSteps, type TrainRow } from './train-report';
import type { BatchBuilding, DataSource, TrainBenchOptions } from './train-options';
import { stepReadOptions, type TrainWorkload } from './train-workloads';

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
  yield* stepBatches(dataset, workload.dataset.split, { ...stepReadOptions(imagesOf(workload, options), options.seed), fromStep });
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

/**
 * Starts a batch worker that reads `read`'s data and builds `workload`'s batches as
 * {@link workloadBatches} does (same backend, same floats): the reading runs on the worker's
 * event loop, which the training thread's synchronous steps do not hold up.
 */
export function startBatchWorker(workload: TrainWorkload<unknown>, options: TrainBenchOptions, read: WorkloadRead): Promise<BatchWorker> {
  const setup: TrainBatchSetup = { workload: workload.name, seed: options.seed, read: { ...read, images: imagesOf(workload, options) } };
  return BatchWorker.start({ module: TRAIN_BATCH_BUILDER_MODULE, setup, backend: tf.getBackend() === 'cpu' ? 'cpu' : 'wasm' });
}

/** Step s's batch read and built on `worker`, two steps ahead: the same batches as {@link workloadBatches}. */
export async function* workerBuiltBatches(worker: BatchWorker, workload: TrainWorkload<unknown>, fromStep: number): AsyncGenerator<unknown> {
  for await (const tensors of workerBatches(worker, stepInputs(fromStep), 2)) yield workload.fromTensors(tensors);
}

/** A workload's dataset opened here, and where a worker finds it (a plain location and store options cross threads; a client does not). */
export interface WorkloadData {
  dataset: Dataset;
  read: WorkloadRead;
  close(): Promise<void>;
}

/**
 * Writes the workload's dataset where `source` says — a prefix of the loopback S3 server, or a
 * temporary directory — and opens it; `close` removes the temporary directory.
 */
export async function openWorkloadDataset(workload: TrainWorkload<unknown>, source: DataSource, s3: S3rverHandle | undefined): Promise<WorkloadData> {
  const { split } = workload.dataset;
  if (source === 's3') {
    if (s3 === undefined) throw new Error('reading from s3 needs the loopback S3 server');
    const location = `s3://bench/${workload.dataset.name}`;
    const options = { s3: { endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } } };
    const store = openStore(location, options);
    if (!(await store.exists(MANIFEST_NAME))) await workload.dataset.write(store);
    return { dataset: await openDataset(location, { store: options }), read: { location, split, store: options }, close: async () => undefined };
  }
  const dir = await makeTempDir(`ddinit-bench-${workload.dataset.name}-`);
  try {
    await workload.dataset.write(openStore(dir.path));
    return { dataset: await openDataset(dir.path), read: { location: dir.path, split, store: {} }, close: () => dir.remove() };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}

/** One training run of `warmup + steps` steps of `workload` reading from `dataset`, batches built where `batches` says; its row without the PyTorch figure. */
export async function benchWorkload(
  workload: TrainWorkload<unknown>,
  { dataset, read }: Pick<WorkloadData, 'dataset' | 'read'>,
  source: DataSource,
  backend: string,
  options: TrainBenchOptions,
  onStep: (text: string) => void = () => undefined,
  batches: BatchBuilding = 'main',
): Promise<TrainRow> {
  const tensorsBefore = tf.memory().numTensors;
  const worker = batches === 'worker' ? await startBatchWorker(workload, options, read) : undefined;
  const built = workload.build(options.seed);
  const total = options.warmup + stepsOf(workload, options);
  const data = (fromStep: number) =>
    worker === undefined ? workloadBatches(workload, dataset, options, fromStep) : workerBuiltBatches(worker, workload, fromStep);
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
