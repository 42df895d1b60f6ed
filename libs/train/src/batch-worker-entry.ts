/**
 * The worker side of batch-worker.ts: selects the caller's backend, imports the builder
 * module, answers "ready" (or the error that stopped it), then builds one batch per
 * message, one at a time in arrival order (builders may be async), and posts its tensors
 * back as typed arrays (buffers transferred).
 * The native BLAS addon stays with the training thread: batch building runs no convolution
 * or matrix product, and ddinit's other wasm kernels give the same floats without it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import type { BatchBuilder, BatchWorkerSpec, FromWorker, TensorArrays, WorkerError } from './batch-worker';

function describeError(error: unknown): WorkerError {
  if (isDdinitError(error)) return { kind: error.kind, name: error.name, message: error.message };
  const e = error as { name?: string; message?: string };
  return { name: e.name ?? 'Error', message: e.message ?? String(error) };
}

function arraysOf(tensors: Record<string, tf.Tensor>): { arrays: Record<string, TensorArrays>; buffers: ArrayBuffer[] } {
  const arrays: Record<string, TensorArrays> = {};
  for (const [name, t] of Object.entries(tensors)) {
    // dataSync returns the backend's own buffer on some backends: copy, then transfer the copy.
    const data = t.dataSync().slice() as Float32Array | Int32Array | Uint8Array;
    arrays[name] = { data, shape: t.shape.slice(), dtype: t.dtype as TensorArrays['dtype'] };
  }
  return { arrays, buffers: Object.values(arrays).map((a) => a.data.buffer as ArrayBuffer) };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('batch-worker-entry runs only as a worker thread');
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  let build: BatchBuilder;
  try {
    const spec = workerData as BatchWorkerSpec;
    await selectBackend(spec.backend, { nativeBlas: false });
    const module = (await import(spec.module)) as { createBatchBuilder?: (setup: unknown) => BatchBuilder | Promise<BatchBuilder> };
    if (typeof module.createBatchBuilder !== 'function') throw new Error(`${spec.module} exports no createBatchBuilder`);
    build = await module.createBatchBuilder(spec.setup);
  } catch (error) {
    post({ error: describeError(error) });
    return;
  }
  const answer = async (id: number, input: unknown): Promise<void> => {
    try {
      const tensors = await build(input);
      try {
        const { arrays, buffers } = arraysOf(tensors);
        post({ id, tensors: arrays }, buffers);
      } finally {
        tf.dispose(Object.values(tensors));
      }
    } catch (error) {
      post({ id, error: describeError(error) });
    }
  };
  // One build at a time, in arrival order: an async builder (one that reads) sees its inputs in order.
  let previous = Promise.resolve();
  port.on('message', ({ id, input }: { id: number; input: unknown }) => {
    previous = previous.then(() => answer(id, input));
  });
  post({ ready: true });
}

void main();
