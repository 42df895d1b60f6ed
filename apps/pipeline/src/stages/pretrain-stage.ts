/**
 * The pretrain stage: a network — an init artifact's, or a data-free baseline
 * initialization of a model — → a pretext head → self-supervised training on the
 * dataset's images (rotation, context prediction or jigsaw) → the trained trunk (head removed) with
 * report.json and report.html. A stage of the contract (stage-contract.ts):
 * `runStage` opens the data, the init artifact and the output, and publishes.
 *
 * Resumable: checkpoints go to the checkpoint store beside `out` every
 * `checkpointEvery` steps and when `signal` aborts (the CLI wires SIGTERM to it);
 * a rerun with the same configuration continues from the newest complete one and
 * ends with the weights of an uninterrupted run (same seed, same backend), since
 * `stepBatches` gives every step the same batch in every run.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, silentLogger, silentProgress } from '@ddinit/core';
import { stepBatches, type StoreOptions, type UintBatch } from '@ddinit/data';
import { initializeBaseline, type BaselineMethod } from '@ddinit/init-within-layer';
import { createPretextTask, type PretextTask, type PretextTaskConfig } from '@ddinit/pretrain';
import { BatchWorker, classificationObjective, stepInputs, trainModel, workerBatches, type LabelledBatch, type TrainResult } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { PipelineConfigSchema, type PipelineConfig } from '../config/pipeline-config';
import { DEFAULT_BASELINE_MODEL, PretrainConfigSchema, type PretrainConfig } from '../config/pretrain-config';
import { modelToFiles } from '../model/model-files';
import { checkModelReference, resolveModel } from '../model/resolve-model';
import { initStage } from './init-stage';
import { disposeInitSample, readInitSample, type InitData } from './init-sample';
import { initializeHeadOnFirstBatch } from './head-init';
import { renderPretrainHtml, type PretrainReport } from './pretrain-report';
import { CODE_VERSION } from './code-version';
import { networkOfArtifact } from './artifact-network';
import { PRETEXT_BATCH_BUILDER_MODULE, pretextBatchOf, type PretextBatchSetup, type PretextReadSetup } from './pretext-batch-builder';
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

export { PretrainConfigSchema };
export type { PretrainConfig, PretrainConfigInput } from '../config/pretrain-config';

export type PretrainContext = StageContext;
export type PretrainOutcome = StageOutcome<PretrainReport>;

/** The last layer whose output is 4-D (the deepest feature map), for the head. */
function lastSpatialLayer(network: tf.LayersModel, task: string): string {
  const spatial = network.layers.filter((l) => !(l instanceof tf.LayersModel) && (l.outputShape as number[]).length === 4);
  const last = spatial.at(-1);
  if (last === undefined) {
    throw new ConfigError(`the trunk has no spatial output for the ${task} head`, {
      where: `model ${network.name}`,
      expected: 'a layer with a 4-D (NHWC) output',
      actual: network.layers.map((l) => l.name).join(', '),
    });
  }
  return last.name;
}

/** Step s's data batch (bytes) with its step, in `stepBatches`'s order (the same in every run). */
async function* stepBytes(data: InitData, config: PretrainConfig, fromStep: number): AsyncGenerator<UintBatch & { step: number }> {
  let step = fromStep;
  // The options of the worker's own reading (pretext-batch-builder.ts), so the same batches.
  for await (const batch of stepBatches(data.dataset, data.split, { batchSize: config.batchSize, seed: config.seed, fromStep })) {
    // One event-loop turn per step: the SIGTERM handler (→ abort) runs only between macrotasks, and a
    // prefetched batch resolves as a microtask, so without it a run would never see the signal.
    await new Promise((resolve) => setImmediate(resolve));
    yield { ...batch, step: step++ };
  }
}

/**
 * Step s's pretext batch: the dataset's images standardized as at init, made into the task's inputs
 * (turns, patches or tiles) — on `worker` while the previous step trains when there is one (the same
 * batches, pretext-batch-builder.ts), else here between steps.
 */
async function* pretextBatches(
  data: InitData,
  config: PretrainConfig,
  task: PretextTask,
  setup: PretextBatchSetup,
  fromStep: number,
  worker?: BatchWorker,
): AsyncGenerator<LabelledBatch> {
  if (worker !== undefined) {
    const inputs = setup.read === undefined ? stepBytes(data, config, fromStep) : stepInputs(fromStep);
    for await (const t of workerBatches(worker, inputs, 2)) yield { inputs: t.inputs, labels: t.labels };
    return;
  }
  for await (const { step, ...bytes } of stepBytes(data, config, fromStep)) {
    yield pretextBatchOf(bytes, step, setup, (images, s) => task.buildBatch(images, s));
  }
}

/** The retry settings that cross threads: the numbers, not the logger or the jitter source (the worker uses its defaults). */
function cloneableRetry(retry: StoreOptions['retry']): PretextReadSetup['store']['retry'] {
  if (retry === undefined) return undefined;
  const { attempts, baseDelayMs, maxDelayMs } = retry;
  return { attempts, baseDelayMs, maxDelayMs };
}

/**
 * A batch worker on this backend (wasm or cpu), or undefined where batches stay on this thread
 * (tfjs-node builds them natively). It reads the data itself unless the store was given as a
 * client object, which cannot cross threads; `setup` says which.
 */
async function startPretextWorker(
  setup: PretextBatchSetup,
  data: InitData,
  config: PretrainConfig,
  store: StoreOptions,
): Promise<{ worker?: BatchWorker; setup: PretextBatchSetup }> {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return { setup };
  const read =
    store.client === undefined
      ? { source: data.source, split: data.split, batchSize: config.batchSize, store: { s3: store.s3, retry: cloneableRetry(store.retry) } }
      : undefined;
  const withRead = read === undefined ? setup : { ...setup, read };
  return { worker: await BatchWorker.start({ module: PRETEXT_BATCH_BUILDER_MODULE, setup: withRead, backend }), setup: withRead };
}

/** The network to pretrain, the normalization its inputs get, and a description of where it came from. */
interface StartingNetwork {
  network: tf.LayersModel;
  normalization: InputNormalizationConfig;
  from: string;
}

/** The init artifact's network, with the input normalization init recorded in it, checked to take the task's inputs. */
async function networkOfInit(inputs: StageInputs, task: PretextTask): Promise<StartingNetwork> {
  const { network, normalization } = await networkOfArtifact(inputs.artifacts.init, (n, where) => checkTrunkTakesTaskInputs(n, task, where));
  return { network, normalization, from: inputs.artifacts.init.location.url };
}

/**
 * A patch task's trunk sees patches or tiles, not whole images: an init artifact must
 * have been initialized at that size (init reads data at the model's input size).
 * @throws ConfigError naming both sizes and the way to an artifact of the right one.
 */
function checkTrunkTakesTaskInputs(network: tf.LayersModel, task: PretextTask, where: string): void {
  const shape = network.inputs[0]?.shape.slice(1) ?? [];
  if (network.inputs.length === 1 && shape.every((size, i) => size === task.inputShape[i])) return;
  const [side] = task.inputShape;
  throw new ConfigError(`the init artifact's network does not take the ${task.name} task's inputs`, {
    where,
    expected: `one input of ${task.inputShape.join('×')} (${task.name === 'rotation' ? 'the images' : 'a patch'}; initialize the network on data of that size, e.g. \`ddinit data convert image-folder --size ${side}\`, or pretrain from --baseline)`,
    actual: network.inputs.map((input) => input.shape.slice(1).join('×')).join(', '),
  });
}

/**
 * `model` with the baseline initialization, its inputs standardized by the per-channel
 * mean and std of the first `sample` images of the split's seeded epoch — init's sample rule.
 * @throws DataError when the split has fewer than `sample` images.
 */
async function networkOfBaseline(
  config: PretrainConfig,
  method: BaselineMethod,
  task: PretextTask,
  inputs: StageInputs,
  context: StageContext,
): Promise<StartingNetwork> {
  const model = config.model ?? DEFAULT_BASELINE_MODEL;
  const sample = await readInitSample(inputs.data, { size: config.sample, heldOut: 0, seed: config.seed }, context);
  const normalization = sample.normalization;
  disposeInitSample(sample);
  const network = await resolveModel({
    model,
    modelOptions: config.modelOptions ?? {},
    seed: config.seed,
    inputShape: [...task.inputShape],
    classes: inputs.data.classes,
    store: inputs.store,
  });
  try {
    initializeBaseline(network, method, config.seed);
  } catch (error) {
    network.dispose();
    throw error;
  }
  context.logger?.info('baseline initialization', { method, model, seed: config.seed, normalizationSample: config.sample });
  return { network, normalization, from: `${method} baseline of ${model}` };
}

/** Trains the pretext task on `start.network` from the newest checkpoint, if any; returns the files to publish. */
async function runPretrain(config: PretrainConfig, inputs: StageInputs, context: StageContext): Promise<StageRun<PretrainReport>> {
  const logger = context.logger ?? silentLogger;
  const progress = context.progress ?? silentProgress;
  const task = createPretextTask(taskConfig(config), { imageShape: inputs.data.inputShape, seed: config.seed });
  const start = config.baseline === undefined ? await networkOfInit(inputs, task) : await networkOfBaseline(config, config.baseline, task, inputs, context);
  const { network, normalization } = start;
  let worker: BatchWorker | undefined;
  try {
    const featureLayer = config.featureLayer ?? lastSpatialLayer(network, task.name);
    const model = task.model(network, { featureLayer });
    const resume = config.force ? null : await inputs.checkpoints.latest();
    const setup: PretextBatchSetup = { task: taskConfig(config), imageShape: inputs.data.inputShape, seed: config.seed, normalization };
    // A resumed run's checkpoint holds the head it trained; only a fresh one draws it.
    if (resume === null && config.headInit === 'data') await normalizeHead(model, network, inputs.data, config, task, setup, context);
    const started = await startPretextWorker(setup, inputs.data, config, inputs.store);
    worker = started.worker;
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
        data: (fromStep) => pretextBatches(inputs.data, config, task, started.setup, fromStep, worker),
        release: (b) => tf.dispose([b.inputs, b.labels]),
        onCheckpoint: (bytes, step) => inputs.checkpoints.save(step, bytes),
        ...(resume ? { resume: { bytes: resume.bytes, where: resume.where } } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      },
      { logger, progress },
    );
    if (result.interrupted) return { interrupted: true };
    const report = pretrainReport(config, task, start.from, featureLayer, result, context.backend, inputs.configHash);
    const files = await modelToFiles(network, { inputNormalization: normalization });
    files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    files.set('report.html', new TextEncoder().encode(renderPretrainHtml(report)));
    return { interrupted: false, files, report };
  } finally {
    await worker?.close();
    network.dispose();
  }
}

/** The head normalized on step 0's batch (stages/head-init.ts), logged with the layers it set. */
function normalizeHead(
  model: tf.LayersModel,
  trunk: tf.LayersModel,
  data: InitData,
  config: PretrainConfig,
  task: PretextTask,
  setup: PretextBatchSetup,
  context: StageContext,
): Promise<void> {
  const batches = pretextBatches(data, config, task, setup, 0);
  const release = (b: { inputs: tf.Tensor; labels: tf.Tensor }): void => tf.dispose([b.inputs, b.labels]);
  return initializeHeadOnFirstBatch(model, trunk, batches, { inputsOf: (b) => b.inputs, release }, config.seed, context.logger);
}

/** The init artifact the network comes from: named by `from`, or this pipeline config's init stage found by its hash; none for a baseline. */
function initInput(config: PretrainConfig, pipeline: PipelineConfig | undefined): ArtifactInput[] {
  if (config.baseline !== undefined) return [];
  if (config.from !== undefined) return [{ name: 'init', stage: 'init', location: config.from, key: 'from', expect: { kind: 'any' } }];
  const init = pipeline ?? PipelineConfigSchema.parse({});
  return [{ name: 'init', stage: 'init', location: init.out, key: 'out', expect: { kind: 'config', definition: initStage, config: init } }];
}

/** The `pretrain:` section's keys over the top level's data, split, seed and force, then the flags. */
function pretrainConfigFrom(pipeline: PipelineConfig, document: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, unknown>>): PretrainConfig {
  const inherited = { data: pipeline.data, split: pipeline.split, seed: pipeline.seed, force: pipeline.force };
  return sectionConfig(PretrainConfigSchema, 'pretrain', inherited, document, flags);
}

/** The result-defining configuration: no locations (the init artifact counts by its hash), the model only for a baseline. */
function definingConfig(config: PretrainConfig): Record<string, unknown> {
  const { model, modelOptions, sample, ...rest } = withoutLocations(config);
  return config.baseline === undefined ? rest : { ...rest, model: model ?? DEFAULT_BASELINE_MODEL, modelOptions: modelOptions ?? {}, sample };
}

export const pretrainStage: StageDefinition<PretrainConfig, PretrainReport> = {
  name: 'pretrain',
  summary: STAGE_SUMMARIES.pretrain,
  schema: PretrainConfigSchema,
  configFrom: pretrainConfigFrom,
  // A baseline's wrong --model is reported before any data is read.
  precheck: async (config, store) => {
    if (config.baseline !== undefined)
      await checkModelReference({ model: config.model ?? DEFAULT_BASELINE_MODEL, modelOptions: config.modelOptions ?? {}, store });
  },
  dataset: (config) => ({ data: config.data, split: config.split }),
  artifacts: initInput,
  definingConfig,
  checkpoints: true,
  run: runPretrain,
  describe: (report, location) => ({
    text: `pretrained (${report.task}, ${report.steps} steps${report.resumedFrom === null ? '' : `, resumed from step ${report.resumedFrom}`}): accuracy ${report.final.accuracy.toFixed(3)} (chance ${report.final.chanceAccuracy}), loss ${report.final.loss.toFixed(4)} → ${location}`,
    json: { out: location, report: 'report.json', final: report.final, resumedFrom: report.resumedFrom },
  }),
  // Every retry resumes from the newest checkpoint, so retries are cheap: more than init's.
  // 120 s of grace: the step in flight, then the checkpoint (weights and optimizer slots) written to the bucket — see docs/kubernetes.md.
  job: { backoffLimit: 4, terminationGracePeriodSeconds: 120 },
};

/**
 * Runs the pretrain stage through {@link runStage}; `pipeline` is the config whose init stage
 * is found by hash when neither `from` nor `baseline` is set (default: all defaults).
 * @throws ConfigError / DataError / ShapeError for bad input (exit 2): no init artifact, one of
 *   another configuration, a model without its input normalization, a checkpoint of another
 *   configuration, a missing split; NumericalError after a checkpoint when training diverges;
 *   StorageError otherwise.
 */
export function runPretrainStage(config: PretrainConfig, context: PretrainContext, pipeline?: PipelineConfig): Promise<PretrainOutcome> {
  return runStage(pretrainStage, config, context, pipeline);
}

/** The library's task configuration from the stage's `task` and `taskOptions`. */
function taskConfig(config: PretrainConfig): PretextTaskConfig {
  return config.task === 'rotation' ? { name: 'rotation' } : { name: config.task, options: config.taskOptions };
}

function pretrainReport(
  config: PretrainConfig,
  task: PretextTask,
  from: string,
  featureLayer: string,
  result: TrainResult,
  backend: string,
  configHash: string,
): PretrainReport {
  const last = result.steps.slice(-Math.min(20, result.steps.length));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  return {
    schemaVersion: 1,
    stage: 'pretrain',
    task: task.name,
    classes: task.classes,
    trunkInput: [...task.inputShape],
    from,
    featureLayer,
    backend,
    seed: config.seed,
    steps: config.steps,
    batchSize: config.batchSize,
    resumedFrom: result.resumedFrom,
    dataWaitShare: result.dataWaitShare,
    final: { loss: mean(last.map((s) => s.loss)), accuracy: mean(last.map((s) => s.metrics.accuracy ?? Number.NaN)), chanceAccuracy: 1 / task.classes },
    curve: result.steps.map((s) => ({ step: s.step, loss: s.loss, accuracy: s.metrics.accuracy ?? null, learningRate: s.learningRate })),
    configHash,
    codeVersion: CODE_VERSION,
    createdAt: new Date().toISOString(),
  };
}
