/**
 * The per-channel affine map z' = z·s + b of the within-layer normalization (s_i = 1/σ_i,
 * b_i = β − μ_i/σ_i), applied to a cached pre-activation ([…, C], channels last). On wasm with
 * the OpenBLAS addon the `DdinitChannelAffine` kernel makes it one C pass over the heap, the
 * product rounded before the sum as tfjs's mul and add round it, so both routes give the same
 * floats; elsewhere {@link channelAffine} runs those two ops. CaffeNet's conv1 pre-activation on
 * 160 images is 46.5 M values. This module imports only tfjs, so libraries use it without
 * choosing a backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The kernel's name: inputs `x` ([…, C] float32), `scale` and `shift` ([C]), output float32 like x. */
export const CHANNEL_AFFINE = 'DdinitChannelAffine';

/**
 * x·scale + shift along the last axis (x float32 [..., C], scale and shift [C]; none disposed);
 * the caller owns the result.
 * @example const normalized = channelAffine(z, tf.tensor1d(inverseStd), tf.tensor1d(bias));
 */
export function channelAffine(x: tf.Tensor, scale: tf.Tensor1D, shift: tf.Tensor1D): tf.Tensor {
  if (x.dtype === 'float32' && x.rank >= 1 && tf.getKernel(CHANNEL_AFFINE, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(CHANNEL_AFFINE, { x, scale, shift }, {}) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(tf.mul(x, scale), shift));
}
