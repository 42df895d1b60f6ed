/**
 * Which layers fine-tuning trains: every layer from `trainFrom` on, in the
 * model's topological order, and none before it — the paper's PASCAL VOC
 * protocol fine-tunes fc8 only, fc6–fc8, or every layer (Krähenbühl et al. 2016,
 * section 4.2). The result is a `layerRates` list for `@ddinit/train`, where a
 * multiplier of 0 freezes a layer (its weights get no gradient at all).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import type { TrainOptions } from '@ddinit/train';

export type LayerRates = TrainOptions['layerRates'];

export interface FineTuneRateOptions {
  /** The first layer to train; the layers before it are frozen (undefined or null: train every layer). */
  trainFrom?: string | null;
  /** The caller's own multipliers (first match wins), applied to the layers that are not frozen. */
  layerRates?: LayerRates;
}

/** Every layer of `model` in topological order, nested models flattened, with `@ddinit/train`'s qualified names (`outer/inner`). */
export function layersInOrder(model: tf.LayersModel): { name: string; trainable: boolean }[] {
  const out: { name: string; trainable: boolean }[] = [];
  const visit = (layers: tf.layers.Layer[], prefix: string): void => {
    for (const layer of layers) {
      if (layer instanceof tf.LayersModel) visit(layer.layers, `${prefix}${layer.name}/`);
      else out.push({ name: `${prefix}${layer.name}`, trainable: layer.trainable && layer.trainableWeights.length > 0 });
    }
  };
  visit(model.layers, '');
  return out;
}

/**
 * The `layerRates` that freeze every layer with weights before `trainFrom` and keep
 * the caller's `layerRates` after them (the freezing entries come first, so they win).
 * @throws ConfigError naming the model's layers when `trainFrom` is not one of them.
 * @example
 * fineTuneRates(model, { trainFrom: 'fc6' }); // [{ match: 'conv1', multiplier: 0 }, …, { match: 'conv5', multiplier: 0 }]
 */
export function fineTuneRates(model: tf.LayersModel, options: FineTuneRateOptions = {}): LayerRates {
  const own = options.layerRates ?? [];
  const trainFrom = options.trainFrom ?? undefined;
  if (trainFrom === undefined) return [...own];
  const layers = layersInOrder(model);
  const start = layers.findIndex((l) => l.name === trainFrom);
  if (start < 0) {
    throw new ConfigError('no such layer to train from', {
      where: 'trainFrom',
      expected: `one of ${layers.map((l) => l.name).join(', ')}`,
      actual: trainFrom,
    });
  }
  // Only layers with trainable weights: @ddinit/train refuses a pattern that matches no trainable layer.
  const frozen = layers.slice(0, start).filter((l) => l.trainable);
  return [...frozen.map((l) => ({ match: l.name, multiplier: 0 })), ...own];
}
