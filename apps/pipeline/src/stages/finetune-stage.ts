/**
 * The finetune stage: an init or pretrain artifact's network → the task's head
 * (@ddinit/eval) on its feature layer → supervised training of the layers from
 * `trainFrom` on (the ones before it frozen) on the training split → the whole
 * model (trunk and head) evaluated on the test split, with report.json and
 * report.html. A stage of the contract (stage-contract.ts): `runStage` opens the
 * data, the input artifact and the output, and publishes.
 *
 * Resumable as pretrain is: checkpoints every `checkpointEvery` steps and on
 * SIGTERM; a rerun of the same configuration continues from the newest one and
 * ends with the weights of an uninterrupted run, since every step's batch depends
 * only on the seed and the step (finetune-data.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { silentLogger, silentProgress, type Logger, type ProgressListener } from '@ddinit/core';
import type { UintBatch } from '@ddinit/data';
import { createHead, fineTuneRates, type DownstreamHead, type HeadMetrics, type HeadTask } from '@ddinit/eval';
import { trainModel } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { FinetuneConfigSchema, type FinetuneConfig } from '../config/finetune-config';
import { PipelineConfigSchema, type PipelineConfig } from '../config/pipeline-config';
import { modelToFiles, type HeadRecord } from '../model/model-files';
import { checkHeadTargets, disposeHeadBatch, labelledSubset, splitInOrder, toHeadBatch, trainingBatches } from './finetune-data';
import { initializeHeadOnFirstBatch } from './head-init';
import { finetuneReport, renderFinetuneHtml, type FinetuneReport, type TestCurvePoint } from './finetune-report';
import { initStage } from './init-stage';
import type { InitData } from './init-sample';
import { pretrainStage } from './pretrain-stage';
import { networkOfArtifact } from './artifact-network';
import { runStage } from './run-stage';
import { sectionConfig, withoutLocations } from './section-config';
import {
  STAGE_SUMMARIES,
  type ArtifactInput,
  type StageContext,
  type StageDefinition,
  type StageInputs,
  type StageOutcome,
  type StageRun,
} from './stage-contract';

export { FinetuneConfigSchema };
export type { FinetuneConfig, FinetuneConfigInput } from '../config/finetune-config';
export type FinetuneOutcome = StageOutcome<FinetuneReport>;

/** Images per forward pass when evaluating. */
const EVALUATION_BATCH = 250;

/**
 * The head's metrics over a split in stored order (at most `limit` images), evaluated in inference mode.
 * Synchronous per batch: called between training steps, it sees the weights of the last completed step.
 */
export async function evaluateSplit(
  model: tf.LayersModel,
  head: DownstreamHead,
  data: InitData,
  split: string,
  normalization: InputNormalizationConfig,
  limit?: number,
): Promise<HeadMetrics> {
  const evaluator = head.evaluator();
  const options = { batchSize: EVALUATION_BATCH, ...(limit === undefined ? {} : { limit }), ...(data.decode ? { decode: data.decode } : {}) };
  for await (const bytes of splitInOrder(data.dataset, split, options)) {
    const batch = toHeadBatch(bytes, normalization);
    try {
      evaluator.add(model, batch);
    } finally {
      disposeHeadBatch(batch);
    }
  }
  return evaluator.result();
}

/** Byte batches of a split held in memory (the learning curve's test images), evaluated without awaiting. */
function evaluateBatches(model: tf.LayersModel, head: DownstreamHead, batches: UintBatch[], normalization: InputNormalizationConfig): HeadMetrics {
  const evaluator = head.evaluator();
  for (const bytes of batches) {
    const batch = toHeadBatch(bytes, normalization);
    try {
      evaluator.add(model, batch);
    } finally {
      disposeHeadBatch(batch);
    }
  }
  return evaluator.result();
}

async function readBatches(data: InitData, split: string, limit: number): Promise<UintBatch[]> {
  const out: UintBatch[] = [];
  for await (const b of splitInOrder(data.dataset, split, { batchSize: EVALUATION_BATCH, limit, ...(data.decode ? { decode: data.decode } : {}) })) out.push(b);
  return out;
}

/** The progress listener with the learning curve's test evaluation after every `testEvery` steps (between steps, so deterministic). */
function withTestCurve(progress: ProgressListener, config: FinetuneConfig, evaluate: () => HeadMetrics, curve: TestCurvePoint[]): ProgressListener {
  return (event) => {
    progress(event);
    const step = event.completed;
    if (event.task !== 'train' || event.phase !== 'advance' || config.testEvery === 0 || step % config.testEvery !== 0 || step >= config.steps) return;
    const metrics = evaluate();
    curve.push({ step, metric: metrics.primary.name, value: metrics.primary.value });
  };
}

/** The fixed budget of a fine-tuning run, as trainModel takes it. */
function trainingBudget(config: FinetuneConfig) {
  const { steps, optimizer, learningRate, weightDecay, schedule, checkpointEvery } = config;
  return { steps, optimizer, learningRate, weightDecay, schedule, checkpointEvery };
}

/** What a fine-tuning run publishes: the model with its head record (the head's layers added here), report.json and report.html. */
async function finetuneFiles(
  model: tf.LayersModel,
  trunk: tf.LayersModel,
  head: Omit<HeadRecord, 'layers'>,
  normalization: InputNormalizationConfig,
  report: FinetuneReport,
): Promise<Map<string, Uint8Array>> {
  const layers = model.layers.filter((l) => !trunk.layers.includes(l)).map((l) => l.name);
  const files = await modelToFiles(model, { inputNormalization: normalization, head: { ...head, layers } });
  files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  files.set('report.html', new TextEncoder().encode(renderFinetuneHtml(report)));
  return files;
}

/** Fine-tunes the head's model from the newest checkpoint, if any; evaluates it on the test split; returns the files to publish. */
async function runFinetune(config: FinetuneConfig, inputs: StageInputs, context: StageContext): Promise<StageRun<FinetuneReport>> {
  const logger = context.logger ?? silentLogger;
  const data = inputs.data;
  checkHeadTargets(data, config.task, createHead(config.task, { classes: data.classes, seed: config.seed }).needs);
  data.dataset.split(config.testSplit); // a missing test split is reported before any training
  const { network: trunk, normalization } = await networkOfArtifact(inputs.artifacts.trunk);
  const from = inputs.artifacts.trunk.location.url;
  const fromStage = inputs.artifacts.trunk.metadata.stage;
  let model: tf.LayersModel | undefined;
  try {
    const featureLayer = config.featureLayer ?? defaultFeatureLayer(trunk, config.task);
    const head = createHead(config.task, { classes: data.classes, seed: config.seed, ...(featureLayer === null ? {} : { featureLayer }) });
    model = head.model(trunk);
    const trained = model;
    const layerRates = fineTuneRates(model, { trainFrom: config.trainFrom, layerRates: config.layerRates });
    const subset = config.labelsPerClass === null ? null : await labelledSubset(data, config.labelsPerClass, config.seed, logger);
    const curveImages = config.testEvery > 0 ? await readBatches(data, config.testSplit, config.curveExamples) : [];
    const testCurve: TestCurvePoint[] = [];
    const resume = config.force ? null : await inputs.checkpoints.latest();
    // A resumed run's checkpoint holds the head it trained; only a fresh one initializes it.
    if (resume === null && config.headInit === 'data') await normalizeHead(model, trunk, data, config, subset, normalization, logger);
    const progress = withTestCurve(context.progress ?? silentProgress, config, () => evaluateBatches(trained, head, curveImages, normalization), testCurve);
    const result = await trainModel(
      model,
      head.objective,
      { ...trainingBudget(config), layerRates },
      {
        data: (fromStep) => trainingBatches(data, config, subset, normalization, fromStep),
        release: disposeHeadBatch,
        onCheckpoint: (bytes, step) => inputs.checkpoints.save(step, bytes),
        ...(resume ? { resume: { bytes: resume.bytes, where: resume.where } } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      },
      { logger, progress },
    );
    if (result.interrupted) return { interrupted: true };
    const test = await evaluateSplit(model, head, data, config.testSplit, normalization);
    logger.info('test split evaluated', { split: config.testSplit, [test.primary.name]: test.primary.value });
    const report = finetuneReport({
      config,
      data,
      from,
      fromStage,
      head,
      featureLayer,
      frozen: layerRates.filter((r) => r.multiplier === 0).map((r) => r.match),
      trainExamples: subset?.size ?? data.examples,
      result,
      test,
      testCurve,
      backend: context.backend,
      configHash: inputs.configHash,
    });
    const record = { task: config.task, classes: data.classes, classNames: data.dataset.features.classNames, featureLayer };
    return { interrupted: false, files: await finetuneFiles(model, trunk, record, normalization, report), report };
  } finally {
    disposeModels(model, trunk);
  }
}

/** The head normalized on step 0's training batch (stages/head-init.ts), logged with the layers it set. */
function normalizeHead(
  model: tf.LayersModel,
  trunk: tf.LayersModel,
  data: InitData,
  config: FinetuneConfig,
  subset: UintBatch | null,
  normalization: InputNormalizationConfig,
  logger: Logger,
): Promise<void> {
  const batches = trainingBatches(data, config, subset, normalization, 0);
  return initializeHeadOnFirstBatch(model, trunk, batches, { inputsOf: (b) => b.images, release: disposeHeadBatch }, config.seed, logger);
}

/**
 * The layer a classify or multilabel head reads when none is named: the input of the
 * network's classifier (its output layer, when that is a dense layer), so the new head
 * replaces it as the paper's fine-tuning protocol replaces CaffeNet's fc8. Segmentation
 * and detection heads choose their own (the last spatial layer): null.
 */
export function defaultFeatureLayer(trunk: tf.LayersModel, task: HeadTask): string | null {
  if (task !== 'classify' && task !== 'multilabel') return null;
  const output = trunk.outputLayers[0];
  if (output === undefined || output.getClassName() !== 'Dense') return null;
  return output.inboundNodes[0]?.inboundLayers[0]?.name ?? null;
}

/**
 * Disposes the head's model and the trunk: the model disposes the trunk layers it uses (tfjs counts a
 * layer's uses per application, and the head reuses the trunk's applications), the rest go one by one
 * (e.g. fc8 when the head reads fc7).
 */
export function disposeModels(model: tf.LayersModel | undefined, trunk: tf.LayersModel): void {
  if (model === undefined) {
    trunk.dispose();
    return;
  }
  model.dispose();
  for (const layer of trunk.layers) if (!model.layers.includes(layer)) layer.dispose();
}

/**
 * The artifact the network comes from: named by `from` (an init or a pretrain artifact); else this
 * pipeline config's pretrain stage when it has a `pretrain:` section, else its init stage — found by configuration hash.
 */
function trunkInput(config: FinetuneConfig, pipeline: PipelineConfig | undefined): ArtifactInput[] {
  if (config.from !== undefined) {
    return [{ name: 'trunk', stage: 'init', accepts: ['init', 'pretrain'], location: config.from, key: 'from', expect: { kind: 'any' } }];
  }
  const top = pipeline ?? PipelineConfigSchema.parse({});
  if (top.pretrain !== undefined) {
    const pretrain = pretrainStage.configFrom(top, { pretrain: top.pretrain }, {});
    return [
      {
        name: 'trunk',
        stage: 'pretrain',
        location: pretrain.out,
        key: 'pretrain.out',
        expect: { kind: 'config', definition: pretrainStage, config: pretrain },
      },
    ];
  }
  return [{ name: 'trunk', stage: 'init', location: top.out, key: 'out', expect: { kind: 'config', definition: initStage, config: top } }];
}

/** The `finetune:` section's keys over the top level's data, split, seed and force, then the flags. */
function finetuneConfigFrom(pipeline: PipelineConfig, document: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, unknown>>): FinetuneConfig {
  const inherited = { data: pipeline.data, split: pipeline.split, seed: pipeline.seed, force: pipeline.force };
  return sectionConfig(FinetuneConfigSchema, 'finetune', inherited, document, flags);
}

export const finetuneStage: StageDefinition<FinetuneConfig, FinetuneReport> = {
  name: 'finetune',
  summary: STAGE_SUMMARIES.finetune,
  schema: FinetuneConfigSchema,
  configFrom: finetuneConfigFrom,
  dataset: (config) => ({ data: config.data, split: config.split }),
  artifacts: trunkInput,
  definingConfig: withoutLocations,
  checkpoints: true,
  run: runFinetune,
  describe: (report, location) => ({
    text: `fine-tuned (${report.task}, ${report.steps} steps${report.resumedFrom === null ? '' : `, resumed from step ${report.resumedFrom}`}): test ${report.test.primary.name} ${report.test.primary.value.toFixed(3)} on ${report.test.examples} ${report.test.split} images (chance ${report.chance.toFixed(3)}) → ${location}`,
    json: { out: location, report: 'report.json', test: report.test.primary, resumedFrom: report.resumedFrom },
  }),
  // As pretrain: every retry resumes from the newest checkpoint; 120 s of grace for the step in flight and the checkpoint.
  job: { backoffLimit: 4, terminationGracePeriodSeconds: 120 },
};

/**
 * Runs the finetune stage through {@link runStage}; `pipeline` is the config whose pretrain or init stage
 * is found by hash when `from` is not set (default: all defaults).
 * @throws ConfigError / DataError / ShapeError for bad input (exit 2): no input artifact, a feature or
 *   trainFrom layer the network lacks, a dataset without the labels the task needs, a missing split;
 *   NumericalError after a checkpoint when training diverges; StorageError otherwise.
 */
export function runFinetuneStage(config: FinetuneConfig, context: StageContext, pipeline?: PipelineConfig): Promise<FinetuneOutcome> {
  return runStage(finetuneStage, config, context, pipeline);
}
