/**
 * Data-free weight sources (docs/method.md#random-sources): `gaussian` (W ~ N(0, 1) i.i.d.;
 * the scale is irrelevant because the per-channel normalization fixes it) and
 * `orthogonal` (Saxe et al. 2014: orthonormal filter rows when N ≤ F, orthonormal
 * columns otherwise; with the normalization this is LSUV's result in one pass).
 */
import * as tf from '@tensorflow/tfjs';
import { gaussianMatrix, orthonormalDraw, type Rng } from '@ddinit/core';
import { filterRowsShape, filterRowsToKernel, type KernelInfo } from '@ddinit/models';
import type { RandomMethod } from './within-layer-options';

/** `rows`×`cols` by `method`: i.i.d. N(0, 1), or orthonormal along the shorter side. */
function randomMatrix(method: RandomMethod, rows: number, cols: number, rng: Rng, where: string): tf.Tensor2D {
  return method === 'gaussian' ? gaussianMatrix(rows, cols, rng) : orthonormalDraw(rows, cols, rng.nextSeed(), where);
}

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
  const perGroup = Array.from({ length: groups }, (_, g) => randomMatrix(method, count, features, rng.derive(`${method}-${g}`), where));
  try {
    return tf.stack(perGroup) as tf.Tensor3D;
  } finally {
    tf.dispose(perGroup);
  }
}

/**
 * A kernel of `kernel`'s layout and shape whose filters are drawn by `method`, as
 * {@link randomFilters} would draw them; the caller owns the result.
 *
 * A dense kernel [F, N] and an ungrouped conv kernel [kh, kw, cin, N] (= [F, N] row-major)
 * hold the filters as columns, so the F×N matrix is drawn in place: an orthonormal draw
 * of F×N has orthonormal columns (filters) when N ≤ F and orthonormal rows otherwise,
 * exactly what the filter rows get, and neither needs the filter-row transpose (seconds
 * for CaffeNet's 9216 × 4096 fc6 on the wasm backend; docs/RESULTS.md, issue 16).
 * Other layouts go through {@link randomFilters}.
 *
 * @example const w = randomKernel('orthogonal', p.kernels[0], rng.derive('kernel'), 'layer fc6'); // [9216, 4096]
 */
export function randomKernel(method: RandomMethod, kernel: KernelInfo, rng: Rng, where = 'randomKernel'): tf.Tensor {
  const [groups, count, features] = filterRowsShape(kernel.shape, kernel.layout, kernel.layout === 'conv' ? kernel.groups : 1);
  if ((kernel.layout === 'dense' || kernel.layout === 'conv') && groups === 1) {
    const matrix = randomMatrix(method, features, count, rng.derive(`${method}-0`), where);
    if (kernel.layout === 'dense') return matrix;
    try {
      return tf.reshape(matrix, kernel.shape);
    } finally {
      matrix.dispose();
    }
  }
  const rows = randomFilters(method, groups, count, features, rng, where);
  try {
    return filterRowsToKernel(rows, kernel.layout, kernel.shape);
  } finally {
    rows.dispose();
  }
}
