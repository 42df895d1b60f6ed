/**
 * Small models of every topology the adapter must handle, for specs here and in
 * the initializer libraries: a Sequential chain, a residual (Add) network, a
 * branch-and-Concat network and a model with nested submodels. Seeded weights
 * and non-zero biases (so that a forgotten bias shows).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { layerSeed } from '../architectures/layer-seed';
import { GroupedConv2D } from '../layers/grouped-conv2d';

export const FIXTURE_NAMES = ['sequential', 'residual', 'branch-concat', 'nested'] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

/** Input shape (one example) of each fixture. */
export const FIXTURE_INPUT_SHAPES: Record<FixtureName, [number, number, number]> = {
  sequential: [10, 10, 3],
  residual: [8, 8, 4],
  'branch-concat': [8, 8, 4],
  nested: [8, 8, 3],
};

function init(
  seed: number,
  name: string,
): { kernelInitializer: ReturnType<typeof tf.initializers.zeros>; biasInitializer: ReturnType<typeof tf.initializers.zeros> } {
  return {
    kernelInitializer: tf.initializers.heNormal({ seed: layerSeed(seed, name) }),
    biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: layerSeed(seed, `${name}/bias`) }),
  };
}

type Conv = { filters: number; kernelSize: number; padding?: 'same' | 'valid'; activation?: 'relu' | 'linear'; strides?: number };

function conv(seed: number, name: string, spec: Conv): tf.layers.Layer {
  return tf.layers.conv2d({ name, padding: 'same', activation: 'linear', ...spec, ...init(seed, name) });
}

function dense(seed: number, name: string, units: number, activation: 'relu' | 'linear' = 'linear'): tf.layers.Layer {
  return tf.layers.dense({ name, units, activation, ...init(seed, name) });
}

function sym(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

/** conv1 (relu fused) → pool1 → conv2 → relu2 (layer) → flatten → fc1 (relu) → drop1 → fc2, as tf.sequential. */
function sequential(seed: number): tf.LayersModel {
  return tf.sequential({
    name: 'sequential-fixture',
    layers: [
      tf.layers.conv2d({
        name: 'conv1',
        inputShape: FIXTURE_INPUT_SHAPES.sequential,
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        ...init(seed, 'conv1'),
      }),
      tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      conv(seed, 'conv2', { filters: 8, kernelSize: 3, padding: 'valid' }),
      tf.layers.activation({ name: 'relu2', activation: 'relu' }),
      tf.layers.flatten({ name: 'flatten' }),
      dense(seed, 'fc1', 16, 'relu'),
      tf.layers.dropout({ name: 'drop1', rate: 0.5, seed: layerSeed(seed, 'drop1') }),
      dense(seed, 'fc2', 4),
    ],
  });
}

/** conv1 (relu) → conv2, plus proj(input); add1 → relu1 → conv3 (relu); add2 with relu1 (identity) → gap → fc. */
function residual(seed: number): tf.LayersModel {
  const input = tf.input({ shape: FIXTURE_INPUT_SHAPES.residual, name: 'input' });
  const a = sym(conv(seed, 'conv1', { filters: 8, kernelSize: 3, activation: 'relu' }), input);
  const b = sym(conv(seed, 'conv2', { filters: 8, kernelSize: 3 }), a);
  const proj = sym(conv(seed, 'proj', { filters: 8, kernelSize: 1 }), input);
  const r1 = sym(tf.layers.reLU({ name: 'relu1' }), sym(tf.layers.add({ name: 'add1' }), [b, proj]));
  const c = sym(conv(seed, 'conv3', { filters: 8, kernelSize: 3, activation: 'relu' }), r1);
  const r2 = sym(tf.layers.add({ name: 'add2' }), [c, r1]);
  const out = sym(dense(seed, 'fc', 3), sym(tf.layers.globalAveragePooling2d({ name: 'gap' }), r2));
  return tf.model({ inputs: input, outputs: out, name: 'residual-fixture' });
}

/** branch1 1×1 (relu), branch2 3×3 (relu), branch3 max-pool; concat → mix (grouped conv, 2 groups) → gap → fc. */
function branchConcat(seed: number): tf.LayersModel {
  const input = tf.input({ shape: FIXTURE_INPUT_SHAPES['branch-concat'], name: 'input' });
  const b1 = sym(conv(seed, 'branch1', { filters: 4, kernelSize: 1, activation: 'relu' }), input);
  const b2 = sym(conv(seed, 'branch2', { filters: 6, kernelSize: 3, activation: 'relu' }), input);
  const b3 = sym(tf.layers.maxPooling2d({ name: 'branch3', poolSize: 3, strides: 1, padding: 'same' }), input);
  const cat = sym(tf.layers.concatenate({ name: 'concat', axis: -1 }), [b1, b2, b3]);
  const mix = sym(new GroupedConv2D({ name: 'mix', filters: 6, kernelSize: 3, padding: 'same', groups: 2, activation: 'relu', ...init(seed, 'mix') }), cat);
  const out = sym(dense(seed, 'fc', 3), sym(tf.layers.globalAveragePooling2d({ name: 'gap' }), mix));
  return tf.model({ inputs: input, outputs: out, name: 'branch-concat-fixture' });
}

/** stem → block (Sequential: conv (relu) → bn) → head (functional: flatten → fc). */
function nested(seed: number): tf.LayersModel {
  const block = tf.sequential({
    name: 'block',
    layers: [
      tf.layers.conv2d({
        name: 'conv',
        inputShape: [8, 8, 4],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        ...init(seed, 'block/conv'),
      }),
      tf.layers.batchNormalization({ name: 'bn', movingMeanInitializer: 'ones', movingVarianceInitializer: tf.initializers.constant({ value: 4 }) }),
    ],
  });
  const headInput = tf.input({ shape: [4, 4, 4], name: 'head_input' });
  const head = tf.model({ name: 'head', inputs: headInput, outputs: sym(dense(seed, 'fc', 2), sym(tf.layers.flatten({ name: 'flatten' }), headInput)) });
  const input = tf.input({ shape: FIXTURE_INPUT_SHAPES.nested, name: 'input' });
  const stem = sym(conv(seed, 'stem', { filters: 4, kernelSize: 3 }), input);
  return tf.model({ inputs: input, outputs: sym(head, sym(block, stem)), name: 'nested-fixture' });
}

/**
 * A small seeded model of the named topology (see each builder for its layers).
 *
 * @throws ConfigError for an unknown name.
 */
export function buildFixtureModel(name: FixtureName, seed = 0): tf.LayersModel {
  switch (name) {
    case 'sequential':
      return sequential(seed);
    case 'residual':
      return residual(seed);
    case 'branch-concat':
      return branchConcat(seed);
    case 'nested':
      return nested(seed);
    default:
      throw new ConfigError('unknown fixture model', { where: 'fixture', expected: `one of ${FIXTURE_NAMES.join(', ')}`, actual: name });
  }
}
