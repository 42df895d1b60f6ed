/**
 * The k-means filter recipe (Krähenbühl et al. 2016, §3.1; docs/method.md#kmeans) and
 * its no-clustering baseline, `patches`. Both work in the whitened space of one group's
 * patch rows X ([n, F]) with mean μ, top eigenpairs V and whitening factors S:
 *
 *   1. whiten:       Ỹ = (X − μ)·V·S
 *   2. unit length:  y_i = ỹ_i / ‖ỹ_i‖        (k-means then clusters directions, not contrast)
 *   3. cluster:      N centres c_k of the rows y_i (k-means++ seeding; Lloyd or mini-batch);
 *                    `patches` takes N distinct random rows instead
 *   4. filters:      w_k = c_k·S·Vᵀ, so w_k·(x − μ) = c_k·ỹ: the filter responds to a
 *                    centred patch as its centre does to the whitened patch.
 */
import * as tf from '@tensorflow/tfjs';
import {
  kmeans,
  projectWhitened,
  whitenedToFilters,
  type Eigenpairs,
  type KMeansAlgorithm,
  type Observers,
  type Rng,
  type WhiteningOptions,
} from '@ddinit/core';

export interface KmeansFilterOptions extends Observers {
  whitening: WhiteningOptions;
  kmeans: { algorithm: KMeansAlgorithm; maxIterations: number; batchSize: number };
  /** Names the layer and group in errors and logs. */
  where: string;
}

/** Steps 1–2: the patch rows whitened and scaled to unit length ([n, N]; zero rows stay zero). */
export function unitWhitenedRows(x: tf.Tensor2D, mean: ArrayLike<number>, eigen: Eigenpairs, whitening: WhiteningOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const projected = projectWhitened(x, eigen, { ...whitening, mean });
    return tf.div(projected, tf.maximum(tf.norm(projected, 'euclidean', 1, true), 1e-12));
  });
}

/**
 * `count` k-means filters ([count, F]) from the patch rows `x` ([n, F], not disposed).
 * @throws the errors of @ddinit/core's kmeans (DataError for fewer rows than centres,
 *   NumericalError on NaN/Inf rows).
 */
export async function kmeansFilters(
  x: tf.Tensor2D,
  mean: ArrayLike<number>,
  eigen: Eigenpairs,
  count: number,
  rng: Rng,
  options: KmeansFilterOptions,
): Promise<tf.Tensor2D> {
  const y = unitWhitenedRows(x, mean, eigen, options.whitening);
  try {
    const result = await kmeans(y, count, {
      seed: rng.derive('kmeans'),
      algorithm: options.kmeans.algorithm,
      maxIterations: options.kmeans.maxIterations,
      batchSize: options.kmeans.batchSize,
      where: options.where,
      logger: options.logger,
    });
    try {
      return whitenedToFilters(result.centres, eigen, options.whitening);
    } finally {
      result.centres.dispose();
    }
  } finally {
    y.dispose();
  }
}

/** `count` filters ([count, F]) from distinct random unit-length whitened patch rows (n ≥ count). */
export function patchFilters(x: tf.Tensor2D, mean: ArrayLike<number>, eigen: Eigenpairs, count: number, rng: Rng, whitening: WhiteningOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const y = unitWhitenedRows(x, mean, eigen, whitening);
    const picked = rng.derive('patches').sampleWithoutReplacement(y.shape[0], count);
    return whitenedToFilters(tf.gather(y, picked) as tf.Tensor2D, eigen, whitening);
  });
}
