/**
 * Data-free weight sources (docs/method.md#random-sources): `gaussian` (W ~ N(0, 1) i.i.d.;
 * the scale is irrelevant because the per-channel normalization fixes it) and
 * `orthogonal` (Saxe et al. 2014: orthonormal filter rows when N ≤ F, orthonormal
 * columns otherwise; with the normalization this is LSUV's result in one pass).
 */
import * as tf from '@tensorflow/tfjs';
import { orthonormalDraw, type Rng } from '@ddinit/core';
import type { RandomMethod } from './within-layer-options';

/**
 * `groups` × `count` filter rows of length `features` drawn by `method`, shape
 * [groups, count, features]; the caller owns the result.
 *
 * @throws NumericalError (from the orthonormalization) in the practically impossible
 *   case of a numerically rank-deficient Gaussian draw.
 * @example
 * const rows = randomFilters('orthogonal', 2, 128, 1200, rng.derive('conv2')); // [2, 128, 1200]
 */
export function randomFilters(method: RandomMethod, groups: number, count: number, features: number, rng: Rng, where = 'randomFilters'): tf.Tensor3D {
  const perGroup = Array.from({ length: groups }, (_, g) => {
    const seed = rng.derive(`${method}-${g}`).nextSeed();
    if (method === 'gaussian') return tf.randomNormal([count, features], 0, 1, 'float32', seed) as tf.Tensor2D;
    return orthonormalDraw(count, features, seed, where);
  });
  try {
    return tf.stack(perGroup) as tf.Tensor3D;
  } finally {
    tf.dispose(perGroup);
  }
}
