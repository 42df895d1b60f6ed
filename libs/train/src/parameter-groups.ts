/**
 * A model's trainable weights grouped by learning-rate multiplier: each group
 * gets its own optimizer with rate η·multiplier (so a multiplier scales the
 * update, also for Adam, where scaling the gradient would not); multiplier 0
 * freezes a layer (its weights get no gradient at all).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import type { TrainOptions } from './train-options';

export interface TrainableWeight {
  /** Qualified layer name (`outer/inner` inside nested models). */
  layer: string;
  /** The weight's name within tfjs (unique), the key of its gradient. */
  name: string;
  /** Kernels are decayed; biases, normalization parameters and the like are not. */
  decayed: boolean;
  variable: tf.Variable;
}

export interface ParameterGroup {
  multiplier: number;
  weights: TrainableWeight[];
}

/** Every trainable weight of `model`, nested models flattened, in a stable order. */
export function trainableWeights(model: tf.LayersModel): TrainableWeight[] {
  const out: TrainableWeight[] = [];
  const visit = (layers: tf.layers.Layer[], prefix: string): void => {
    for (const layer of layers) {
      const name = `${prefix}${layer.name}`;
      if (layer instanceof tf.LayersModel) {
        visit(layer.layers, `${name}/`);
        continue;
      }
      if (!layer.trainable) continue;
      for (const weight of layer.trainableWeights) {
        const variable = weight.read() as tf.Variable;
        out.push({ layer: name, name: variable.name, decayed: /kernel$/i.test(weight.originalName), variable });
      }
    }
  };
  visit(model.layers, '');
  return out;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/**
 * Groups by the first matching `layerRates` entry (1 when none matches); frozen
 * layers (multiplier 0) are left out.
 * @throws ConfigError when an entry matches no layer (a typo would silently train everything).
 */
export function parameterGroups(model: tf.LayersModel, layerRates: TrainOptions['layerRates']): ParameterGroup[] {
  const weights = trainableWeights(model);
  const patterns = layerRates.map((r) => ({ ...r, pattern: globToRegExp(r.match) }));
  for (const p of patterns) {
    if (!weights.some((w) => p.pattern.test(w.layer))) {
      throw new ConfigError('a layer learning rate matches no trainable layer', {
        where: `layerRates match '${p.match}'`,
        expected: `one of ${[...new Set(weights.map((w) => w.layer))].join(', ')}`,
        actual: p.match,
      });
    }
  }
  const groups = new Map<number, TrainableWeight[]>();
  for (const w of weights) {
    const multiplier = patterns.find((p) => p.pattern.test(w.layer))?.multiplier ?? 1;
    if (multiplier === 0) continue;
    groups.set(multiplier, [...(groups.get(multiplier) ?? []), w]);
  }
  return [...groups.entries()].sort(([a], [b]) => b - a).map(([multiplier, list]) => ({ multiplier, weights: list }));
}
