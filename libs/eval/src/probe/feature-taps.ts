/**
 * The features a linear probe reads: the outputs of named trunk layers from one
 * forward pass (inference mode: no dropout, batch-norm statistics as stored),
 * each pooled to a fixed size (adaptive-pool.ts) and flattened to `[n, d]`.
 * Dense outputs (`[n, d]`) are taken as they are. Layers of a nested model are
 * named `outer/inner`. The tap model shares the trunk's layers and weights and
 * never changes them.
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

/** Every layer's qualified name: `name`, or `outer/inner` for a layer of a nested model (as @ddinit/train names them). */
export function qualifiedNames(model: tf.LayersModel, prefix = ''): string[] {
  return model.layers.flatMap((l) => [`${prefix}${l.name}`, ...(l instanceof tf.LayersModel ? qualifiedNames(l, `${prefix}${l.name}/`) : [])]);
}

/**
 * The output of the layer at `path` as a tensor of `model`'s graph. A layer inside a nested model (a published
 * ddinit model is the network behind an input-normalization layer) is reached by applying a model from the nested
 * model's input to that layer to the nested model's input in the outer graph; its weights stay shared.
 */
export function tapOutput(model: tf.LayersModel, path: string[]): tf.SymbolicTensor | undefined {
  const layer = model.layers.find((l) => l.name === path[0]);
  if (layer === undefined || path.length === 1) return layer?.output as tf.SymbolicTensor | undefined;
  if (!(layer instanceof tf.LayersModel)) return undefined;
  const inner = tapOutput(layer, path.slice(1));
  if (inner === undefined) return undefined;
  // The nested model's call in `model`'s graph: tfjs keys a container's nodes `<layer>_ib-<node index>`
  // (a Sequential also has a node of its own construction, so `layer.input` is ambiguous).
  const call = layer.inboundNodes.findIndex((_, i) => model.containerNodes.has(`${layer.name}_ib-${i}`));
  if (call < 0) return undefined;
  const route = tf.model({ inputs: layer.inputs, outputs: inner, name: `${layer.name}_to_${path.at(-1)}` });
  return route.apply(layer.getInputAt(call)) as tf.SymbolicTensor;
}

/** @throws ConfigError naming the trunk's layers when one of `layers` is not among them. */
function layerOutputs(trunk: tf.LayersModel, layers: string[]): tf.SymbolicTensor[] {
  const known = (): string => `one of ${qualifiedNames(trunk).join(', ')}`;
  if (layers.length === 0) throw new ConfigError('a probe needs at least one layer', { where: 'layers', expected: known(), actual: '[]' });
  const repeated = layers.find((name, i) => layers.indexOf(name) !== i);
  if (repeated !== undefined) throw new ConfigError('a layer is named twice', { where: 'layers', expected: 'each layer once', actual: repeated });
  return layers.map((name) => {
    const output = tapOutput(trunk, name.split('/'));
    if (output === undefined) throw new ConfigError('no such layer in the trunk', { where: 'layers', expected: known(), actual: name });
    return output;
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
