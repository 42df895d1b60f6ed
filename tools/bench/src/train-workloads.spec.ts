import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_GAP, CONTEXT_PATCH, contextPairBatch, TRAIN_WORKLOADS } from './train-workloads';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the context-prediction stand-in’s pair batch', () => {
  it('pairs the centre patch with each of its 8 neighbours, labelled by the neighbour’s place', () => {
    const grid = 3 * CONTEXT_PATCH + 2 * CONTEXT_GAP;
    // Pixel (y, x) of image i holds i·10⁶ + y·1000 + x: a patch is known by its top-left value.
    const values = Float32Array.from(
      { length: 2 * grid * grid },
      (_, j) => Math.floor(j / (grid * grid)) * 1e6 + (Math.floor(j / grid) % grid) * 1000 + (j % grid),
    );
    const images = tf.tensor4d(values, [2, grid, grid, 1]);
    const batch = contextPairBatch(images);
    expect(batch.a.shape).toEqual([16, CONTEXT_PATCH, CONTEXT_PATCH, 1]);
    expect(batch.b.shape).toEqual([16, CONTEXT_PATCH, CONTEXT_PATCH, 1]);
    const step = CONTEXT_PATCH + CONTEXT_GAP;
    const topLeft = (t: tf.Tensor4D) => tf.tidy(() => Array.from(t.slice([0, 0, 0, 0], [16, 1, 1, 1]).dataSync()));
    const neighbours = [0, 1, 2, 3, 5, 6, 7, 8].map((cell) => [Math.floor(cell / 3), cell % 3]);
    expect(topLeft(batch.a)).toEqual(neighbours.flatMap(() => [0, 1e6].map((i) => i + step * 1000 + step)));
    expect(topLeft(batch.b)).toEqual(neighbours.flatMap(([row, col]) => [0, 1e6].map((i) => i + row * step * 1000 + col * step)));
    expect(Array.from(tf.tidy(() => tf.argMax(batch.labels, 1).dataSync()))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
    tf.dispose([images, batch.a, batch.b, batch.labels]);
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('every workload', () => {
  it('builds a model whose objective gives a finite loss on its batch, and frees everything', () => {
    for (const workload of TRAIN_WORKLOADS) {
      const built = workload.build(1);
      const shape = built.model.inputs[0].shape;
      const side = workload.dataset.decode?.height ?? (shape[1] as number);
      const images = tf.randomNormal([1, side, side, shape[3] as number], 0, 1, 'float32', 1) as tf.Tensor4D;
      const batch = workload.batch(images);
      const loss = tf.tidy(() => built.objective(built.model, batch).loss.dataSync()[0]);
      expect(Number.isFinite(loss)).toBe(true);
      workload.release(batch);
      images.dispose();
      built.dispose();
      expect(tf.memory().numTensors).toBe(0);
    }
  });
});
