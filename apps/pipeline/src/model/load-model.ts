/**
 * `loadModel`: a published ddinit model, ready to train on images as the dataset
 * stores them. Reads `model.json` and its weights from a local path, a `file://`
 * URL or an `s3://` prefix (no tfjs IO handler needed: ddinit's stores do the
 * reading; an artifact's files through its metadata.json, sha256-checked), with ddinit's custom layers registered, and puts the input
 * normalization recorded in the model's metadata in front of the network.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { InputNormalization, type InputNormalizationConfig } from '@ddinit/models/layers';
import { artifactFileReader } from '../store/artifact-file-reader';
import { MODEL_FILE, inputNormalizationOf, modelFromFiles } from './model-files';

export interface LoadModelOptions {
  /** S3 client options (endpoint, credentials, retries); default: from the environment. */
  store?: StoreOptions;
  /**
   * false: the network as published, which takes standardized images
   * (`(x / 255 − mean) / std`, see metadata). Default true.
   */
  applyInputNormalization?: boolean;
}

/** `dir`, `dir/`, `s3://b/p` → that prefix's model.json; `…/name.json` → that file. */
export function modelFileLocation(location: string): { root: string; file: string } {
  const trimmed = location.replace(/\/+$/, '');
  if (!trimmed.endsWith('.json')) return { root: trimmed || '/', file: MODEL_FILE };
  const slash = trimmed.lastIndexOf('/');
  return slash < 0 ? { root: '.', file: trimmed } : { root: trimmed.slice(0, slash) || '/', file: trimmed.slice(slash + 1) };
}

/**
 * The tfjs model at `location` as it was written (a model.json and the weight
 * files it names, relative to it).
 * @throws DataError when model.json or a weight file is missing or malformed.
 */
export async function readModel(location: string, store: StoreOptions = {}): Promise<tf.LayersModel> {
  const { root, file } = modelFileLocation(location);
  // Through the artifact's metadata.json when `root` holds one (on S3 the files live in the folder it points to).
  const files = await artifactFileReader(root, file, store);
  return modelFromFiles((name) => files.read(name === MODEL_FILE ? file : name), files.describe(file));
}

/**
 * A model that applies `normalization` to its input, then `network`. The
 * network's layers (and weights) are shared, not copied.
 * @throws ShapeError when the network has more than one input.
 */
export function withInputNormalization(network: tf.LayersModel, normalization: InputNormalizationConfig): tf.LayersModel {
  if (network.inputs.length !== 1) {
    throw new ShapeError('input normalization needs a network with one image input', {
      where: `model ${network.name}`,
      expected: '1 input',
      actual: `${network.inputs.length} inputs`,
    });
  }
  const images = tf.input({ shape: (network.inputs[0] as tf.SymbolicTensor).shape.slice(1) as number[], name: 'images' });
  const normalized = new InputNormalization({ ...normalization, name: 'input_normalization' }).apply(images) as tf.SymbolicTensor;
  const outputs = network.apply(normalized) as tf.SymbolicTensor | tf.SymbolicTensor[];
  return tf.model({ inputs: images, outputs, name: network.name });
}

/**
 * Loads a ddinit model for training or inference on raw images (NHWC, 0–255).
 *
 * @param location a directory or `.json` path, `file://` URL or `s3://bucket/prefix`
 *   holding `model.json` and `weights.bin` (e.g. `artifacts/init`).
 * @example
 * const model = await loadModel('artifacts/init');
 * model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
 * await model.fit(images, labels);          // images: [n, h, w, c], values 0–255
 * @throws DataError for a missing or malformed model.json, weights or metadata;
 *   StorageError when S3 cannot be reached.
 */
export async function loadModel(location: string, options: LoadModelOptions = {}): Promise<tf.LayersModel> {
  const network = await readModel(location, options.store);
  const normalization = inputNormalizationOf(network, location);
  // By class name: a CommonJS caller may have registered another copy of the class.
  const alreadyNormalizes = network.layers.some((l) => l.getClassName() === InputNormalization.className);
  if (options.applyInputNormalization === false || !normalization || alreadyNormalizes) return network;
  return withInputNormalization(network, normalization);
}
