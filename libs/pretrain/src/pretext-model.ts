/**
 * A trunk with a pretext head: the trunk up to its feature layer, global average
 * pooling when that output is spatial, then one dense layer with a logit per
 * pretext class. The trunk's layers (and weights) are shared, not copied, so
 * training the pretext model trains the trunk; `trunkOf` gives it back without
 * the head.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng } from '@ddinit/core';

export interface PretextHeadOptions {
  /** Name of the trunk layer whose output feeds the head (default: the trunk's output). */
  featureLayer?: string;
  classes: number;
  seed: number;
}

export const PRETEXT_HEAD_NAME = 'pretext_logits';

/**
 * @throws ConfigError when `featureLayer` is not a layer of the trunk (naming the layers).
 */
export function withPretextHead(trunk: tf.LayersModel, options: PretextHeadOptions): tf.LayersModel {
  const feature = featureOutput(trunk, options.featureLayer);
  const rank = feature.shape.length;
  let x: tf.SymbolicTensor = feature;
  if (rank === 4) x = tf.layers.globalAveragePooling2d({ name: 'pretext_pool' }).apply(x) as tf.SymbolicTensor;
  else if (rank !== 2) x = tf.layers.flatten({ name: 'pretext_flatten' }).apply(x) as tf.SymbolicTensor;
  const seed = Rng.fromSeed(options.seed).derive('pretext-head').nextSeed();
  const logits = tf.layers
    .dense({ name: PRETEXT_HEAD_NAME, units: options.classes, kernelInitializer: tf.initializers.glorotUniform({ seed }) })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: trunk.inputs, outputs: logits, name: `${trunk.name}_pretext` });
}

/** The trunk's layer output the head reads. */
export function featureOutput(trunk: tf.LayersModel, featureLayer: string | undefined): tf.SymbolicTensor {
  if (featureLayer === undefined) return trunk.outputs[0];
  const layer = trunk.layers.find((l) => l.name === featureLayer);
  if (layer === undefined) {
    throw new ConfigError('no such layer in the trunk for the pretext head', {
      where: 'featureLayer',
      expected: `one of ${trunk.layers.map((l) => l.name).join(', ')}`,
      actual: featureLayer,
    });
  }
  return layer.output as tf.SymbolicTensor;
}

/** The trunk without the head: its inputs to `featureLayer` (or its output), sharing the trained weights. */
export function trunkOf(trunk: tf.LayersModel, featureLayer?: string): tf.LayersModel {
  return tf.model({ inputs: trunk.inputs, outputs: featureOutput(trunk, featureLayer), name: `${trunk.name}_trunk` });
}
