/**
 * A new head on a trunk, initialized from data: the head's parameter layers get
 * Gaussian weights rescaled per output unit to mean 0 and std 1 on one batch
 * (the within-layer normalization of docs/method.md#within-layer), the trunk's
 * layers are kept.
 *
 * Why: a trunk's features have whatever scale its initialization left them at.
 * After the between-layer calibration a pooled conv5 feature of caffenet-small
 * can have std ≈ 80 (measured on 30-px photo patches), and a head drawn for unit
 * inputs (Glorot, He) then starts with logits of std ≈ 90: the first steps'
 * gradients wreck the trunk and the run diverges or sits at chance. With the
 * head normalized on the data its logits start at std 1, whatever the trunk.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Observers } from '@ddinit/core';
import { initializeWithinLayers } from '@ddinit/init-within-layer';

/** The first layer of `model` with weights that is not one of the trunk's layers: where the head starts. */
export function firstHeadLayer(model: tf.LayersModel, trunk: tf.LayersModel): string {
  const trunkLayers = new Set(trunk.layers);
  const head = model.layers.find((layer) => !trunkLayers.has(layer) && layer.getWeights().length > 0);
  if (head === undefined) throw new Error(`${model.name} has no layer with weights beyond its trunk ${trunk.name}`);
  return head.name;
}

/**
 * Normalizes the head of `model` (every parameter layer from the first one not in
 * `trunk`, in order) on `inputs` — one batch of the model's inputs, not disposed —
 * and leaves the trunk's weights as they are.
 */
export async function initializeHeadFromData(
  model: tf.LayersModel,
  trunk: tf.LayersModel,
  inputs: tf.Tensor,
  seed: number,
  observers: Observers = {},
): Promise<string[]> {
  const report = await initializeWithinLayers(
    model,
    inputs as tf.Tensor4D,
    { method: 'gaussian', initializeFrom: firstHeadLayer(model, trunk), seed },
    observers,
  );
  return report.layers.filter((layer) => layer.method !== 'kept').map((layer) => layer.name);
}
