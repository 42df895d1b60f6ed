/**
 * The init stage (the main job): data sample → model → within-layer init →
 * between-layer calibration → model + report, published atomically.
 *
 * A stage is a plain function of its configuration; storage and the backend are
 * bound by the caller (the CLI). When `config.out` already holds an artifact made
 * from the same result-defining configuration, the stage is skipped unless
 * `config.force`.
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { calibrateChangeRates, type CalibrationResult } from '@ddinit/init-between-layer';
import { initializeWithinLayers, type LayerInitStats, type WithinLayerReport } from '@ddinit/init-within-layer';
import { parameterLayers, readKernel } from '@ddinit/models';
import packageJson from '../../package.json' with { type: 'json' };
import { resultDefiningConfig, type PipelineConfig } from '../config/pipeline-config';
import { modelToFiles } from '../model/model-files';
import { resolveModel } from '../model/resolve-model';
import { renderReportHtml } from '../report/render-html';
import { InitReportSchema, type FilterImage, type InitReport, type LayerReport } from '../report/report-schema';
import { describeArtifact, hashConfig, isUpToDate, type ArtifactLocation } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { loadInitSample } from './init-sample';

export const CODE_VERSION: string = packageJson.version;

export interface InitStageContext extends Observers {
  /** The backend the caller selected (for the report and metadata). */
  backend: string;
  /** S3 client options (tests point them at a local server). */
  store?: StoreOptions;
}

export interface InitOutcome {
  /** True when an up-to-date artifact was already there. */
  skipped: boolean;
  /** Where the artifact is. */
  location: string;
  configHash: string;
  report?: InitReport;
}

const seconds = (): number => performance.now() / 1000;

function layerReports(within: WithinLayerReport, calibration: CalibrationResult | null): LayerReport[] {
  return within.layers.map((l: LayerInitStats) => ({
    name: l.name,
    kind: l.kind,
    method: l.method === 'skipped' ? 'kept' : l.method,
    fallback: l.fallback,
    rows: l.rows > 0 ? l.rows : null,
    outMean: l.outMean,
    outStd: l.outStd,
    worstMeanDeviation: l.worstMeanError,
    worstStdDeviation: l.worstStdError,
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

/**
 * Runs the init stage.
 * @throws ConfigError / DataError / ShapeError for bad configuration or input
 *   (the CLI exits 2), NumericalError or StorageError otherwise (exit 1).
 */
export async function runInitStage(config: PipelineConfig, context: InitStageContext): Promise<InitOutcome> {
  const logger = context.logger ?? silentLogger;
  const progress = context.progress ?? silentProgress;
  const start = seconds();
  const configHash = hashConfig({ ...resultDefiningConfig(config), codeVersion: CODE_VERSION });
  const location: ArtifactLocation = openArtifactLocation(config.out, context.store ?? {});
  if (!config.force && (await isUpToDate(location, configHash))) {
    logger.info('up to date: an artifact of the same configuration exists (use --force to redo it)', { out: location.url, configHash });
    return { skipped: true, location: location.url, configHash };
  }

  const sample = await loadInitSample({ data: config.data, split: config.split, size: config.sample, seed: config.seed, store: context.store ?? {} }, { logger, progress });
  let model: tf.LayersModel | undefined;
  try {
    logger.info('sample ready', { data: sample.source, split: sample.split, images: config.sample, shape: sample.inputShape });
    model = await resolveModel({
      model: config.model,
      modelOptions: config.modelOptions,
      seed: config.seed,
      inputShape: sample.inputShape,
      classes: sample.classes,
      store: context.store ?? {},
    });

    const withinStart = seconds();
    const within = await initializeWithinLayers(model, sample.images, { ...config.withinOptions, method: config.within, seed: config.seed }, { logger, progress });
    const withinSeconds = seconds() - withinStart;

    let calibration: CalibrationResult | null = null;
    const betweenStart = seconds();
    if (config.calibrate) {
      const batch = tf.slice(sample.images, 0, config.calibrationBatch);
      try {
        calibration = calibrateChangeRates(model, batch, { ...config.calibration, seed: config.seed }, { logger, progress });
      } finally {
        batch.dispose();
      }
      if (!calibration.converged) {
        logger.warn('calibration did not converge', { iterations: calibration.iterationsUsed, deviation: calibration.finalDeviation });
      }
    }
    const betweenSeconds = seconds() - betweenStart;

    checkFinite(model);
    const report: InitReport = InitReportSchema.parse({
      schemaVersion: 1,
      model: config.model,
      backend: context.backend,
      seed: config.seed,
      data: { source: sample.source, split: sample.split, sampleSize: config.sample, inputShape: sample.inputShape, normalization: sample.normalization },
      within: { method: config.within, beta: within.options.beta },
      timings: { totalSeconds: 0, withinSeconds, betweenSeconds },
      layers: layerReports(within, calibration),
      calibration: calibration && {
        iterations: calibration.iterationsUsed,
        converged: calibration.converged,
        maxLogDeviation: calibration.finalDeviation,
        outputStd: calibration.finalOutputStd,
      },
      firstLayerFilters: firstLayerFilters(model),
      configHash,
      codeVersion: CODE_VERSION,
      createdAt: new Date().toISOString(),
    });
    const files = await modelToFiles(model, { inputNormalization: sample.normalization });
    report.timings.totalSeconds = seconds() - start;
    files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
    files.set('report.html', new TextEncoder().encode(renderReportHtml(report)));
    await location.publish(files, describeArtifact(files, { stage: 'init', configHash, seed: config.seed, codeVersion: CODE_VERSION, backend: context.backend }));
    logger.info('artifact published', { out: location.url, files: [...files.keys()] });
    return { skipped: false, location: location.url, configHash, report };
  } finally {
    sample.images.dispose();
    model?.dispose();
  }
}
