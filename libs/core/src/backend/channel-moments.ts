/**
 * Per-channel mean and population std of a channels-last tensor over every other axis,
 * in float64: the within-layer normalization's μ_i and σ_i (docs/method.md#normalization).
 *
 * Each channel is shifted by its first value and summed in float64 in row order
 * ({@link momentsOfValues}), so a large mean or half a million positions cost no precision
 * (a float32 reduction over 160·55·55 values could be off by ~1e-3 relative). On wasm the
 * `DdinitChannelMoments` kernel (registered by `@ddinit/core/backend`) reads the tensor in
 * place in the heap — in C on the OpenBLAS addon when it is built — instead of copying it
 * out with `dataSync` (CaffeNet's conv1 on 160 images: 46.5 M values, twice per layer).
 * The kernel returns each float64 as a float32 pair hi + lo (≈ 2⁻⁴⁸ relative). This module
 * imports only tfjs, so libraries use it without choosing a backend.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../errors';

/** The kernel's name: input `x` ([…, C] float32), output float32 [4, C] = [μ hi; μ lo; σ hi; σ lo]. */
export const CHANNEL_MOMENTS = 'DdinitChannelMoments';

export interface ChannelMoments {
  /** μ_i, length C. */
  mean: Float64Array;
  /** σ_i (population), length C. */
  std: Float64Array;
  /** Values per channel. */
  count: number;
}

/**
 * Moments of the `length` channels-last values of `view` from `start`, `channels` per row:
 * d = x − x₀ (x₀ the channel's first value), μ = x₀ + Σd/n, σ = √max(Σd²/n − (Σd/n)², 0),
 * every sum in float64 in row order (the native kernel's arithmetic, moments.h).
 */
export function momentsOfValues(view: Float32Array, channels: number, start = 0, length = view.length - start): ChannelMoments {
  const count = length / channels;
  const shift = Float64Array.from(view.subarray(start, start + channels));
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let o = start; o < start + length; o += channels) {
    for (let i = 0; i < channels; i++) {
      const d = view[o + i] - shift[i];
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

/** The float64 values of row pairs (hi, lo) `row` of the kernel's [4, C] output: hi + lo, or hi where it is not finite. */
function recombined(out: Float32Array, pair: number, channels: number): Float64Array {
  return Float64Array.from({ length: channels }, (_, i) => {
    const hi = out[2 * pair * channels + i];
    return Number.isFinite(hi) ? hi + out[(2 * pair + 1) * channels + i] : hi;
  });
}

/**
 * Moments of `z` ([..., C], not disposed) per channel: through the `DdinitChannelMoments`
 * kernel when the active backend has it, else from `dataSync` in JavaScript (same arithmetic).
 *
 * @throws ShapeError for a scalar or an empty tensor.
 * @example
 * const { mean, std } = tensorChannelMoments(run.preActivation('conv1')); // length 96
 */
export function tensorChannelMoments(z: tf.Tensor, where = 'channel moments'): ChannelMoments {
  if (z.rank < 1 || z.size === 0) throw new ShapeError('need a non-empty tensor with a channel axis', { where, actual: z.shape });
  const channels = z.shape[z.rank - 1];
  if (z.dtype !== 'float32' || tf.getKernel(CHANNEL_MOMENTS, tf.getBackend()) === undefined) {
    return momentsOfValues(z.dataSync() as Float32Array, channels);
  }
  const out = tf.engine().runKernel(CHANNEL_MOMENTS, { x: z }, {}) as tf.Tensor;
  try {
    const values = out.dataSync() as Float32Array;
    return { mean: recombined(values, 0, channels), std: recombined(values, 1, channels), count: z.size / channels };
  } finally {
    out.dispose();
  }
}
