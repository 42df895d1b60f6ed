import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, normalData, runOnBackend } from '../../testing/backend-comparison';
import { tileInto } from './tile';

const CASES: [number[], number[]][] = [
  [
    [1, 1, 1, 5],
    [2, 3, 4, 1],
  ],
  [
    [2, 3, 4],
    [3, 1, 2],
  ],
  [[7], [5]],
  [
    [3, 1, 2, 2, 3],
    [1, 4, 1, 3, 2],
  ],
  [
    [4, 6],
    [1, 1],
  ],
];

describe('tileInto', () => {
  it('writes out[i] = x[i mod shape] for every index', () => {
    const shape = [2, 3, 2];
    const reps = [2, 1, 3];
    const src = normalData(shape, 1);
    const out = tileInto(src, shape, reps, new Float32Array(2 * 2 * 3 * 1 * 2 * 3));
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 3; b++) for (let c = 0; c < 6; c++) expect(out[(a * 3 + b) * 6 + c]).toBe(src[((a % 2) * 3 + (b % 3)) * 2 + (c % 2)]);
  });
});

describe('Tile on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it.each(CASES)('matches the cpu backend: shape %j, reps %j', async (shape, reps) => {
    const x = normalData(shape, 2);
    const op = () => [
      tf.tile(tf.tensor(x, shape), reps),
      tf.tile(tf.tensor(x, shape).toInt(), reps).toFloat(),
      tf.tile(tf.tensor(x, shape).greater(0), reps).toFloat(),
    ];
    const expected = await runOnBackend('cpu', op);
    const actual = await runOnBackend('wasm', op);
    for (let i = 0; i < 3; i++) expect(Array.from(actual[i])).toEqual(Array.from(expected[i]));
  });

  it('gives batch-norm gradients like the cpu backend', async () => {
    const x = normalData([4, 5, 6, 3], 3);
    const w = normalData([4, 5, 6, 3], 4);
    const grads = () =>
      tf.grads((xs: tf.Tensor, scale: tf.Tensor) => {
        const { mean, variance } = tf.moments(xs, [0, 1, 2]);
        const y = tf.batchNorm(xs, mean, variance, tf.zeros([3]), scale, 1e-3);
        return tf.sum(tf.mul(y, tf.tensor(w, [4, 5, 6, 3])));
      })([tf.tensor(x, [4, 5, 6, 3]), tf.tensor1d([0.5, 1, 2])]);
    const expected = await runOnBackend('cpu', grads);
    const actual = await runOnBackend('wasm', grads);
    for (let i = 0; i < 2; i++) expect(relativeError(actual[i], expected[i])).toBeLessThanOrEqual(1e-4);
  });

  it('frees every intermediate', async () => {
    await expectNoLeaks(() => tf.tidy(() => tf.tile(tf.ones([1, 1, 1, 4]), [2, 3, 3, 1]).dataSync()));
  });

  it('rejects reps of the wrong length, naming the shape', () => {
    tf.tidy(() => {
      expect(() => tf.engine().runKernel(tf.Tile, { x: tf.ones([2, 3]) }, { reps: [2] })).toThrow(/expected 2 counts for shape \[2,3\], got \[2\]/);
    });
  });
});
