/**
 * Batches built on a worker thread, so that the training step never waits for them.
 *
 * A step (`Trainer.runStep`) is synchronous: while it runs, nothing else runs on its
 * thread. A batch built on the same thread — a pretext task's patch cutting, colour
 * dropping, resampling and normalization — therefore always adds its whole time to the
 * step's, whatever the prefetch (the context task waited 42–53 % of its step time,
 * docs/RESULTS.md "Training step (issue 13)"). A {@link BatchWorker} builds them on a
 * `worker_threads` worker with its own tfjs, on the same backend, from the same code and
 * inputs: the same floats, bit for bit, as building them here ({@link workerBatches} keeps
 * `depth` of them in flight, so step s + 1's is built during step s).
 *
 * The worker imports `spec.module`, which exports
 * `createBatchBuilder(setup): BatchBuilder | Promise<BatchBuilder>`; `setup` and every
 * input must survive a structured clone (plain objects, typed arrays). A builder that
 * reads its data itself takes just the step as input: the reading then runs on the
 * worker's event loop too, where a step on this thread cannot hold it up. The builder's
 * tensors come back as typed arrays (their buffers transferred, not copied) and become
 * tensors on this thread.
 *
 * @example
 * const worker = await BatchWorker.start({ module: new URL('./my-builder.js', import.meta.url).href, setup: { seed: 1 }, backend: 'wasm' });
 * for await (const batch of workerBatches(worker, bytesOfEachStep, 2)) { … tf.dispose(Object.values(batch)) }
 * await worker.close();
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { BackendError, ConfigError, DataError, NumericalError, ShapeError, StorageError, type ErrorKind } from '@ddinit/core';

/**
 * Builds one batch's tensors from one input, on the worker; the worker disposes them after
 * sending. It may be async (a builder that reads its own data on the worker's event loop,
 * which the caller's synchronous steps never block); the worker runs builds one at a time,
 * in the order they were asked for.
 */
export type BatchBuilder = (input: unknown) => Record<string, tf.Tensor> | Promise<Record<string, tf.Tensor>>;

export interface BatchWorkerSpec {
  /** URL (`file:` href) of the module that exports `createBatchBuilder(setup)`. */
  module: string;
  /** What `createBatchBuilder` gets (structured-cloneable). */
  setup: unknown;
  /** The tfjs backend of the worker: the caller's, so the floats are the same. */
  backend: 'wasm' | 'cpu';
}

/** A tensor as it crosses threads. */
export interface TensorArrays {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
}

/** What the worker reports of an error: enough to raise the same kind of error here. */
export interface WorkerError {
  kind?: ErrorKind;
  name: string;
  message: string;
}

/** Messages from the worker: ready, one batch, or an error (of start-up when `id` is absent). */
export type FromWorker = { ready: true } | { id: number; tensors: Record<string, TensorArrays> } | { id?: number; error: WorkerError };

const ERRORS: Record<ErrorKind, new (message: string) => Error> = {
  config: ConfigError,
  data: DataError,
  shape: ShapeError,
  numerical: NumericalError,
  storage: StorageError,
  backend: BackendError,
};

/** The worker's error as an error of this thread, of the same ddinit kind when it had one (so exit codes stay right). */
export function errorFromWorker(error: WorkerError): Error {
  const made = error.kind !== undefined && error.kind in ERRORS ? new ERRORS[error.kind](error.message) : new Error(error.message);
  made.name = error.name;
  return made;
}

/** tsx's ESM API for the bootstrap: resolved from here where the runtime can (tsx), else by the worker from its working directory (vitest). */
function tsxEsmApi(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return 'tsx/esm/api';
  }
}

/**
 * How to start the worker entry beside this module: in dist, the `.js` file itself; from source
 * (tsx, vitest), a bootstrap that registers tsx's loader in the worker first and resolves the
 * workspace packages to their sources, as the caller's thread does (a worker inherits neither).
 */
function workerEntry(): { source: string | URL; eval: boolean; execArgv: string[] } {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./batch-worker-entry${ext}`, import.meta.url);
  if (ext !== '.ts') return { source: entry, eval: false, execArgv: [] };
  const tsx = tsxEsmApi();
  const source = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return { source, eval: true, execArgv: ['--conditions=@ddinit/source'] };
}

export class BatchWorker {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (t: Record<string, TensorArrays>) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new BackendError('the batch worker stopped', { where: 'batch worker', actual: `exit code ${code}` })));
  }

  /**
   * Starts a worker and waits until its backend and builder are ready.
   * @throws the builder's own error (same kind) when `createBatchBuilder` fails; BackendError when the worker cannot start.
   */
  static async start(spec: BatchWorkerSpec): Promise<BatchWorker> {
    const entry = workerEntry();
    const worker = new Worker(entry.source, { eval: entry.eval, workerData: spec, execArgv: entry.execArgv });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker): void => {
        worker.off('error', onError);
        if ('error' in message) reject(errorFromWorker(message.error));
        else resolve();
      };
      const onError = (error: Error): void =>
        reject(new BackendError('the batch worker failed to start', { where: 'batch worker', cause: error, actual: error.message }));
      worker.once('message', onMessage);
      worker.once('error', onError);
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new BatchWorker(worker);
  }

  /** Builds one batch on the worker; resolves to its tensors' arrays (see {@link toTensors}). Builds run in the order asked. */
  build(input: unknown): Promise<Record<string, TensorArrays>> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, input });
    });
  }

  /** Stops the worker; builds still pending are rejected. */
  async close(): Promise<void> {
    this.fail(new BackendError('the batch worker was closed', { where: 'batch worker' }));
    await this.worker.terminate();
  }

  private receive(message: FromWorker): void {
    if (!('id' in message) || message.id === undefined) return;
    const waiter = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    if ('error' in message) waiter?.reject(errorFromWorker(message.error));
    else waiter?.resolve(message.tensors);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }
}

/** The arrays of a built batch as tensors of the active backend (the caller owns them). */
export function toTensors(arrays: Record<string, TensorArrays>): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(arrays).map(([name, t]) => [name, tf.tensor(t.data, t.shape, t.dtype)]));
}

/**
 * The batches of `inputs`, built on `worker`, in order, as tensors (the caller disposes them).
 * `depth` builds are kept in flight: before batch s is handed out, the inputs of steps
 * s + 1 … s + depth are posted, so the worker builds the next one while the caller's step runs.
 * @throws ConfigError for a depth below 1; the builder's errors, at the batch they concern.
 */
export async function* workerBatches(worker: BatchWorker, inputs: AsyncIterable<unknown>, depth = 2): AsyncGenerator<Record<string, tf.Tensor>> {
  if (!Number.isInteger(depth) || depth < 1)
    throw new ConfigError('batches in flight must be a positive integer', { where: 'workerBatches depth', actual: depth });
  const source = inputs[Symbol.asyncIterator]();
  const inFlight: Promise<Record<string, TensorArrays>>[] = [];
  let ended = false;
  const fill = async (): Promise<void> => {
    while (!ended && inFlight.length < depth) {
      const next = await source.next();
      if (next.done === true) ended = true;
      else inFlight.push(worker.build(next.value));
    }
  };
  try {
    await fill();
    while (inFlight.length > 0) {
      const arrays = await (inFlight.shift() as Promise<Record<string, TensorArrays>>);
      await fill();
      yield toTensors(arrays);
    }
  } finally {
    // Builds still in flight are dropped; their rejections (on close) are not errors of this run.
    for (const pending of inFlight) pending.catch(() => undefined);
    await source.return?.();
  }
}

/**
 * `{ step }` for every step from `fromStep` on: the inputs of a worker whose builder reads its
 * own data. One event-loop turn before each, so that a signal handler (SIGTERM → stop after the
 * step) runs between steps even when every batch is already there.
 */
export async function* stepInputs(fromStep: number): AsyncGenerator<{ step: number }> {
  for (let step = fromStep; ; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    yield { step };
  }
}
