/**
 * The model the init stage works on: a registry model built for the dataset
 * (input shape and class count default to the data's), or a user's tfjs
 * `model.json` from a local path or an s3:// URL.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { buildModel } from '@ddinit/models';
import { readModel } from './load-model';

/** True when `model` names a model.json (a path or URL) rather than a registry entry. */
export function isModelFile(model: string): boolean {
  return model.endsWith('.json') || model.startsWith('s3://') || model.includes('/');
}

export interface ResolveModelOptions {
  model: string;
  modelOptions: Record<string, unknown>;
  seed: number;
  /** [h, w, c] of the data. */
  inputShape: [number, number, number];
  /** Classes of the dataset (0: unlabelled, keep the model's default). */
  classes: number;
  store?: StoreOptions;
}

/**
 * @throws ConfigError for an unknown registry name (listing the valid ones);
 *   DataError for an unreadable or invalid model.json;
 *   ShapeError when the model's input does not take the data's images.
 */
export async function resolveModel(options: ResolveModelOptions): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  if (isModelFile(options.model)) {
    if (!options.model.endsWith('.json')) {
      throw new ConfigError('a model file must be a tfjs model.json', { where: 'model', expected: 'a path or URL ending in .json', actual: options.model });
    }
    model = await readModel(options.model, options.store ?? {});
  } else {
    model = buildModel(options.model, {
      inputShape: options.inputShape,
      ...(options.classes > 0 ? { numClasses: options.classes } : {}),
      seed: options.seed,
      ...options.modelOptions,
    });
  }
  const input = model.inputs[0]?.shape.slice(1);
  if (model.inputs.length !== 1 || !input || input.some((d, i) => d !== null && d !== options.inputShape[i])) {
    const shape = input?.map((d) => d ?? '?') ?? [];
    model.dispose();
    throw new ShapeError('the model does not take the dataset\'s images', {
      where: `model ${options.model}`,
      expected: `one input of ${options.inputShape.join('×')} (the data)`,
      actual: `${model.inputs.length} input(s), first ${shape.join('×')}`,
    });
  }
  return model;
}
