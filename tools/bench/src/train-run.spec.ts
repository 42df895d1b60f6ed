import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { startS3rver, type S3rverHandle } from '@ddinit/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainBenchOptions } from './train-options';
import { benchWorkload, openWorkloadDataset, startBatchWorker, workerBuiltBatches, workloadBatches } from './train-run';
import { TRAIN_WORKLOADS } from './train-workloads';

const OPTIONS: TrainBenchOptions = {
  workloads: [],
  sources: ['s3'],
  batches: ['main'],
  images: 4,
  steps: 3,
  warmup: 1,
  seed: 1,
  torch: 'off',
  torchThreads: undefined,
};
const rotation = TRAIN_WORKLOADS.find((w) => w.name === 'rotation-caffenet-small');

let s3: S3rverHandle;
beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads; tensors are counted instead
  s3 = await startS3rver(['bench']);
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});

describe('a benchmark run of rotation-caffenet-small from the loopback S3 server', () => {
  it('feeds every image at its four turns, labelled by the turn', async () => {
    if (rotation === undefined) throw new Error('no rotation workload');
    const { dataset } = await openWorkloadDataset(rotation, 's3', s3);
    const iterator = workloadBatches(rotation, dataset, OPTIONS, 0);
    const { value } = await iterator.next();
    await iterator.return(undefined);
    const batch = value as { inputs: tf.Tensor4D; labels: tf.Tensor2D };
    expect(batch.inputs.shape).toEqual([16, 28, 28, 1]);
    expect(Array.from(tf.argMax(batch.labels, 1).dataSync())).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    const [upright, turned] = tf.tidy(() => [batch.inputs.slice([0], [1]), tf.reverse(tf.transpose(batch.inputs.slice([4], [1]), [0, 2, 1, 3]), 2)]);
    expect(Array.from(turned.dataSync())).toEqual(Array.from(upright.dataSync())); // a 90° turn undone by the inverse turn
    tf.dispose([upright, turned]);
    rotation.release(batch);
  });

  it('trains warm-up + timed steps, leaks no tensor and reports shares in [0, 1]', async () => {
    if (rotation === undefined) throw new Error('no rotation workload');
    const data = await openWorkloadDataset(rotation, 's3', s3);
    const before = tf.memory().numTensors;
    const row = await benchWorkload(rotation, data, 's3', 'wasm', OPTIONS);
    expect(tf.memory().numTensors).toBe(before);
    expect(row).toMatchObject({
      workload: 'rotation-caffenet-small',
      source: 's3',
      images: 4,
      inputs: 16,
      steps: 3,
      tensorsBefore: before,
      tensorsAfter: before,
    });
    expect(row.stepMs).toBeGreaterThan(0);
    for (const share of [row.waitShare, row.runWaitShare]) expect(share >= 0 && share < 1).toBe(true);
    expect(row.maxWaitMs).toBeGreaterThanOrEqual(row.medianWaitMs);
  }, 120_000);
});

describe('context-caffenet batches built on a batch worker', () => {
  const context = TRAIN_WORKLOADS.find((w) => w.name === 'context-caffenet');

  it('are the batches of the training thread, bit for bit, step by step (from step 0 and resumed from step 5)', async () => {
    if (context === undefined) throw new Error('no context workload');
    const { dataset, read, close } = await openWorkloadDataset(context, 'local', undefined);
    const worker = await startBatchWorker(context, OPTIONS, read);
    try {
      for (const from of [0, 5]) {
        const main = workloadBatches(context, dataset, OPTIONS, from);
        const built = workerBuiltBatches(worker, context, from);
        for (let step = from; step < from + 3; step++) {
          const [a, b] = [(await main.next()).value, (await built.next()).value] as { inputs: tf.Tensor; labels: tf.Tensor }[];
          expect(b.inputs.shape, `step ${step}`).toEqual([36, 96, 96, 3]);
          expect(
            Buffer.from((b.inputs.dataSync() as Float32Array).buffer).equals(Buffer.from((a.inputs.dataSync() as Float32Array).buffer)),
            `step ${step}`,
          ).toBe(true);
          expect(Array.from(b.labels.dataSync())).toEqual(Array.from(a.labels.dataSync()));
          context.release(a);
          context.release(b);
        }
        await main.return(undefined);
        await built.return(undefined);
      }
    } finally {
      await worker.close();
      await close();
    }
  }, 180_000);
});
