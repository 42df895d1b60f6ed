/**
 * A tfjs LayersModel as files — `model.json` plus one `weights.bin` — in the format
 * `tf.loadLayersModel` reads from a URL or disk (weightsManifest paths relative
 * to model.json), so artifacts load in the browser and in Python's tfjs
 * converter as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '@ddinit/core';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Serializes `model` to `model.json` + `weights.bin`. */
export async function modelToFiles(model: tf.LayersModel): Promise<Map<string, Uint8Array>> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || saved.weightData === undefined) {
    throw new DataError('tfjs returned no topology or weights for the model', { where: `model ${model.name}` });
  }
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: `ddinit with TensorFlow.js ${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: saved.modelTopology as object,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
  };
  return new Map([
    [MODEL_FILE, new TextEncoder().encode(JSON.stringify(json))],
    [WEIGHTS_FILE, weights],
  ]);
}

/**
 * Loads a LayersModel from `model.json` and the weight files it names, read
 * through `readFile` (local disk, S3, an artifact). Custom ddinit layers load
 * once `@ddinit/models` has been imported.
 *
 * @param where how to name the model in errors, e.g. `/data/net/model.json`.
 * @throws the reader's error when model.json cannot be read; DataError when
 *   model.json is not JSON or lacks its topology or
 *   manifest, when a weight file is missing, or when the weights are shorter
 *   than the manifest says.
 */
export async function modelFromFiles(readFile: (name: string) => Promise<Uint8Array>, where: string): Promise<tf.LayersModel> {
  // Read outside the try: a file that cannot be read keeps its own error (missing, access denied).
  const text = new TextDecoder().decode(await readFile(MODEL_FILE));
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw new DataError('model.json is not valid JSON', { where, actual: error instanceof Error ? error.message : String(error), cause: error });
  }
  if (!json || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new DataError('model.json lacks modelTopology or weightsManifest: is it a tfjs layers model?', {
      where,
      expected: 'a tfjs layers-model model.json',
      actual: json ? Object.keys(json).join(', ') : String(json),
    });
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) {
      try {
        buffers.push(await readFile(path));
      } catch (error) {
        throw new DataError('weight file named by model.json cannot be read', { where, expected: path, cause: error });
      }
    }
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const bytesPerElement = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 } as const;
  const needed = weightSpecs.reduce(
    (n, w) => n + (w.quantization ? 0 : w.shape.reduce((a, b) => a * b, 1) * bytesPerElement[w.dtype as keyof typeof bytesPerElement]),
    0,
  );
  if (weightSpecs.every((w) => !w.quantization) && total < needed) {
    throw new DataError('weight files are shorter than model.json says', { where, expected: `${needed} bytes`, actual: `${total} bytes` });
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer }));
}
