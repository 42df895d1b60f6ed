import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import type { UintBatch } from '@ddinit/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_GAP, CONTEXT_PATCH, contextPairBatch, TRAIN_WORKLOADS } from './train-workloads';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the context-prediction stand-in’s pair batch', () => {
  it('pairs the centre patch with each of its 8 neighbours, labelled by the neighbour’s place', () => {
    const grid = 3 * CONTEXT_PATCH + 2 * CONTEXT_GAP;
    const n = 2;
    const bytes: UintBatch = { size: n, height: grid, width: grid, channels: 3, images: new Uint8Array(n * grid * grid * 3), classes: 0, ids: [] };
    for (let j = 0; j < bytes.images.length; j++) bytes.images[j] = (j * 7919 + (j >> 10)) % 256;
    const batch = contextPairBatch(bytes);
    expect(batch.a.shape).toEqual([8 * n, CONTEXT_PATCH, CONTEXT_PATCH, 3]);
    expect(batch.b.shape).toEqual([8 * n, CONTEXT_PATCH, CONTEXT_PATCH, 3]);
    const step = CONTEXT_PATCH + CONTEXT_GAP;
    const places = [0, 1, 2, 3, 5, 6, 7, 8].map((cell) => [Math.floor(cell / 3), cell % 3]);
    const images = tf.tensor4d(
      Float32Array.from(bytes.images, (v) => v / 255),
      [n, grid, grid, 3],
    );
    const patch = (i: number, row: number, col: number) => tf.slice(images, [i, row * step, col * step, 0], [1, CONTEXT_PATCH, CONTEXT_PATCH, 3]);
    const pair = (t: tf.Tensor4D, k: number) => tf.slice(t, [k, 0, 0, 0], [1, CONTEXT_PATCH, CONTEXT_PATCH, 3]);
    tf.tidy(() => {
      places.forEach(([row, col], k) => {
        for (let i = 0; i < n; i++) {
          expect(Array.from(pair(batch.a, k * n + i).dataSync())).toEqual(Array.from(patch(i, 1, 1).dataSync()));
          expect(Array.from(pair(batch.b, k * n + i).dataSync())).toEqual(Array.from(patch(i, row, col).dataSync()));
        }
      });
      expect(Array.from(tf.argMax(batch.labels, 1).dataSync())).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
    });
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
      const channels = shape[3] as number;
      const images = Uint8Array.from({ length: side * side * channels }, (_, j) => (j * 31) % 256);
      const batch = workload.batch({ size: 1, height: side, width: side, channels, images, labels: Int32Array.of(0), classes: 10, ids: [] });
      const loss = tf.tidy(() => built.objective(built.model, batch).loss.dataSync()[0]);
      expect(Number.isFinite(loss)).toBe(true);
      workload.release(batch);
      built.dispose();
      expect(tf.memory().numTensors).toBe(0);
    }
  });
});
