/**
 * The trunk output a downstream head reads: a named layer's output (`outer/inner`
 * for a layer of a nested model, as the probes name them: a published ddinit model
 * is the network behind its input normalization) or, by default, the trunk's output.
 * It is a tensor of the trunk's own graph, so a head built on it shares the trunk's
 * weights and training the head fine-tunes the trunk.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '@ddinit/core';
import { qualifiedNames, tapOutput } from '../probe/feature-taps';

/**
 * @param head names the head in the message (`segmentation head`).
 * @throws ConfigError listing the trunk's layers when `featureLayer` is not one of them.
 */
export function headFeature(trunk: tf.LayersModel, featureLayer: string | undefined, head: string): tf.SymbolicTensor {
  if (featureLayer === undefined) return trunk.outputs[0];
  const output = tapOutput(trunk, featureLayer.split('/'));
  if (output === undefined) {
    throw new ConfigError(`no such layer in the trunk for the ${head}`, {
      where: 'featureLayer',
      expected: `one of ${qualifiedNames(trunk).join(', ')}`,
      actual: featureLayer,
    });
  }
  return output;
}

/** @throws ConfigError unless a head's class count is a positive integer. */
export function checkHeadClasses(classes: number): void {
  if (!Number.isInteger(classes) || classes < 1)
    throw new ConfigError('a head needs a positive integer number of classes', { where: 'classes', actual: classes });
}

/**
 * @param what what each output should be, for the message (`a logit per class`).
 * @throws DataError when the model's output is not of the targets' shape (a model of another head or class count).
 */
export function checkHeadOutput(output: tf.Tensor, expected: number[], what: string): void {
  if (output.shape.join() !== expected.join())
    throw new DataError(`the model does not give ${what}`, { where: 'model output', expected, actual: output.shape });
}

/**
 * The qualified names of the trunk's layers with a spatial (`[n, h, w, c]`) output, in
 * order: the layers a dense-prediction head (segmentation, detection) can read; the last
 * one is their default.
 */
export function spatialLayerNames(trunk: tf.LayersModel): string[] {
  return qualifiedNames(trunk).filter((name) => isSpatialLayer(trunk, name.split('/')));
}

/** True when the layer at `path` is a single layer (not a nested model) with an `[n, h, w, c]` output. */
function isSpatialLayer(model: tf.LayersModel, path: string[]): boolean {
  const layer = model.layers.find((l) => l.name === path[0]);
  if (layer instanceof tf.LayersModel) return path.length > 1 && isSpatialLayer(layer, path.slice(1));
  if (layer === undefined || path.length > 1 || layer.getClassName() === 'InputLayer') return false;
  const shape = layer.outputShape;
  return !Array.isArray(shape[0]) && shape.length === 4;
}
