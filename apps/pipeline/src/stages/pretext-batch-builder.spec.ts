/**
 * The pretext batch builder reading its own data (the worker's mode) makes the batches the
 * stage's own path makes from bytes read on the training thread: bit for bit, step by step,
 * also when asked for a step out of order (a resumed run starts at its checkpoint's step).
 */
import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { defaultDatasetPath, openDataset, stepBatches } from '@ddinit/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchBuilder, type PretextBatchSetup } from './pretext-batch-builder';

beforeAll(async () => {
  await useBackend('wasm');
});

const SETUP: PretextBatchSetup = {
  task: { name: 'rotation' },
  imageShape: [28, 28, 1],
  seed: 5,
  normalization: { scale: 1 / 255, mean: [0.29], std: [0.35] },
};

describe('pretext batch builder', () => {
  it('reading on its own gives the batches built from the bytes of the same steps, in order and after a jump', async () => {
    const source = defaultDatasetPath();
    const reading = createBatchBuilder({ ...SETUP, read: { source, split: 'train', batchSize: 8, store: {} } });
    const fromBytes = createBatchBuilder(SETUP);
    const dataset = await openDataset(source);
    const bytesOf = async (step: number) => {
      for await (const batch of stepBatches(dataset, 'train', { batchSize: 8, seed: SETUP.seed, fromStep: step })) return batch;
      throw new Error('no batch');
    };
    await expectNoLeakedTensors(async () => {
      for (const step of [0, 1, 2, 7, 8, 3]) {
        const read = await reading({ step });
        const built = await fromBytes({ ...(await bytesOf(step)), step });
        expect(read.inputs.shape).toEqual([32, 28, 28, 1]);
        expect(Buffer.from(read.inputs.dataSync().buffer).equals(Buffer.from(built.inputs.dataSync().buffer)), `step ${step}`).toBe(true);
        expect(Array.from(read.labels.dataSync())).toEqual(Array.from(built.labels.dataSync()));
        tf.dispose([...Object.values(read), ...Object.values(built)]);
      }
    });
  }, 60_000);
});
