/**
 * Data-free baseline initializations, the reference points the paper compares
 * against (docs/method.md#random-sources): every kernel of every parameter layer
 * redrawn from a fixed distribution, biases 0, batch-norm layers reset to the
 * identity (γ = 1, β = 0, moving mean 0, moving variance 1). Seeded: one stream
 * per layer and weight, derived from the run seed, so a layer's draw does not
 * depend on the other layers.
 *
 * Fans are the ones tfjs (and Keras) use for its own initializers: a kernel of
 * shape [..., in, out] with receptive field r = product of the leading dims has
 * fan_in = r·in and fan_out = r·out (a dense kernel [in, out]: r = 1).
 *
 * - `glorot-uniform` (tfjs's default, Glorot & Bengio 2010): W ~ U(−a, a),
 *   a = √(6 / (fan_in + fan_out)), so std = √(2 / (fan_in + fan_out)).
 * - `he-normal` (He et al. 2015): W ~ N(0, 2 / fan_in), std = √(2 / fan_in)
 *   (an untruncated normal, as in the paper; tfjs's heNormal truncates at 2σ).
 * - `gaussian-0.01` (old Caffe's `gaussian` filler, std 0.01): W ~ N(0, 0.01²).
 * - `orthogonal` (Saxe et al. 2014, gain 1): the kernel read as the matrix
 *   M = [r·in, out] (Keras's and tfjs's reshape: every dim but the last as rows) is
 *   orthonormal along its shorter side, MᵀM = I when out ≤ r·in, MMᵀ = I otherwise.
 *   Its Frobenius norm² is min(r·in, out) over r·in·out entries, so
 *   std = 1/√max(r·in, out).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, orthonormalDraw } from '@ddinit/core';
import { parameterLayers, writeWeight, type WeightRole } from '@ddinit/models';

import { BASELINE_METHODS, type BaselineMethod } from './within-layer-options';

export { BASELINE_METHODS, type BaselineMethod };

/** Caffe's `gaussian` filler std of the reference CaffeNet prototxt. */
export const CAFFE_GAUSSIAN_STD = 0.01;

/** fan_in and fan_out of a kernel shape, as tfjs computes them. */
export function kernelFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: receptive * shape[shape.length - 2], fanOut: receptive * shape[shape.length - 1] };
}

/** The matrix an orthogonal kernel of `shape` is orthonormal as: [product of all dims but the last, last dim]. */
export function orthogonalMatrixShape(shape: readonly number[]): [number, number] {
  const cols = shape[shape.length - 1] ?? 1;
  return [shape.slice(0, -1).reduce((a, b) => a * b, 1), cols];
}

/** The standard deviation `method` gives a kernel of `shape` (the formulas of the module doc). */
export function baselineStd(method: BaselineMethod, shape: readonly number[]): number {
  const { fanIn, fanOut } = kernelFans(shape);
  if (method === 'glorot-uniform') return Math.sqrt(2 / (fanIn + fanOut));
  if (method === 'he-normal') return Math.sqrt(2 / fanIn);
  if (method === 'orthogonal') return 1 / Math.sqrt(Math.max(...orthogonalMatrixShape(shape)));
  return CAFFE_GAUSSIAN_STD;
}

/** A fresh kernel of `shape` drawn by `method` with the integer `seed`; the caller owns it. */
export function baselineKernel(method: BaselineMethod, shape: readonly number[], seed: number, where = 'baselineKernel'): tf.Tensor {
  if (method === 'orthogonal') {
    const matrix = orthonormalDraw(...orthogonalMatrixShape(shape), seed, where);
    try {
      return tf.reshape(matrix, [...shape]);
    } finally {
      matrix.dispose();
    }
  }
  const std = baselineStd(method, shape);
  // U(−a, a) has std a/√3.
  if (method === 'glorot-uniform') return tf.randomUniform([...shape], -std * Math.sqrt(3), std * Math.sqrt(3), 'float32', seed);
  return tf.randomNormal([...shape], 0, std, 'float32', seed);
}

const KERNEL_ROLES: ReadonlySet<WeightRole> = new Set(['kernel', 'depthwiseKernel', 'pointwiseKernel']);
const ONE_ROLES: ReadonlySet<WeightRole> = new Set(['gamma', 'movingVariance']);

/** What the baseline wrote, per parameter layer (for logs and reports). */
export interface BaselineLayer {
  name: string;
  /** The std of each kernel drawn (formula value), in the layer's weight order. */
  kernelStds: number[];
}

/**
 * Overwrites every weight of `model`'s parameter layers with the baseline
 * `method` (seeded by `seed`; seed 0 is a seed like any other here, the
 * per-layer streams are derived from it).
 * @example
 * const layers = initializeBaseline(model, 'he-normal', 1); // [{ name: 'conv1', kernelStds: [0.09] }, …]
 */
export function initializeBaseline(model: tf.LayersModel, method: BaselineMethod, seed: number): BaselineLayer[] {
  const root = Rng.fromSeed(seed).derive(`baseline-${method}`);
  return parameterLayers(model).map((layer) => {
    const kernelStds: number[] = [];
    for (const { role, shape } of layer.weights) {
      const value = tf.tidy(() => {
        if (KERNEL_ROLES.has(role)) {
          kernelStds.push(baselineStd(method, shape));
          return baselineKernel(method, shape, root.derive(`${layer.name}/${role}`).nextSeed(), `layer ${layer.name} ${role}`);
        }
        return ONE_ROLES.has(role) ? tf.ones(shape) : tf.zeros(shape);
      });
      writeWeight(layer, role, value);
      value.dispose();
    }
    return { name: layer.name, kernelStds };
  });
}
