/**
 * Reading and writing one weight of one layer, by role (`kernel`, `bias`, …),
 * with shape checks.
 *
 * Ownership, avoiding tfjs's traps: `layer.getWeights()` returns the layer's live
 * tensors (disposing them breaks the model), and `setWeights` disposes nothing
 * the caller passes. Here `readWeight` returns a copy the caller owns and must
 * dispose; `writeWeight` copies the value into the layer's variable and leaves
 * the caller's tensor alone (the caller still disposes it).
 *
 * @example
 * const kernel = readKernel(layer);              // [kh, kw, cin/groups, cout], caller owns
 * const scaled = tf.tidy(() => tf.mul(kernel, 2));
 * writeKernel(layer, scaled);
 * tf.dispose([kernel, scaled]);
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import { roleOfVariable, type ParameterLayer, type WeightRole } from './parameter-layers';

/** A layer, or the description of one from {@link parameterLayers} (whose qualified name errors then use). */
export type LayerTarget = tf.layers.Layer | ParameterLayer;

function resolve(target: LayerTarget): { layer: tf.layers.Layer; where: string } {
  return target instanceof tf.layers.Layer ? { layer: target, where: `layer ${target.name}` } : { layer: target.layer, where: `layer ${target.name}` };
}

/**
 * The live variable holding `role` of the layer (not a copy: read it, never dispose it).
 *
 * @throws ConfigError when the layer has no such weight; the message lists the roles it has.
 */
export function weightVariable(target: LayerTarget, role: WeightRole): tf.LayerVariable {
  const { layer, where } = resolve(target);
  const variable = layer.weights.find((v) => roleOfVariable(layer, v) === role);
  if (variable === undefined) {
    throw new ConfigError(`the layer has no ${role}`, {
      where,
      expected: `one of ${layer.weights.map((v) => roleOfVariable(layer, v) ?? v.originalName).join(', ') || '(no weights)'}`,
      actual: role,
    });
  }
  return variable;
}

/** True when the layer has a weight with this role (e.g. a bias). */
export function hasWeight(target: LayerTarget, role: WeightRole): boolean {
  const { layer } = resolve(target);
  return layer.weights.some((v) => roleOfVariable(layer, v) === role);
}

/**
 * A copy of the layer's `role` weight; the caller owns and disposes it.
 *
 * @throws ConfigError when the layer has no such weight.
 */
export function readWeight(target: LayerTarget, role: WeightRole): tf.Tensor {
  return tf.clone(weightVariable(target, role).read());
}

/**
 * Sets the layer's `role` weight to `value` (copied; `value` stays the caller's).
 *
 * @throws ShapeError when `value` has a different shape than the weight (the
 *   message names the layer and both shapes) or is not float32; ConfigError when
 *   the layer has no such weight.
 */
export function writeWeight(target: LayerTarget, role: WeightRole, value: tf.Tensor): void {
  const { where } = resolve(target);
  const variable = weightVariable(target, role);
  const expected = variable.shape as number[];
  if (value.rank !== expected.length || value.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${role} shape does not match the layer`, { where, expected, actual: value.shape });
  }
  if (value.dtype !== variable.dtype) {
    throw new ShapeError(`${role} dtype does not match the layer`, { where, expected: variable.dtype, actual: value.dtype });
  }
  variable.write(value);
}

/** {@link readWeight} of the `kernel` (layout: `ParameterLayer.kernelLayout`). */
export function readKernel(target: LayerTarget): tf.Tensor {
  return readWeight(target, 'kernel');
}

/** {@link writeWeight} of the `kernel`. */
export function writeKernel(target: LayerTarget, value: tf.Tensor): void {
  writeWeight(target, 'kernel', value);
}

/** {@link readWeight} of the `bias` `[outputChannels]`. */
export function readBias(target: LayerTarget): tf.Tensor1D {
  return readWeight(target, 'bias') as tf.Tensor1D;
}

/** {@link writeWeight} of the `bias`. */
export function writeBias(target: LayerTarget, value: tf.Tensor): void {
  writeWeight(target, 'bias', value);
}
