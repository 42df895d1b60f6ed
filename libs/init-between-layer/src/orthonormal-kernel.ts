/**
 * Orthonormal filters for LSUV's first step (Saxe et al. 2014; Mishkin & Matas
 * 2016, Algorithm 1, "pre-initialize with orthonormal matrices").
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, orthonormalDraw, type Rng } from '@ddinit/core';
import { filterRowsShape, filterRowsToKernel, type ParameterLayer } from '@ddinit/models';

/**
 * A kernel of `p`'s shape whose filter rows (`[groups, N, F]`, see `@ddinit/models`
 * kernel layouts) are orthonormal within each group: @ddinit/core `orthonormalDraw`
 * per group, seeded from `rng`. The caller owns the result.
 *
 * @throws ConfigError / ShapeError for layers without a single kernel layout
 *   (batch normalization, separable convolutions); NumericalError if the draw is
 *   rank-deficient (practically never).
 */
export function orthonormalKernel(p: ParameterLayer, rng: Rng): tf.Tensor {
  if (p.kernelLayout === null || p.kernelShape === null) {
    throw new ConfigError('orthonormal filters need a layer with a single kernel layout', {
      where: `layer ${p.name}`,
      expected: 'conv, dense, depthwise or transposed',
      actual: p.kind,
    });
  }
  const [groups, n, f] = filterRowsShape(p.kernelShape, p.kernelLayout, p.groups);
  const perGroup: tf.Tensor2D[] = [];
  try {
    for (let g = 0; g < groups; g++) perGroup.push(orthonormalDraw(n, f, rng.nextSeed(), `layer ${p.name} group ${g}`));
    return tf.tidy(() => filterRowsToKernel(tf.stack(perGroup), p.kernelLayout as NonNullable<typeof p.kernelLayout>, p.kernelShape as number[]));
  } finally {
    tf.dispose(perGroup);
  }
}
