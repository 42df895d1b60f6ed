/**
 * Per-channel mean and population standard deviation of a channels-last tensor over
 * every other axis (batch × height × width), in float64: Z_k(i) of docs/method.md#normalization.
 *
 * Sums are taken in float64 after shifting each channel by its first value, so a large
 * mean or half a million positions cost no precision (a float32 reduction over 160·55·55
 * values could be off by ~1e-3 relative). @ddinit/core's `tensorChannelMoments` does it in
 * place in the wasm heap (in C with the native addon) instead of copying the tensor out.
 */
import type * as tf from '@tensorflow/tfjs';
import { momentsOfValues, tensorChannelMoments, type ChannelMoments } from '@ddinit/core';

export type { ChannelMoments };

/**
 * Moments of `z` ([..., C], not disposed) per channel.
 *
 * @throws ShapeError for a scalar or an empty tensor.
 * @example
 * const { mean, std } = channelMoments(run.preActivation('conv1')); // length 96
 */
export function channelMoments(z: tf.Tensor, where = 'channelMoments'): ChannelMoments {
  return tensorChannelMoments(z, where);
}

/** Moments of channels-last values `data` with `channels` channels. */
export function momentsOf(data: Float32Array, channels: number): ChannelMoments {
  return momentsOfValues(data, channels);
}

/** Channel averages and worst deviations of moments from (β, 1). */
export function summarizeMoments(m: ChannelMoments, beta: number): { mean: number; std: number; worstMeanDeviation: number; worstStdDeviation: number } {
  let mean = 0;
  let std = 0;
  let worstMeanDeviation = 0;
  let worstStdDeviation = 0;
  const c = m.mean.length;
  for (let i = 0; i < c; i++) {
    mean += m.mean[i] / c;
    std += m.std[i] / c;
    worstMeanDeviation = Math.max(worstMeanDeviation, Math.abs(m.mean[i] - beta));
    worstStdDeviation = Math.max(worstStdDeviation, Math.abs(m.std[i] - 1));
  }
  return { mean, std, worstMeanDeviation, worstStdDeviation };
}
