import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWorker, stepInputs, workerBatches } from './batch-worker';
import { createBatchBuilder } from './testing/seeded-batch-builder';

const MODULE = new URL('./testing/seeded-batch-builder.ts', import.meta.url).href;

async function* steps(from: number, count: number, fail = -1): AsyncGenerator<{ step: number; fail: boolean }> {
  for (let step = from; step < from + count; step++) yield { step, fail: step === fail };
}

describe('BatchWorker', () => {
  let worker: BatchWorker;
  beforeAll(async () => {
    await useBackend('wasm');
    worker = await BatchWorker.start({ module: MODULE, setup: { seed: 3 }, backend: 'wasm' });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
  });

  it('builds the batches of the calling thread, bit for bit, in order, as tensors the caller owns', async () => {
    const build = createBatchBuilder({ seed: 3 });
    let step = 4;
    await expectNoLeakedTensors(async () => {
      for await (const batch of workerBatches(worker, steps(4, 5), 2)) {
        const here = await build({ step });
        expect(batch.inputs.shape).toEqual([3, 5, 5, 2]);
        expect(Buffer.from(batch.inputs.dataSync().buffer).equals(Buffer.from(here.inputs.dataSync().buffer)), `step ${step}`).toBe(true);
        expect(Array.from(batch.labels.dataSync())).toEqual([step, step, step]);
        expect(batch.labels.dtype).toBe('int32');
        tf.dispose([...Object.values(batch), ...Object.values(here)]);
        step++;
      }
    });
    expect(step).toBe(9);
  }, 60_000);

  it('raises a builder error at its batch, of the same ddinit kind and message, and keeps working after it', async () => {
    const got: number[] = [];
    const run = async () => {
      for await (const batch of workerBatches(worker, steps(0, 4, 2), 1)) {
        got.push(batch.labels.dataSync()[0]);
        tf.dispose(Object.values(batch));
      }
    };
    const error = await run().catch((e: unknown) => e);
    expect(got).toEqual([0, 1]);
    expect(isDdinitError(error) && error.kind).toBe('shape');
    expect((error as Error).message).toBe('step 2: this input cannot make a batch');
    const after = await worker.build({ step: 7 });
    expect(Array.from(after.labels.data)).toEqual([7, 7, 7]);
  }, 60_000);

  it('fails to start with the builder’s own error, and rejects a depth below 1', async () => {
    const error = await BatchWorker.start({ module: MODULE, setup: { seed: 1, failAtStart: true }, backend: 'wasm' }).catch((e: unknown) => e);
    expect(isDdinitError(error) && error.kind).toBe('config');
    expect((error as Error).message).toMatch(/^seeded batch builder: the builder cannot start/);
    await expect(workerBatches(worker, steps(0, 1), 0).next()).rejects.toThrow(/batches in flight must be a positive integer/);
  }, 60_000);

  it('runs an async builder one build at a time, in the order asked, though earlier steps take longer', async () => {
    const slow = await BatchWorker.start({ module: MODULE, setup: { seed: 3, delayMs: 40 }, backend: 'wasm' });
    try {
      const build = createBatchBuilder({ seed: 3 });
      const builds = [0, 1, 2, 3, 4, 5].map((step) => slow.build({ step }));
      const order: number[] = [];
      builds.forEach((pending, step) => void pending.then(() => order.push(step)));
      const done = await Promise.all(builds);
      expect(order).toEqual([0, 1, 2, 3, 4, 5]);
      for (const [step, arrays] of done.entries()) {
        const here = await build({ step });
        expect(Buffer.from(arrays.inputs.data.buffer).equals(Buffer.from(here.inputs.dataSync().buffer)), `step ${step}`).toBe(true);
        tf.dispose(Object.values(here));
      }
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('rejects builds after close', async () => {
    const other = await BatchWorker.start({ module: MODULE, setup: { seed: 1 }, backend: 'wasm' });
    await other.close();
    await expect(other.build({ step: 0 })).rejects.toThrow(/the batch worker was closed/);
  }, 60_000);
});

describe('stepInputs', () => {
  it('gives the steps from the first on, each after an event-loop turn (a pending macrotask runs first)', async () => {
    const inputs = stepInputs(3);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      setImmediate(() => seen.push(`turn ${i}`));
      const { value } = await inputs.next();
      seen.push(`step ${value?.step}`);
    }
    await inputs.return(undefined);
    expect(seen).toEqual(['turn 0', 'step 3', 'turn 1', 'step 4', 'turn 2', 'step 5']);
  });
});
