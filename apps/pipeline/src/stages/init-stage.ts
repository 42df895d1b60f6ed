/**
 * The init stage (the main job): data sample → model → the initialization named
 * by `init` → model + report, published atomically. `ddinit-<source>`: within-layer
 * init, then (`+calibration`) the between-layer calibration; a data-free name: one
 * seeded draw per kernel; `lsuv`: the `orthogonal` draw, then LSUV's rescaling on the
 * calibration batch. Every artifact has the same layout and carries the sample's
 * per-channel input normalization, data-free ones included, so later stages read
 * any of them the same way.
 *
 * A stage of the contract (stage-contract.ts): `runStage` opens the data and the
 * output, hashes the configuration (result-defining configuration, code version,
 * the dataset's content — never its location), skips an up-to-date artifact and
 * publishes what `run` returns; the backend is bound by the CLI.
 */
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, NumericalError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { calibrateChangeRates, type CalibrationResult } from '@ddinit/init-between-layer';
import { initializeWithinLayers, parseWithinLayerOptions, resolveLayerPlans, type LayerInitStats, type WithinLayerReport } from '@ddinit/init-within-layer';
import { parameterLayers, readKernel } from '@ddinit/models';
import { initializationPlan, usesCalibrationBatch, type InitializationPlan } from '../config/initializations';
import { PipelineConfigSchema, resultDefiningConfig, type PipelineConfig } from '../config/pipeline-config';
import { modelToFiles } from '../model/model-files';
import { checkModelReference, modelImageSize, resolveModel } from '../model/resolve-model';
import { renderReportHtml } from '../report/render-html';
import { InitReportSchema, type FilterImage, type HeldOutReport, type InitReport, type LayerReport, type LsuvReport } from '../report/report-schema';
import { formatLayerSummary } from '../report/layer-summary';
import { checkHeldOutLayers, heldOutLoss, MEAN_SHIFT_LIMIT, STD_RATIO_LIMIT, type HeldOutLayer } from './held-out-check';
import { disposeInitSample, growthImages, readInitSample, type InitData, type InitSample } from './init-sample';
import { initializeWithoutSource } from './init-without-source';
import { CODE_VERSION } from './code-version';
import { runStage } from './run-stage';
import { checkSampleMemory, chooseSampleSize, ROWS_PER_FILTER, WASM_ACTIVATION_BUDGET, type SampleChoice } from './sample-size';
import { STAGE_SUMMARIES, type StageContext, type StageDefinition, type StageInputs, type StageOutcome, type StageRun } from './stage-contract';

const seconds = (): number => performance.now() / 1000;

function withinLayerReports(within: WithinLayerReport, calibration: CalibrationResult | null, heldOut: HeldOutLayer[] | null): LayerReport[] {
  return within.layers.map((l: LayerInitStats, k) => ({
    name: l.name,
    kind: l.kind,
    method: l.method,
    fallback: l.fallback,
    rows: l.rows > 0 ? l.rows : null,
    images: l.images > 0 ? l.images : null,
    outMean: l.outMean,
    outStd: l.outStd,
    worstMeanDeviation: l.worstMeanDeviation,
    worstStdDeviation: l.worstStdDeviation,
    heldOutMean: heldOut?.[k].mean ?? null,
    heldOutStd: heldOut?.[k].std ?? null,
    heldOutStrays: heldOut?.[k].strays ?? false,
    outStdBefore: l.outStdBefore,
    changeRateBefore: calibration?.initialRates[l.name] ?? null,
    changeRateAfter: calibration?.finalRates[l.name] ?? null,
    seconds: l.seconds,
  }));
}

function firstLayerFilters(model: tf.LayersModel): FilterImage | null {
  const first = parameterLayers(model).find((p) => p.kind === 'conv');
  if (!first || first.kernelShape?.length !== 4) return null;
  const kernel = readKernel(first);
  try {
    const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
    return { layer: first.name, shape: [kh, kw, cin, cout], values: Array.from(kernel.dataSync()) };
  } finally {
    kernel.dispose();
  }
}

/** Refuses to publish a model with a NaN or infinite weight, naming the weight. */
function checkFinite(model: tf.LayersModel): void {
  for (const weight of model.weights) {
    const finite = tf.tidy(() => tf.all(tf.isFinite(weight.read())).dataSync()[0] === 1);
    if (!finite) {
      throw new NumericalError('the initialized model has a NaN or infinite weight; nothing was written', {
        where: `weight ${weight.originalName}`,
        expected: 'finite values',
      });
    }
  }
}

/** The activation memory a run may take: the wasm heap's share, or half the machine's memory. */
function activationBudget(backend: string): number {
  const machine = totalmem() / 2;
  return backend.startsWith('wasm') ? Math.min(WASM_ACTIVATION_BUDGET, machine) : machine;
}

interface PreparedSample {
  sample: InitSample;
  model: tf.LayersModel;
  choice: SampleChoice;
}

/**
 * Opens the data, builds the model for its shape, chooses the sample size (explicit,
 * or derived from the model's layers), checks it against the calibration batch and
 * the backend's memory, then reads the sample and the held-out images.
 * @throws ConfigError naming `sample` or `calibrationBatch`; DataError for the data.
 */
async function prepareSample(config: PipelineConfig, context: StageContext, data: InitData, observers: Required<Observers>): Promise<PreparedSample> {
  const plan = initializationPlan(config.init);
  // Only ddinit's sources need patch rows; the others take the sample for the input normalization (and LSUV's batch).
  const withinOptions = plan.kind === 'ddinit' ? { ...config.withinOptions, method: plan.within } : { method: 'orthogonal' as const };
  const within = parseWithinLayerOptions({ ...withinOptions, seed: config.seed });
  // Every kernel is drawn anew unless a layer is kept: then the model's own draw would be wasted.
  const keepsALayer = within.initializeFrom !== null || within.layers.some((rule) => rule.skip === true);
  const model = await resolveModel({
    model: config.model,
    modelOptions: config.modelOptions,
    seed: config.seed,
    inputShape: data.inputShape,
    classes: data.classes,
    store: context.store ?? {},
    initialWeights: keepsALayer ? 'heNormal' : 'zeros',
  });
  try {
    const plans = resolveLayerPlans(parameterLayers(model), within);
    const choice = chooseSampleSize(config.sample, plans, data.examples);
    if (choice.capped) observers.logger.warn(`the split holds fewer images than the layers want: ${choice.rule}`, { images: choice.size + choice.growth });
    if (usesCalibrationBatch(plan) && config.calibrationBatch > choice.size) {
      throw new ConfigError('the calibration batch is larger than the init sample', {
        where: 'calibrationBatch',
        expected: `at most ${choice.size} images (sample ${choice.rule})`,
        actual: config.calibrationBatch,
      });
    }
    checkSampleMemory(choice.size, model, plans, activationBudget(context.backend), config.model);
    const sample = await readInitSample(data, { size: choice.size, heldOut: choice.heldOut, seed: config.seed }, observers);
    return { sample, model, choice };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function heldOutReport(model: tf.LayersModel, heldOut: NonNullable<InitSample['heldOut']>, layers: HeldOutLayer[], classes: number): HeldOutReport {
  const loss = heldOutLoss(model, heldOut, classes);
  return {
    images: heldOut.images.shape[0],
    stdRatioLimit: STD_RATIO_LIMIT,
    meanShiftLimit: MEAN_SHIFT_LIMIT,
    strayLayers: layers.filter((l) => l.strays).map((l) => l.name),
    loss,
    chanceLoss: loss === null ? null : Math.log(classes),
  };
}

/** What an initialization did, in the report's terms. */
interface Initialized {
  layers: LayerReport[];
  within: InitReport['within'];
  calibration: InitReport['calibration'];
  lsuv: LsuvReport | null;
  heldOutLayers: HeldOutLayer[] | null;
  withinSeconds: number;
  betweenSeconds: number;
}

/** `ddinit-<source>[+calibration]`: the within-layer init from the sample, then the between-layer calibration. */
async function initializeFromSource(
  model: tf.LayersModel,
  prepared: PreparedSample,
  config: PipelineConfig,
  plan: Extract<InitializationPlan, { kind: 'ddinit' }>,
  data: InitData,
  observers: Required<Observers>,
): Promise<Initialized> {
  const { sample, choice } = prepared;
  const { logger } = observers;
  const withinStart = seconds();
  const within = await initializeWithinLayers(
    model,
    sample.images,
    { ...config.withinOptions, method: plan.within, seed: config.seed },
    observers,
    choice.growth > 0
      ? {
          rowsPerFilter: ROWS_PER_FILTER,
          ...growthImages(data, { skip: choice.size + choice.heldOut, count: choice.growth, seed: config.seed, normalization: sample.normalization }),
        }
      : undefined,
  );
  const withinSeconds = seconds() - withinStart;
  // Before calibration: the held-out numbers describe the same weights as the in-sample ones.
  const heldOutLayers = sample.heldOut ? checkHeldOutLayers(model, sample.heldOut, within.layers, logger) : null;

  let calibration: CalibrationResult | null = null;
  const betweenStart = seconds();
  if (plan.calibrate) {
    const batch = tf.slice(sample.images, 0, config.calibrationBatch);
    try {
      calibration = calibrateChangeRates(model, batch, { ...config.calibration, seed: config.seed }, observers);
    } finally {
      batch.dispose();
    }
    if (!calibration.converged) {
      logger.warn('calibration did not converge', { iterations: calibration.iterationsUsed, deviation: calibration.maxLogDeviation });
    }
  }
  return {
    layers: withinLayerReports(within, calibration, heldOutLayers),
    within: { method: plan.within, beta: within.options.beta },
    calibration: calibration && {
      iterations: calibration.iterationsUsed,
      converged: calibration.converged,
      maxLogDeviation: calibration.maxLogDeviation,
      outputStd: calibration.finalOutputStd,
    },
    lsuv: null,
    heldOutLayers,
    withinSeconds,
    betweenSeconds: seconds() - betweenStart,
  };
}

/** The initialization `config.init` names, of `model` on the prepared sample. */
async function initialize(
  model: tf.LayersModel,
  prepared: PreparedSample,
  config: PipelineConfig,
  data: InitData,
  observers: Required<Observers>,
): Promise<Initialized> {
  const plan = initializationPlan(config.init);
  if (plan.kind === 'ddinit') return initializeFromSource(model, prepared, config, plan, data, observers);
  const done = initializeWithoutSource(model, prepared.sample, config, plan, observers);
  return { ...done, within: null, calibration: null, withinSeconds: done.drawSeconds, betweenSeconds: done.rescaleSeconds };
}

/** The init stage: the initialization named by `config.init` of `model` on a sample of the data. */
async function runInit(config: PipelineConfig, inputs: StageInputs, context: StageContext): Promise<StageRun<InitReport>> {
  const observers = { logger: context.logger ?? silentLogger, progress: context.progress ?? silentProgress };
  const start = seconds();
  let sample: InitSample | undefined;
  let model: tf.LayersModel | undefined;
  try {
    const prepared = await prepareSample(config, context, inputs.data, observers);
    ({ sample, model } = prepared);
    const { choice } = prepared;
    observers.logger.info('sample ready', {
      init: config.init,
      data: sample.source,
      split: sample.split,
      images: choice.size,
      heldOut: choice.heldOut,
      rule: choice.rule,
      shape: sample.inputShape,
    });
    const done = await initialize(model, prepared, config, inputs.data, observers);
    checkFinite(model);
    const report: InitReport = InitReportSchema.parse({
      schemaVersion: 2,
      init: config.init,
      model: config.model,
      backend: context.backend,
      seed: config.seed,
      data: {
        source: sample.source,
        split: sample.split,
        sampleSize: choice.size,
        sampleRule: choice.rule,
        inputShape: sample.inputShape,
        normalization: sample.normalization,
      },
      within: done.within,
      timings: { totalSeconds: 0, withinSeconds: done.withinSeconds, betweenSeconds: done.betweenSeconds },
      layers: done.layers,
      calibration: done.calibration,
      lsuv: done.lsuv,
      heldOut: sample.heldOut && done.heldOutLayers && heldOutReport(model, sample.heldOut, done.heldOutLayers, sample.classes),
      firstLayerFilters: firstLayerFilters(model),
      configHash: inputs.configHash,
      codeVersion: CODE_VERSION,
      createdAt: new Date().toISOString(),
    });
    const files = await modelToFiles(model, { inputNormalization: sample.normalization });
    report.timings.totalSeconds = seconds() - start;
    files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    files.set('report.html', new TextEncoder().encode(renderReportHtml(report)));
    return { interrupted: false, files, report };
  } finally {
    if (sample) disposeInitSample(sample);
    model?.dispose();
  }
}

const modelReferenceOf = (config: PipelineConfig, store: StoreOptions) => ({ model: config.model, modelOptions: config.modelOptions, store });

export const initStage: StageDefinition<PipelineConfig, InitReport> = {
  name: 'init',
  summary: STAGE_SUMMARIES.init,
  schema: PipelineConfigSchema,
  configFrom: (pipeline, _document, flags) => PipelineConfigSchema.parse({ ...pipeline, ...flags }),
  // A wrong --model is reported before any data is read; the manifest alone gives the dataset's identity.
  precheck: (config, store) => checkModelReference(modelReferenceOf(config, store)),
  dataset: (config, store) => ({ data: config.data, split: config.split, decodeSize: () => modelImageSize(modelReferenceOf(config, store)) }),
  artifacts: () => [],
  definingConfig: resultDefiningConfig,
  checkpoints: false,
  run: runInit,
  describe: (report, location) => ({
    text: formatLayerSummary(report),
    json: { out: location, report: 'report.json', summary: report.calibration, seconds: report.timings },
  }),
  job: { backoffLimit: 2, terminationGracePeriodSeconds: 30 },
};

export type InitOutcome = StageOutcome<InitReport>;

/**
 * Runs the init stage through {@link runStage}.
 * @throws ConfigError / DataError / ShapeError for bad configuration or input
 *   (the CLI exits 2), NumericalError or StorageError otherwise (exit 1).
 */
export function runInitStage(config: PipelineConfig, context: StageContext): Promise<InitOutcome> {
  return runStage(initStage, config, context);
}
