/**
 * The model the init stage works on: a registry model built for the dataset
 * (input shape and class count default to the data's), or a user's tfjs
 * `model.json` from a local path or an s3:// URL.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { buildModel, parseModelOptions } from '@ddinit/models';
import { artifactFileReader } from '../store/artifact-file-reader';
import { modelFileLocation, readModel } from './load-model';

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
  /**
   * Classes of the dataset; below 2 (unlabelled, or one class folder of photos for
   * pretraining) the model keeps its default head: a one-unit softmax is constant, and its
   * unit would fail the within-layer init as a dead channel.
   */
  classes: number;
  store?: StoreOptions;
  /**
   * A registry model's starting kernels (its `initialWeights` option; the user's
   * `modelOptions` win): `zeros` when every weight is about to be overwritten, which
   * skips tfjs's He-normal draw (seconds for CaffeNet). Ignored for a model.json.
   */
  initialWeights?: 'heNormal' | 'zeros';
}

/**
 * Checks that `model` names something that exists — a registry entry with
 * valid options (the VGG depth included) or a model.json that is there —
 * without reading data or building anything, so a wrong `--model` is reported
 * before the sample is read.
 *
 * @throws ConfigError naming `--model` and what was expected.
 */
export async function checkModelReference(options: Pick<ResolveModelOptions, 'model' | 'modelOptions' | 'store'>): Promise<void> {
  if (!isModelFile(options.model)) {
    parseModelOptions(options.model, options.modelOptions);
    return;
  }
  if (!options.model.endsWith('.json')) {
    throw new ConfigError('a model file must be a tfjs model.json', { where: 'model', expected: 'a path or URL ending in .json', actual: options.model });
  }
  const { root, file } = modelFileLocation(options.model);
  const files = await artifactFileReader(root, file, options.store ?? {});
  if (!(await files.exists(file))) {
    throw new ConfigError('the model file does not exist', {
      where: 'model',
      expected: 'a tfjs model.json (a path or s3:// URL)',
      actual: `no ${files.describe(file)}`,
    });
  }
}

/**
 * The image size a model takes, before any data is read: a registry model's
 * `inputShape` option (or its default), or a model.json's input layer. Used to
 * decode a dataset stored as PNG/JPEG to what the model expects.
 *
 * @throws ConfigError when the model's input has no fixed height and width.
 */
export async function modelImageSize(options: Pick<ResolveModelOptions, 'model' | 'modelOptions' | 'store'>): Promise<{ height: number; width: number }> {
  let shape: (number | null)[] | undefined;
  if (isModelFile(options.model)) {
    await checkModelReference(options);
    const model = await readModel(options.model, options.store ?? {});
    shape = model.inputs[0]?.shape.slice(1);
    model.dispose();
  } else {
    shape = (parseModelOptions(options.model, options.modelOptions) as { inputShape: [number, number, number] }).inputShape;
  }
  const [height, width] = shape ?? [];
  if (typeof height !== 'number' || typeof width !== 'number') {
    throw new ConfigError('the model takes images of any size, so encoded images have no size to be decoded to', {
      where: `model ${options.model}`,
      expected: 'a fixed input height and width, or a dataset converted with --size HxW',
      actual: `input ${(shape ?? []).map((d) => d ?? '?').join('×')}`,
    });
  }
  return { height, width };
}

/**
 * @throws ConfigError for an unknown registry name (listing the valid ones)
 *   or a model file that does not exist;
 *   DataError for an unreadable or invalid model.json;
 *   ShapeError when the model's input does not take the data's images.
 */
export async function resolveModel(options: ResolveModelOptions): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  await checkModelReference(options);
  if (isModelFile(options.model)) {
    model = await readModel(options.model, options.store ?? {});
  } else {
    model = buildModel(options.model, {
      inputShape: options.inputShape,
      ...(options.classes >= 2 ? { numClasses: options.classes } : {}),
      seed: options.seed,
      ...(options.initialWeights !== undefined ? { initialWeights: options.initialWeights } : {}),
      ...options.modelOptions,
    });
  }
  const input = model.inputs[0]?.shape.slice(1);
  if (model.inputs.length !== 1 || !input || input.some((d, i) => d !== null && d !== options.inputShape[i])) {
    const shape = input?.map((d) => d ?? '?') ?? [];
    model.dispose();
    throw new ShapeError("the model does not take the dataset's images", {
      where: `model ${options.model}`,
      expected: `one input of ${options.inputShape.join('×')} (the data)`,
      actual: `${model.inputs.length} input(s), first ${shape.join('×')}`,
    });
  }
  return model;
}
