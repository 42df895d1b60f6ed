/**
 * A batch builder for the BatchWorker specs: step `input.step`'s batch is seeded noise,
 * resized and normalized with tfjs ops (what a pretext task's batch does), so a worker's
 * floats can be compared bit for bit with the same builder run on the spec's thread.
 * `{ fail: true }` as input throws a ShapeError; `setup.failAtStart` makes creation fail;
 * `setup.delayMs` makes the builder async, awaiting a timer of up to that many ms before each
 * batch (more for earlier steps), so that builds would finish out of order were they concurrent.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import type { BatchBuilder } from '../batch-worker';

export interface SeededBatchSetup {
  seed: number;
  failAtStart?: boolean;
  delayMs?: number;
}

export function createBatchBuilder(setup: SeededBatchSetup): BatchBuilder {
  if (setup.failAtStart === true) throw new ConfigError('the builder cannot start', { where: 'seeded batch builder', expected: 'a setup it takes' });
  const batchOf = (input: unknown): Record<string, tf.Tensor> => {
    const { step, fail } = input as { step: number; fail?: boolean };
    if (fail === true) throw new ShapeError('this input cannot make a batch', { where: `step ${step}` });
    return tf.tidy(() => {
      const noise = tf.randomNormal([3, 9, 9, 2], 0, 1, 'float32', setup.seed * 1000 + step + 1);
      const resized = tf.image.resizeBilinear(noise as tf.Tensor4D, [5, 5], false, true);
      const { mean, variance } = tf.moments(resized, [1, 2, 3], true);
      return { inputs: tf.div(tf.sub(resized, mean), tf.sqrt(tf.add(variance, 1e-5))), labels: tf.fill([3], step, 'int32') };
    });
  };
  const { delayMs } = setup;
  if (delayMs === undefined) return batchOf;
  return async (input) => {
    const { step } = input as { step: number };
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs - 5 * step)));
    return batchOf(input);
  };
}
