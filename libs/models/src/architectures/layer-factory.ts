/**
 * Layer constructors for the reference architectures: every random initializer
 * and dropout mask gets the seed {@link layerSeed} derives from the run seed and
 * the layer's name. Kernels start He-normal (He et al. 2015, σ = sqrt(2 / fan_in),
 * truncated) or, with `initialWeights: 'zeros'`, at zero; biases at zero; the
 * data-dependent initializers replace both.
 */
import * as tf from '@tensorflow/tfjs';
import { GroupedConv2D } from '../layers/grouped-conv2d';
import type { PaddingMode } from '../layers/conv-geometry';
import type { Initializer } from '../layers/registered-objects';
import { layerSeed } from './layer-seed';
import type { InitialWeights } from './option-schemas';

/** The kernel initializer of layer `name`: seeded He-normal, or zeros (nothing drawn). */
function kernelInitializer(seed: number, name: string, initialWeights: InitialWeights): Initializer {
  return initialWeights === 'zeros' ? tf.initializers.zeros() : tf.initializers.heNormal({ seed: layerSeed(seed, name) });
}

export interface ConvSpec {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: PaddingMode;
  /** Channel groups (a {@link GroupedConv2D} when > 1). Default 1. */
  groups?: number;
  /** Fused activation. Default `relu`. */
  activation?: 'relu' | 'linear';
  useBias?: boolean;
}

/** A seeded convolution: tfjs Conv2D, or GroupedConv2D when `groups > 1`. */
export function seededConv(seed: number, name: string, spec: ConvSpec, initialWeights: InitialWeights = 'heNormal'): tf.layers.Layer {
  const common = {
    name,
    filters: spec.filters,
    kernelSize: spec.kernelSize,
    strides: spec.strides ?? 1,
    padding: spec.padding ?? 'same',
    activation: spec.activation ?? 'relu',
    useBias: spec.useBias ?? true,
    kernelInitializer: kernelInitializer(seed, name, initialWeights),
    biasInitializer: tf.initializers.zeros(),
  };
  const groups = spec.groups ?? 1;
  return groups > 1 ? new GroupedConv2D({ ...common, groups }) : tf.layers.conv2d(common);
}

/** A seeded dense layer. */
export function seededDense(
  seed: number,
  name: string,
  units: number,
  activation: 'relu' | 'linear',
  initialWeights: InitialWeights = 'heNormal',
): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units,
    activation,
    kernelInitializer: kernelInitializer(seed, name, initialWeights),
    biasInitializer: tf.initializers.zeros(),
  });
}

/** A dropout layer whose mask (in training) is seeded. */
export function seededDropout(seed: number, name: string, rate: number): tf.layers.Layer {
  return tf.layers.dropout({ name, rate, seed: layerSeed(seed, name) });
}
