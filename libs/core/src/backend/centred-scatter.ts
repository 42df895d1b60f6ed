/**
 * The centred scatter of a block of patch rows, the product at the heart of the streamed
 * covariance (../linalg/covariance.ts): for rows X ([n, F]) and a shift s ([F]),
 *
 *   m = (Σ_r (x_r − s))/n,   S = Σ_r (x_r − s − m)(x_r − s − m)ᵀ   ([F], [F, F])
 *
 * On wasm with the OpenBLAS addon the `DdinitCentredScatter` kernel computes both in one call
 * (m summed in double, S by ssyrk: half the flops of the general product tfjs's matMul runs,
 * and no tfjs elementwise passes); elsewhere {@link centredScatter} returns undefined and the
 * caller runs its tfjs ops. This module imports only tfjs, so libraries use it without
 * choosing a backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The kernel's name: inputs `x` ([n, F], n ≥ 1) and `shift` ([F]), outputs float32 m ([F]) and S ([F, F]). */
export const CENTRED_SCATTER = 'DdinitCentredScatter';

/**
 * [m, S] of `x` (float32 [n, F], n ≥ 1) shifted by `shift` ([F]); the caller owns both. Undefined
 * when the active backend has no such kernel (then nothing is allocated).
 * @example
 * const pair = centredScatter(block, firstRow); // [mean [363], scatter [363, 363]] on the addon
 */
export function centredScatter(x: tf.Tensor2D, shift: tf.Tensor1D): [tf.Tensor1D, tf.Tensor2D] | undefined {
  if (x.dtype !== 'float32' || x.shape[0] === 0 || tf.getKernel(CENTRED_SCATTER, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(CENTRED_SCATTER, { x, shift }, {}) as unknown as [tf.Tensor1D, tf.Tensor2D];
}
