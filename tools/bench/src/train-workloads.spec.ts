import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabelledBatch } from '@ddinit/train';
import { CONTEXT_IMAGE_SIDE, randomBytes, TRAIN_WORKLOADS, type TrainWorkload } from './train-workloads';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the context workload', () => {
  it('is @ddinit/pretrain’s context task: 9 patches per image in, 8 labelled pairs out, the same batch for the same step', () => {
    const workload = TRAIN_WORKLOADS.find((w) => w.name === 'context-caffenet') as TrainWorkload<LabelledBatch>;
    const side = CONTEXT_IMAGE_SIDE;
    const n = 2;
    const images = Uint8Array.from({ length: n * side * side * 3 }, (_, j) => (j * 7919 + (j >> 10)) % 256);
    const bytes = (step: number) => ({ step, size: n, height: side, width: side, channels: 3, images, classes: 0, ids: [] });
    const a = workload.batch(bytes(5), 1);
    const b = workload.batch(bytes(5), 1);
    const c = workload.batch(bytes(6), 1);
    expect(a.inputs.shape).toEqual([9 * n, 96, 96, 3]);
    expect(a.labels.shape).toEqual([8 * n, 8]);
    expect(Array.from(tf.tidy(() => tf.argMax(a.labels, 1).dataSync()))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(a.inputs.dataSync())).toEqual(Array.from(b.inputs.dataSync()));
    expect(Array.from(a.inputs.dataSync())).not.toEqual(Array.from(c.inputs.dataSync())); // jitter and defences drawn per step
    [a, b, c].forEach((batch) => workload.release(batch));
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('every workload', () => {
  it('builds a model whose objective gives a finite loss on its batch, and frees everything', () => {
    for (const workload of TRAIN_WORKLOADS) {
      const built = workload.build(1);
      const batch = workload.batch(randomBytes(workload, 1), 1);
      const loss = tf.tidy(() => built.objective(built.model, batch).loss.dataSync()[0]);
      expect(Number.isFinite(loss)).toBe(true);
      workload.release(batch);
      built.dispose();
      expect(tf.memory().numTensors).toBe(0);
    }
  });
});
