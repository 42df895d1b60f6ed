import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';

/** A seeded N(0, 1) batch `[n, ...shape]`. */
export function seededBatch(shape: number[], seed: number): tf.Tensor {
  const rng = Rng.fromSeed(seed).derive('spec-batch');
  const data = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return tf.tensor(data, shape);
}
