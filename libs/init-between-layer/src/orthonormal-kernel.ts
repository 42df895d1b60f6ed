/**
 * Orthonormal filters for LSUV's first step (Saxe et al. 2014; Mishkin & Matas
 * 2016, Algorithm 1, "pre-initialize with orthonormal matrices").
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, orthonormalizeColumns, type Rng } from '@ddinit/core';
import { filterRowsShape, filterRowsToKernel, type ParameterLayer } from '@ddinit/models';

/**
 * A kernel of `p`'s shape whose filter rows (`[groups, N, F]`, see `@ddinit/models`
 * kernel layouts) are orthonormal within each group: orthonormal rows when N ≤ F,
 * orthonormal columns otherwise. Drawn from N(0, 1) with `rng` and orthonormalized
 * by CholeskyQR2. The caller owns the result.
 *
 * @throws ConfigError / ShapeError for layers without a single kernel layout
 *   (batch normalization, separable convolutions); NumericalError if the draw is
 *   rank-deficient (practically never).
 */
export function orthonormalKernel(p: ParameterLayer, rng: Rng): tf.Tensor {
  if (p.kernelLayout === null || p.kernelShape === null) {
    throw new ConfigError('orthonormal filters need a layer with a single kernel layout', { where: `layer ${p.name}`, expected: 'conv, dense, depthwise or transposed', actual: p.kind });
  }
  const [groups, n, f] = filterRowsShape(p.kernelShape, p.kernelLayout, p.groups);
  const perGroup: tf.Tensor2D[] = [];
  try {
    for (let g = 0; g < groups; g++) {
      const draw = tf.randomNormal([Math.max(n, f), Math.min(n, f)], 0, 1, 'float32', rng.nextSeed()) as tf.Tensor2D;
      const q = orthonormalizeColumns(draw, `layer ${p.name} group ${g}`);
      draw.dispose();
      // q: [max, min] with orthonormal columns. Rows [n, f]: n ≤ f → qᵀ (orthonormal rows), else q.
      perGroup.push(n <= f ? (tf.tidy(() => tf.transpose(q)) as tf.Tensor2D) : q);
      if (n <= f) q.dispose();
    }
    return tf.tidy(() => filterRowsToKernel(tf.stack(perGroup), p.kernelLayout as NonNullable<typeof p.kernelLayout>, p.kernelShape as number[]));
  } finally {
    tf.dispose(perGroup);
  }
}
