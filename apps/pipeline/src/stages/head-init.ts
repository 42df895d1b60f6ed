/**
 * A new head on a trunk, initialized from data: the head's parameter layers get
 * Gaussian weights rescaled per output unit to mean β and std 1 on one batch
 * (the within-layer normalization of docs/method.md#within-layer), the trunk's
 * layers are kept. β is 0, except for a layer the head draws with a constant
 * non-zero bias — a prior, like the detection head's objectness bias
 * −ln((1 − π)/π) — whose β is that bias, so the prior survives.
 *
 * Why: a trunk's features have whatever scale its initialization left them at.
 * After the between-layer calibration a pooled conv5 feature of caffenet-small
 * can have std ≈ 80 (measured on 30-px photo patches), and a head drawn for unit
 * inputs (Glorot, He) then starts with logits of std ≈ 90: the first steps'
 * gradients wreck the trunk and the run diverges or sits at chance. With the
 * head normalized on the data its logits start at std 1, whatever the trunk.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Logger, Observers } from '@ddinit/core';
import { initializeWithinLayers, type LayerRule } from '@ddinit/init-within-layer';

/** The first layer of `model` with weights that is not one of the trunk's layers: where the head starts. */
export function firstHeadLayer(model: tf.LayersModel, trunk: tf.LayersModel): string {
  const trunkLayers = new Set(trunk.layers);
  const head = model.layers.find((layer) => !trunkLayers.has(layer) && layer.getWeights().length > 0);
  if (head === undefined) throw new Error(`${model.name} has no layer with weights beyond its trunk ${trunk.name}`);
  return head.name;
}

/** The bias a layer was drawn with, when it is one non-zero value for every unit (a prior); else null. */
function constantBias(layer: tf.layers.Layer): number | null {
  const bias = layer.weights.find((w) => w.originalName.endsWith('/bias'));
  if (bias === undefined) return null;
  const values = bias.read().dataSync();
  const first = values[0];
  return first !== 0 && values.every((v) => v === first) ? first : null;
}

/** A β rule for each head layer drawn with a constant non-zero bias: its units keep that mean. */
export function priorBiasRules(model: tf.LayersModel, trunk: tf.LayersModel): LayerRule[] {
  const trunkLayers = new Set(trunk.layers);
  const rules: LayerRule[] = [];
  for (const layer of model.layers) {
    if (trunkLayers.has(layer)) continue;
    const beta = constantBias(layer);
    if (beta !== null) rules.push({ match: layer.name, beta });
  }
  return rules;
}

/**
 * Normalizes the head of `model` (every parameter layer from the first one not in
 * `trunk`, in order) on `inputs` — one batch of the model's inputs, not disposed —
 * and leaves the trunk's weights as they are. Returns the layers it set.
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
    { method: 'gaussian', initializeFrom: firstHeadLayer(model, trunk), layers: priorBiasRules(model, trunk), seed },
    observers,
  );
  return report.layers.filter((layer) => layer.method !== 'kept').map((layer) => layer.name);
}

/**
 * Normalizes the head of `model` on the first batch `batches` yields (a stage's step-0 batch),
 * logs the layers it set and releases the batch; nothing when there is no batch. Finetune and
 * pretrain differ only in their batch shape, hence `inputsOf` and `release`.
 */
export async function initializeHeadOnFirstBatch<B>(
  model: tf.LayersModel,
  trunk: tf.LayersModel,
  batches: AsyncGenerator<B>,
  batch: { inputsOf: (b: B) => tf.Tensor; release: (b: B) => void },
  seed: number,
  logger: Logger | undefined,
): Promise<void> {
  const first = await batches.next();
  await batches.return(undefined);
  if (first.done === true) return;
  try {
    const inputs = batch.inputsOf(first.value);
    const layers = await initializeHeadFromData(model, trunk, inputs, seed);
    logger?.info('head initialized from data', { layers, batch: inputs.shape[0] });
  } finally {
    batch.release(first.value);
  }
}
