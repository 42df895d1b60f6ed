/**
 * Pooling a feature map to a fixed size, the first step of a linear probe.
 *
 * Adaptive pooling of an H×W map to h×w cells (PyTorch's AdaptiveAvgPool2d /
 * AdaptiveMaxPool2d bins): cell (i, j) covers rows ⌊iH/h⌋ … ⌈(i+1)H/h⌉ − 1 and
 * columns ⌊jW/w⌋ … ⌈(j+1)W/w⌉ − 1, and holds their mean or maximum per channel.
 * Both are separable over rows and columns (a rectangle's mean is the mean of
 * its row means; likewise the maximum), so the map is pooled one axis at a time.
 *
 * The size: the usual self-supervised protocol (Zhang et al., split-brain
 * autoencoders, CVPR 2017) pools each CaffeNet layer at 227×227 input to about
 * 9,000 values — conv1 96·10², conv2 256·6², conv3/4 384·5², conv5 256·6². The
 * rule here reproduces exactly those sizes: a square side t = round(√(budget / C)),
 * at least 1 and at most the map's own size.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

export type PoolingMode = 'average' | 'max';

/** Values per layer of the protocol at 227×227 input. */
export const PROTOCOL_POOL_BUDGET = 9000;
/** Input side of that protocol. */
export const PROTOCOL_INPUT_SIDE = 227;

/**
 * The default budget for a smaller input: 9,000 · min(1, S / 227), S the
 * smaller input side — linear in the side (28 px: 1,110 values), not in the
 * area (which would leave 137 values at 28 px, fewer than conv1's channels):
 * our choice for small images, not the protocol's.
 */
export function defaultPoolBudget(inputHeight: number, inputWidth: number): number {
  return Math.round(PROTOCOL_POOL_BUDGET * Math.min(1, Math.min(inputHeight, inputWidth) / PROTOCOL_INPUT_SIDE));
}

/** The pooled cells h×w of an H×W×C map under `budget` values: t = clamp(round(√(budget / C)), 1, H or W). */
export function pooledSize(height: number, width: number, channels: number, budget: number): [number, number] {
  if (!(budget >= 1)) throw new ConfigError('the pooling budget must be at least one value per layer', { where: 'poolBudget', actual: budget });
  const side = Math.max(1, Math.round(Math.sqrt(budget / channels)));
  return [Math.min(height, side), Math.min(width, side)];
}

/** Pools `x` along `axis` (1: rows, 2: columns) into `cells` adaptive bins. */
function poolAxis(x: tf.Tensor4D, axis: 1 | 2, cells: number, mode: PoolingMode): tf.Tensor4D {
  const length = x.shape[axis];
  if (cells === length) return x.clone();
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < cells; i++) {
      const start = Math.floor((i * length) / cells);
      const end = Math.ceil(((i + 1) * length) / cells);
      const begin: [number, number, number, number] = [0, 0, 0, 0];
      const size: [number, number, number, number] = [-1, -1, -1, -1];
      begin[axis] = start;
      size[axis] = end - start;
      const bin = tf.slice(x, begin, size);
      parts.push(mode === 'average' ? tf.mean(bin, axis, true) : tf.max(bin, axis, true));
    }
    return tf.concat(parts, axis);
  });
}

/**
 * Adaptive pooling of NHWC maps to `[n, cells[0], cells[1], c]`.
 * @example adaptivePool2d(tf.zeros([2, 55, 55, 96]), [10, 10], 'average').shape // [2, 10, 10, 96]
 */
export function adaptivePool2d(x: tf.Tensor4D, cells: [number, number], mode: PoolingMode): tf.Tensor4D {
  return tf.tidy(() => {
    const rows = poolAxis(x, 1, cells[0], mode);
    return poolAxis(rows, 2, cells[1], mode);
  });
}
