import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { rotate90, rotationBatch } from './rotation';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The 3×3 image 1…9 (row-major), one channel, batch 1. */
const known = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
const pixels = (t: tf.Tensor) => Array.from(t.dataSync());

describe('rotation prediction', () => {
  it('turns a known image by 90°, 180° and 270° counter-clockwise', () => {
    const x = known();
    expect(pixels(rotate90(x, 1))).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]);
    expect(pixels(rotate90(x, 2))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(pixels(rotate90(x, 3))).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    expect(pixels(rotate90(rotate90(x, 1), 3))).toEqual(pixels(x));
    x.dispose();
  });

  it('builds the four rotations of every image in one batch, with the rotation as the label', async () => {
    const x = tf.concat([known(), tf.mul(known(), 10)]) as tf.Tensor4D;
    await expectNoLeakedTensors(() => {
      const batch = rotationBatch(x);
      expect(batch.inputs.shape).toEqual([8, 3, 3, 1]);
      expect(tf.tidy(() => Array.from(tf.argMax(batch.labels, 1).dataSync()))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
      expect(pixels(batch.inputs).slice(9 * 3, 9 * 4)).toEqual([30, 60, 90, 20, 50, 80, 10, 40, 70]); // image 2 at 90°
      tf.dispose([batch.inputs, batch.labels]);
    });
    x.dispose();
  });

  it('refuses images that are not square', () => {
    const x = tf.zeros([1, 3, 4, 1]) as tf.Tensor4D;
    expect(() => rotationBatch(x)).toThrow(ShapeError);
    expect(() => rotationBatch(x)).toThrow(/rotation batch: rotation prediction needs square images .*got 3×4/);
    x.dispose();
  });
});
