/**
 * Per-channel mean and population standard deviation of a channels-last tensor over
 * every other axis (batch × height × width), in float64: Z_k(i) of docs/method.md#normalization.
 *
 * Sums are taken in float64 in JavaScript after shifting each channel by its first
 * value, so a large mean or half a million positions cost no precision (a float32
 * reduction over 160·55·55 values could be off by ~1e-3 relative).
 */
import type * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@ddinit/core';

export interface ChannelMoments {
  /** μ_i, length C. */
  mean: Float64Array;
  /** σ_i (population), length C. */
  std: Float64Array;
  /** Values per channel. */
  count: number;
}

/**
 * Moments of `z` ([..., C], not disposed) per channel.
 *
 * @throws ShapeError for a scalar or an empty tensor.
 * @example
 * const { mean, std } = channelMoments(run.preActivation('conv1')); // length 96
 */
export function channelMoments(z: tf.Tensor, where = 'channelMoments'): ChannelMoments {
  if (z.rank < 1 || z.size === 0) throw new ShapeError('need a non-empty tensor with a channel axis', { where, actual: z.shape });
  const c = z.shape[z.rank - 1];
  const data = z.dataSync() as Float32Array;
  return momentsOf(data, c);
}

/** Moments of channels-last values `data` with `channels` channels. */
export function momentsOf(data: Float32Array, channels: number): ChannelMoments {
  const count = data.length / channels;
  const shift = Float64Array.from(data.subarray(0, channels));
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let o = 0; o < data.length; o += channels) {
    for (let i = 0; i < channels; i++) {
      const d = data[o + i] - shift[i];
      sum[i] += d;
      squares[i] += d * d;
    }
  }
  const mean = new Float64Array(channels);
  const std = new Float64Array(channels);
  for (let i = 0; i < channels; i++) {
    const m = sum[i] / count;
    mean[i] = shift[i] + m;
    std[i] = Math.sqrt(Math.max(squares[i] / count - m * m, 0));
  }
  return { mean, std, count };
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
