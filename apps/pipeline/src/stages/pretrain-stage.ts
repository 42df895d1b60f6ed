/**
 * The pretrain stage: an init artifact's network → a pretext head → self-supervised
 * training on the dataset's images (rotation prediction) → the trained trunk
 * (head removed) with report.json and report.html, published atomically.
 *
 * Resumable: checkpoints go to the checkpoint store beside `out` every
 * `checkpointEvery` steps and when `signal` aborts (the CLI wires SIGTERM to it);
 * a rerun with the same configuration continues from the newest complete one and
 * ends with the weights of an uninterrupted run (same seed, same backend), since
 * `stepBatches` gives every step the same batch in every run.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import { stepBatches, toTensorBatch, type StoreOptions } from '@ddinit/data';
import { ROTATION_CLASSES, rotationBatch, withPretextHead } from '@ddinit/pretrain';
import { classificationObjective, trainModel, type LabelledBatch, type TrainResult } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { readModel } from '../model/load-model';
import { inputNormalizationOf, modelToFiles } from '../model/model-files';
import { checkUpToDate, describeArtifact, hashConfig } from '../store/artifact-store';
import { CheckpointStore } from '../store/checkpoint-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { datasetIdentity } from './dataset-identity';
import { openInitData, type InitData } from './init-sample';
import { renderPretrainHtml, type PretrainReport } from './pretrain-report';

export const PretrainConfigSchema = z
  .object({
    /** The init artifact whose network is pretrained (a directory or s3:// prefix). */
    from: z.string().min(1).default('artifacts/init'),
    data: z.string().min(1).default('embedded'),
    split: z.string().min(1).default('train'),
    task: z.enum(['rotation']).default('rotation'),
    /** The trunk layer the head reads; null: the last layer with a spatial (4-D) output. */
    featureLayer: z.string().min(1).nullable().default(null),
    steps: z.int().min(1).default(300),
    /** Images per step (rotation shows each at four turns: 4× as many network inputs). */
    batchSize: z.int().min(1).default(32),
    optimizer: z.enum(['sgd', 'momentum', 'nesterov', 'adam']).default('momentum'),
    learningRate: z.number().gt(0).default(0.01),
    weightDecay: z.number().min(0).default(5e-4),
    checkpointEvery: z.int().min(0).default(50),
    seed: z.int().default(0),
    out: z.string().min(1).default('artifacts/pretrain'),
    force: z.boolean().default(false),
  })
  .strict();

export type PretrainConfig = z.output<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;

export interface PretrainContext extends Observers {
  backend: string;
  store?: StoreOptions;
  /** Aborting it stops the run after the current step, with a checkpoint. */
  signal?: AbortSignal;
}

export interface PretrainOutcome {
  skipped: boolean;
  /** True when the signal stopped it before the last step (a checkpoint holds the progress). */
  interrupted: boolean;
  location: string;
  configHash: string;
  report?: PretrainReport;
}

/** The last layer whose output is 4-D (the deepest feature map), for the head. */
function lastSpatialLayer(network: tf.LayersModel): string {
  const spatial = network.layers.filter((l) => !(l instanceof tf.LayersModel) && (l.outputShape as number[]).length === 4);
  const last = spatial.at(-1);
  if (last === undefined) {
    throw new ConfigError('the trunk has no spatial output for the rotation head', {
      where: `model ${network.name}`,
      expected: 'a layer with a 4-D (NHWC) output',
      actual: network.layers.map((l) => l.name).join(', '),
    });
  }
  return last.name;
}

/** Step s's pretext batch: the dataset's images standardized as at init, each at four turns. */
async function* pretextBatches(
  data: InitData,
  config: PretrainConfig,
  normalization: InputNormalizationConfig,
  fromStep: number,
): AsyncGenerator<LabelledBatch> {
  for await (const batch of stepBatches(data.dataset, data.split, { batchSize: config.batchSize, seed: config.seed, fromStep })) {
    const tensors = toTensorBatch(batch, { scale: normalization.scale, mean: normalization.mean, std: normalization.std });
    try {
      yield rotationBatch(tensors.images);
    } finally {
      tf.dispose([tensors.images, tensors.labels, tensors.multiHot, tensors.masks].filter((t) => t !== undefined) as tf.Tensor[]);
    }
  }
}

/**
 * Runs the pretrain stage.
 * @throws ConfigError / DataError / ShapeError for bad input (exit 2): no init artifact at
 *   `from`, a model without its input normalization, a checkpoint of another configuration;
 *   NumericalError after a checkpoint when training diverges; StorageError otherwise.
 */
export async function runPretrainStage(config: PretrainConfig, context: PretrainContext): Promise<PretrainOutcome> {
  const logger = context.logger ?? silentLogger;
  const progress = context.progress ?? silentProgress;
  const store = { ...context.store, logger };
  const source = await openArtifactLocation(config.from, store).readMetadata();
  if (source === null)
    throw new ConfigError('no init artifact to pretrain (run `ddinit init` first, or name one with --from)', {
      where: 'from',
      expected: 'a directory or s3:// prefix holding an init artifact (metadata.json)',
      actual: config.from,
    });
  const data = await openInitData({ data: config.data, split: config.split, store: context.store ?? {} }, { logger, progress });
  const { out: _out, force: _force, ...defining } = config;
  const configHash = hashConfig({ ...defining, from: source.configHash, dataset: datasetIdentity(data.dataset.manifest), codeVersion: packageJson.version });
  const location = openArtifactLocation(config.out, store);
  await location.prepare();
  if (!config.force && (await checkUpToDate(location, configHash)).upToDate) {
    logger.info('up to date: an artifact of the same configuration exists (use --force to redo it)', { out: location.url, configHash });
    return { skipped: true, interrupted: false, location: location.url, configHash };
  }
  const network = await readModel(config.from, context.store ?? {});
  try {
    const normalization = inputNormalizationOf(network, config.from);
    if (normalization === undefined)
      throw new ConfigError('the init artifact has no input normalization to read the data with', {
        where: `${config.from}/model.json`,
        expected: 'userDefinedMetadata.ddinit.inputNormalization (written by ddinit init)',
      });
    const featureLayer = config.featureLayer ?? lastSpatialLayer(network);
    const model = withPretextHead(network, { featureLayer, classes: ROTATION_CLASSES, seed: config.seed });
    const checkpoints = new CheckpointStore(config.out, configHash, store);
    const resume = config.force ? null : await checkpoints.latest();
    const result = await trainModel(
      model,
      classificationObjective,
      {
        steps: config.steps,
        optimizer: config.optimizer,
        learningRate: config.learningRate,
        weightDecay: config.weightDecay,
        checkpointEvery: config.checkpointEvery,
        schedule: { kind: 'cosine', minFactor: 0 },
      },
      {
        data: (fromStep) => pretextBatches(data, config, normalization, fromStep),
        release: (b) => tf.dispose([b.inputs, b.labels]),
        onCheckpoint: (bytes, step) => checkpoints.save(step, bytes),
        ...(resume ? { resume: { bytes: resume.bytes, where: resume.where } } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      },
      { logger, progress },
    );
    if (result.interrupted) return { skipped: false, interrupted: true, location: location.url, configHash };
    const report = pretrainReport(config, featureLayer, result, context.backend, configHash);
    const files = await modelToFiles(network, { inputNormalization: normalization });
    files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    files.set('report.html', new TextEncoder().encode(renderPretrainHtml(report)));
    await location.publish(
      files,
      describeArtifact(files, { stage: 'pretrain', configHash, seed: config.seed, codeVersion: packageJson.version, backend: context.backend }),
    );
    await checkpoints.clear();
    logger.info('artifact published', { out: location.url, files: [...files.keys()] });
    return { skipped: false, interrupted: false, location: location.url, configHash, report };
  } finally {
    network.dispose();
  }
}

function pretrainReport(config: PretrainConfig, featureLayer: string, result: TrainResult, backend: string, configHash: string): PretrainReport {
  const last = result.steps.slice(-Math.min(20, result.steps.length));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  return {
    schemaVersion: 1,
    stage: 'pretrain',
    task: config.task,
    from: config.from,
    featureLayer,
    backend,
    seed: config.seed,
    steps: config.steps,
    batchSize: config.batchSize,
    resumedFrom: result.resumedFrom,
    dataWaitShare: result.dataWaitShare,
    final: { loss: mean(last.map((s) => s.loss)), accuracy: mean(last.map((s) => s.metrics.accuracy ?? Number.NaN)), chanceAccuracy: 1 / ROTATION_CLASSES },
    curve: result.steps.map((s) => ({ step: s.step, loss: s.loss, accuracy: s.metrics.accuracy ?? null, learningRate: s.learningRate })),
    configHash,
    codeVersion: packageJson.version,
    createdAt: new Date().toISOString(),
  };
}
