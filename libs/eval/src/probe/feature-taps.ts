/**
 * The features a linear probe reads: the outputs of named trunk layers from one
 * forward pass (inference mode: no dropout, batch-norm statistics as stored),
 * each pooled to a fixed size (adaptive-pool.ts) and flattened to `[n, d]`.
 * Dense outputs (`[n, d]`) are taken as they are. The tap model shares the
 * trunk's layers and weights and never changes them.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { adaptivePool2d, defaultPoolBudget, pooledSize, type PoolingMode } from './adaptive-pool';

export interface TappedLayer {
  layer: string;
  /** The layer's output shape per example. */
  outputShape: number[];
  /** Cells the map is pooled to, or null when the output is not a feature map. */
  pooled: [number, number] | null;
  /** Length of the flattened feature vector. */
  features: number;
}

export interface FeatureTapOptions {
  pooling?: PoolingMode;
  /** Values per layer after pooling (default: {@link defaultPoolBudget} of the trunk's input size). */
  poolBudget?: number;
}

/** @throws ConfigError naming the trunk's layers when one of `layers` is not among them. */
function layerOutputs(trunk: tf.LayersModel, layers: string[]): tf.SymbolicTensor[] {
  if (layers.length === 0)
    throw new ConfigError('a probe needs at least one layer', {
      where: 'layers',
      expected: `names among ${trunk.layers.map((l) => l.name).join(', ')}`,
      actual: '[]',
    });
  const repeated = layers.find((name, i) => layers.indexOf(name) !== i);
  if (repeated !== undefined) throw new ConfigError('a layer is named twice', { where: 'layers', expected: 'each layer once', actual: repeated });
  return layers.map((name) => {
    const layer = trunk.layers.find((l) => l.name === name);
    if (layer === undefined) {
      throw new ConfigError('no such layer in the trunk', { where: 'layers', expected: `one of ${trunk.layers.map((l) => l.name).join(', ')}`, actual: name });
    }
    return layer.output as tf.SymbolicTensor;
  });
}

export class FeatureTaps {
  readonly layers: TappedLayer[];
  private readonly model: tf.LayersModel;
  private readonly pooling: PoolingMode;

  constructor(trunk: tf.LayersModel, layers: string[], options: FeatureTapOptions = {}) {
    const outputs = layerOutputs(trunk, layers);
    this.model = tf.model({ inputs: trunk.inputs, outputs, name: `${trunk.name}_taps` });
    this.pooling = options.pooling ?? 'average';
    const input = trunk.inputs[0].shape;
    const budget = options.poolBudget ?? defaultPoolBudget(input[1] ?? 1, input[2] ?? 1);
    this.layers = outputs.map((output, i) => {
      const shape = output.shape.slice(1) as number[];
      const pooled = shape.length === 3 ? pooledSize(shape[0], shape[1], shape[2], budget) : null;
      const features = pooled === null ? shape.reduce((a, b) => a * b, 1) : pooled[0] * pooled[1] * shape[2];
      return { layer: layers[i], outputShape: shape, pooled, features };
    });
  }

  /** One trunk forward pass: the pooled, flattened features of every tapped layer, `[n, features]` each (the caller disposes them). */
  features(images: tf.Tensor): tf.Tensor2D[] {
    return tf.tidy(() => {
      const raw = this.model.predict(images, { batchSize: images.shape[0] });
      const maps = Array.isArray(raw) ? raw : [raw];
      return maps.map((map, i) => {
        const { pooled } = this.layers[i];
        const kept = pooled === null ? map : adaptivePool2d(map as tf.Tensor4D, pooled, this.pooling);
        return tf.reshape(kept, [images.shape[0], this.layers[i].features]) as tf.Tensor2D;
      });
    });
  }
}
