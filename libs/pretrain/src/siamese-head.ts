/**
 * The siamese head of the patch tasks. The model's input is the batch of all
 * patches, 9 per image in a fixed order; the trunk (shared weights: it is one
 * graph) sees every patch once, and a grouping layer regroups the 9 feature
 * vectors of each image by index:
 * - `centre-pairs` (context prediction): for each image the 8 vectors
 *   [f(centre), f(neighbour k)], k = 0…7 in reading order → [8n, 2F];
 * - `concat` (jigsaw): the 9 vectors of an image side by side, in the order the
 *   tiles were shown → [n, 9F].
 * Then fused dense layers (ReLU) and a dense layer with a logit per class.
 * Regrouping uses slices and reshapes, whose gradients every backend has.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, ShapeError } from '@ddinit/core';
import { PRETEXT_HEAD_NAME, featureOutput } from './pretext-model';
import { CENTRE_CELL, GRID_CELLS } from './patch-grid';

export type Grouping = 'centre-pairs' | 'concat';

/** How a spatial patch feature becomes a vector: all positions (`flatten`) or their mean (`average`). */
export type FeatureReduction = 'flatten' | 'average';

export interface SiameseHeadOptions {
  grouping: Grouping;
  classes: number;
  featureLayer?: string;
  reduction: FeatureReduction;
  /** Widths of the fused ReLU layers between the grouped features and the logits. */
  hiddenUnits: readonly number[];
  seed: number;
}

/** Regroups [9n, F] patch features per image (see the file doc). */
export class PatchGroups extends tf.layers.Layer {
  static readonly className = 'DdinitPatchGroups';
  private readonly grouping: Grouping;

  constructor(config: { grouping: Grouping; name?: string }) {
    super({ name: config.name });
    this.grouping = config.grouping;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const features = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const f = features[1] as number;
    return [null, this.grouping === 'concat' ? GRID_CELLS * f : 2 * f];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const f = x.shape[1] as number;
      if (x.shape[0] % GRID_CELLS !== 0) {
        throw new ShapeError('a patch model takes whole images, 9 patches each (with model.predict, pass a batchSize that is a multiple of 9)', {
          where: this.name,
          expected: 'a multiple of 9 patches',
          actual: `${x.shape[0]} patches`,
        });
      }
      if (this.grouping === 'concat') return tf.reshape(x, [-1, GRID_CELLS * f]);
      const cells = tf.reshape(x, [-1, GRID_CELLS, f]);
      const n = cells.shape[0];
      const centre = tf.slice(cells, [0, CENTRE_CELL, 0], [n, 1, f]);
      const neighbours = tf.concat(
        [tf.slice(cells, [0, 0, 0], [n, CENTRE_CELL, f]), tf.slice(cells, [0, CENTRE_CELL + 1, 0], [n, GRID_CELLS - CENTRE_CELL - 1, f])],
        1,
      );
      const pairs = tf.concat([tf.tile(centre, [1, GRID_CELLS - 1, 1]), neighbours], 2);
      return tf.reshape(pairs, [-1, 2 * f]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), grouping: this.grouping };
  }
}
tf.serialization.registerClass(PatchGroups);

/** The trunk (up to `featureLayer`) with the siamese head; shares the trunk's layers and weights. */
export function withSiameseHead(trunk: tf.LayersModel, options: SiameseHeadOptions): tf.LayersModel {
  const feature = featureOutput(trunk, options.featureLayer);
  let x: tf.SymbolicTensor = feature;
  if (feature.shape.length === 4 && options.reduction === 'average') {
    x = tf.layers.globalAveragePooling2d({ name: 'pretext_pool' }).apply(x) as tf.SymbolicTensor;
  } else if (feature.shape.length !== 2) {
    x = tf.layers.flatten({ name: 'pretext_flatten' }).apply(x) as tf.SymbolicTensor;
  }
  x = new PatchGroups({ grouping: options.grouping, name: 'pretext_groups' }).apply(x) as tf.SymbolicTensor;
  const rng = Rng.fromSeed(options.seed).derive('pretext-head');
  options.hiddenUnits.forEach((units, i) => {
    const kernelInitializer = tf.initializers.heNormal({ seed: rng.nextSeed() + 1 });
    x = tf.layers.dense({ name: `pretext_fc${i + 1}`, units, activation: 'relu', kernelInitializer }).apply(x) as tf.SymbolicTensor;
  });
  const logits = tf.layers.dense({
    name: PRETEXT_HEAD_NAME,
    units: options.classes,
    kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() + 1 }),
  });
  return tf.model({ inputs: trunk.inputs, outputs: logits.apply(x) as tf.SymbolicTensor, name: `${trunk.name}_pretext` });
}

/** @throws ConfigError naming the option for an unknown reduction or a width that is not a positive integer. */
export function checkHeadOptions(options: { reduction: FeatureReduction; hiddenUnits: readonly number[] }, where: string): void {
  if (options.reduction !== 'flatten' && options.reduction !== 'average') {
    throw new ConfigError('unknown feature reduction', { where: `${where}.reduction`, expected: 'flatten or average', actual: options.reduction });
  }
  if (!Array.isArray(options.hiddenUnits) || options.hiddenUnits.some((u) => !Number.isInteger(u) || u < 1)) {
    throw new ConfigError('the fused layers’ widths are positive integers', {
      where: `${where}.hiddenUnits`,
      expected: 'e.g. [512]',
      actual: JSON.stringify(options.hiddenUnits),
    });
  }
}
