/**
 * A tfjs LayersModel as files — `model.json` plus one `weights.bin` — in the format
 * `tf.loadLayersModel` reads from a URL or disk (weightsManifest paths relative
 * to model.json), so artifacts load in the browser and in Python's tfjs
 * converter as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '@ddinit/core';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { z } from 'zod';
import type { HeadTask } from '@ddinit/eval';
import { FINETUNE_TASKS } from '../config/finetune-config';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/**
 * What ddinit records about a model in model.json `userDefinedMetadata.ddinit`
 * (tfjs keeps it: `model.getUserDefinedMetadata()`).
 */
export interface DdinitModelMetadata {
  /**
   * How images as the dataset stores them (NHWC, values 0–255) were normalized
   * before the network saw them during the init: the network expects
   * `(x · scale − mean[c]) / std[c]`. `loadModel` puts this in front of the network.
   */
  inputNormalization?: InputNormalizationConfig;
  /** The downstream head of a fine-tuned model (the finetune stage writes it; the evaluate stage reads it). */
  head?: HeadRecord;
}

/** What a fine-tuned model's head is: its task, its classes and which trunk layer it reads. */
export interface HeadRecord {
  task: HeadTask;
  classes: number;
  classNames: string[];
  /** The head's own layers, by name (the rest of the model is the trunk). */
  layers: string[];
  /** The trunk layer the head reads; null: the trunk's output. */
  featureLayer: string | null;
}

const InputNormalizationSchema = z.object({
  scale: z.number().positive(),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { ddinit?: DdinitModelMetadata };
}

const HeadRecordSchema = z.object({
  task: z.enum(FINETUNE_TASKS),
  classes: z.int().min(1),
  classNames: z.array(z.string()),
  layers: z.array(z.string()),
  featureLayer: z.string().nullable(),
});

/**
 * The head recorded in a loaded model's metadata (a finetune artifact's), if any.
 * @throws DataError when the record is there but malformed (naming the field).
 */
export function headRecordOf(model: tf.LayersModel, where: string): HeadRecord | undefined {
  const record = (model.getUserDefinedMetadata() as { ddinit?: { head?: unknown } } | undefined)?.ddinit?.head;
  if (record === undefined) return undefined;
  const parsed = HeadRecordSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError('model.json has a malformed ddinit head record', {
      where: `${where}: userDefinedMetadata.ddinit.head.${issue?.path.join('.') ?? ''}`,
      expected: 'task, classes ≥ 1, classNames, layers, featureLayer (string or null)',
      actual: JSON.stringify(record),
    });
  }
  return parsed.data;
}

/**
 * The input normalization recorded in a loaded model's metadata, if any.
 * @throws DataError when the record is there but malformed (naming the field).
 */
export function inputNormalizationOf(model: tf.LayersModel, where: string): InputNormalizationConfig | undefined {
  const record = (model.getUserDefinedMetadata() as { ddinit?: { inputNormalization?: unknown } } | undefined)?.ddinit?.inputNormalization;
  if (record === undefined) return undefined;
  const parsed = InputNormalizationSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError('model.json has a malformed ddinit input normalization', {
      where: `${where}: userDefinedMetadata.ddinit.inputNormalization.${issue?.path.join('.') ?? ''}`,
      expected: 'scale > 0, one mean and one std > 0 per channel',
      actual: JSON.stringify(record),
    });
  }
  return parsed.data;
}

/** Serializes `model` to `model.json` + `weights.bin`, with ddinit's metadata when given. */
export async function modelToFiles(model: tf.LayersModel, metadata?: DdinitModelMetadata): Promise<Map<string, Uint8Array>> {
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
  // One buffer already (LayersModel.save concatenates the weights): used as it is, since
  // join would copy it (CaffeNet: 244 MB).
  const weights = new Uint8Array(saved.weightData instanceof ArrayBuffer ? saved.weightData : tf.io.CompositeArrayBuffer.join(saved.weightData));
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: `ddinit with TensorFlow.js ${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: saved.modelTopology as object,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
    ...(metadata ? { userDefinedMetadata: { ddinit: metadata } } : {}),
  };
  return new Map([
    [MODEL_FILE, new TextEncoder().encode(JSON.stringify(json))],
    [WEIGHTS_FILE, weights],
  ]);
}

/**
 * Loads a LayersModel from `model.json` and the weight files it names, read
 * through `readFile` (local disk, S3, an artifact), with its
 * `userDefinedMetadata`. Custom ddinit layers load once `@ddinit/models/layers`
 * has been imported.
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
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData: weightData.buffer,
      ...(json.userDefinedMetadata ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
    }),
  );
}
