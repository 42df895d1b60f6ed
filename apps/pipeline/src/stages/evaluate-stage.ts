/**
 * The evaluate stage: an artifact's network, as published, scored on a split —
 * with the head's evaluator of its task when it is a finetune artifact (the
 * metrics its task defines), with linear probes on frozen features of the named
 * layers (trained on `trainSplit`, one pass for all layers, libs/eval), and with
 * k-nearest-neighbour classification on one layer's features. Probes and k-NN
 * work on any artifact (init, pretrain, finetune). Writes report.json and
 * report.html; the network is not changed and not republished.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, silentLogger, type Logger } from '@ddinit/core';
import { stepBatches, toTensorBatch, type UintBatch } from '@ddinit/data';
import { createHead, knnClassify, trainLinearProbes, type HeadMetrics } from '@ddinit/eval';
import type { LabelledBatch } from '@ddinit/train';
import type { InputNormalizationConfig } from '@ddinit/models/layers';
import { EvaluateConfigSchema, type EvaluateConfig } from '../config/evaluate-config';
import { PipelineConfigSchema, type PipelineConfig } from '../config/pipeline-config';
import { headRecordOf, type HeadRecord } from '../model/model-files';
import { evaluateReport, renderEvaluateHtml, type EvaluateReport, type KnnResultReport, type ProbeResult } from './evaluate-report';
import { checkHeadTargets, splitInOrder } from './finetune-data';
import { evaluateSplit, finetuneStage } from './finetune-stage';
import type { InitData } from './init-sample';
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

export { EvaluateConfigSchema };
export type { EvaluateConfig, EvaluateConfigInput } from '../config/evaluate-config';
export type EvaluateOutcome = StageOutcome<EvaluateReport>;

/** The artifact's network with its input normalization and head record (if any). */
async function modelOfArtifact(
  inputs: StageInputs,
): Promise<{ model: tf.LayersModel; normalization: InputNormalizationConfig; head?: HeadRecord; where: string }> {
  let head: HeadRecord | undefined;
  const { network, normalization, where } = await networkOfArtifact(inputs.artifacts.model, (n, at) => (head = headRecordOf(n, at)));
  return { model: network, normalization, ...(head ? { head } : {}), where };
}

/**
 * The head to evaluate: the artifact's, checked against the task asked for and the dataset; none when
 * only probes or k-NN are asked of an artifact without one.
 * @throws ConfigError when a task is asked of an artifact without a head for it, or when its class count is not the dataset's.
 */
function headToEvaluate(config: EvaluateConfig, record: HeadRecord | undefined, data: InitData, where: string): HeadRecord | undefined {
  const onlyFeatures = config.probes.length > 0 || config.knn !== null;
  if (record === undefined || (config.task !== null && record.task !== config.task)) {
    if (config.task === null && onlyFeatures) return undefined;
    throw new ConfigError(`the artifact has no head for the ${config.task ?? 'classify'} task`, {
      where,
      expected: `a finetune artifact${config.task === null ? '' : ` of task ${config.task}`} (or --probes / --knn, which need no head)`,
      actual: record === undefined ? 'no head (an init or pretrain network)' : `a ${record.task} head`,
    });
  }
  if (record.classes !== data.classes) {
    throw new ConfigError("the artifact's head and the dataset have different class counts", {
      where: `${where} head vs dataset ${data.source}`,
      expected: `${record.classes} classes (${record.classNames.join(', ')})`,
      actual: `${data.classes} classes (${data.dataset.features.classNames.join(', ')})`,
    });
  }
  return record;
}

/** A byte batch as images (the input normalization applied) and one-hot labels over `classes`; the caller disposes both. */
function labelled(bytes: UintBatch, normalization: InputNormalizationConfig, classes: number): LabelledBatch {
  const t = toTensorBatch(bytes, { scale: normalization.scale, mean: normalization.mean, std: normalization.std });
  const batch = { inputs: t.images, labels: tf.tidy(() => tf.oneHot(t.labels as tf.Tensor1D, classes)) };
  t.labels?.dispose();
  return batch;
}

const disposeLabelled = (batch: LabelledBatch): void => tf.dispose([batch.inputs, batch.labels]);

/**
 * Labelled batches for a consumer that is done with each batch when it asks for the next (evaluation):
 * each is disposed then. Not for the training loop, which asks for the next batch before it uses the current one.
 */
async function* labelledBatches(batches: AsyncIterable<UintBatch>, normalization: InputNormalizationConfig, classes: number): AsyncGenerator<LabelledBatch> {
  for await (const bytes of batches) {
    const batch = labelled(bytes, normalization, classes);
    try {
      yield batch;
    } finally {
      disposeLabelled(batch);
    }
  }
}

async function* trainingBatches(batches: AsyncIterable<UintBatch>, normalization: InputNormalizationConfig, classes: number): AsyncGenerator<LabelledBatch> {
  for await (const bytes of batches) yield labelled(bytes, normalization, classes);
}

/** Linear probes on `config.probes`, trained on `trainSplit` and scored on `split`. */
async function runProbes(
  model: tf.LayersModel,
  config: EvaluateConfig,
  data: InitData,
  normalization: InputNormalizationConfig,
  logger: Logger,
): Promise<ProbeResult[]> {
  checkHeadTargets(data, 'probe', 'class');
  const decode = data.decode ? { decode: data.decode } : {};
  const train = (from: number) =>
    trainingBatches(
      stepBatches(data.dataset, config.trainSplit, { batchSize: config.probeBatchSize, seed: config.seed, fromStep: from, ids: false, ...decode }),
      normalization,
      data.classes,
    );
  const probes = await trainLinearProbes(
    model,
    {
      layers: config.probes,
      classes: data.classes,
      seed: config.seed + 1,
      train: { steps: config.probeSteps, learningRate: config.probeLearningRate, checkpointEvery: 0 },
    },
    { data: train, release: disposeLabelled },
    { logger },
  );
  try {
    const results = await probes.evaluate(
      labelledBatches(splitInOrder(data.dataset, config.split, { batchSize: 250, ...decode }), normalization, data.classes),
    );
    return results.map((r, i) => ({ layer: r.layer, features: probes.layers[i].features, accuracy: r.accuracy, confusion: r.confusion }));
  } finally {
    probes.dispose();
  }
}

/** The output of the layer k-NN reads, pooled over space when it is a feature map, as rows. */
function knnFeatureModel(model: tf.LayersModel, config: EvaluateConfig, head: HeadRecord | undefined): { features: tf.LayersModel; layer: string } {
  const named = config.featureLayer ?? head?.featureLayer ?? null;
  if (named !== null) {
    const layer = model.layers.find((l) => l.name === named);
    if (layer === undefined) {
      throw new ConfigError('no such layer for k-NN features', {
        where: 'featureLayer',
        expected: `one of ${model.layers.map((l) => l.name).join(', ')}`,
        actual: named,
      });
    }
    return { features: tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor }), layer: named };
  }
  // A head on the trunk's output: the head's first layer reads it.
  const first = head === undefined ? undefined : model.layers.find((l) => l.name === head.layers[0]);
  const output = first === undefined ? model.outputs[0] : (first.input as tf.SymbolicTensor);
  return { features: tf.model({ inputs: model.inputs, outputs: output }), layer: first === undefined ? 'the network output' : `the input of ${first.name}` };
}

async function featuresOf(features: tf.LayersModel, batches: AsyncIterable<LabelledBatch>): Promise<{ rows: tf.Tensor2D; labels: Int32Array }> {
  const parts: tf.Tensor2D[] = [];
  const labels: number[] = [];
  for await (const batch of batches) {
    parts.push(
      tf.tidy(() => {
        const out = features.predict(batch.inputs) as tf.Tensor;
        return (out.rank === 4 ? tf.mean(out, [1, 2]) : out.reshape([out.shape[0], -1])) as tf.Tensor2D;
      }),
    );
    labels.push(...tf.tidy(() => tf.argMax(batch.labels, 1)).dataSync());
  }
  const rows = tf.concat(parts);
  tf.dispose(parts);
  return { rows, labels: Int32Array.from(labels) };
}

/** k-NN (cosine, majority vote) of `split`'s images among the first `knnReferences` of `trainSplit`. */
async function runKnn(
  model: tf.LayersModel,
  k: number,
  config: EvaluateConfig,
  data: InitData,
  normalization: InputNormalizationConfig,
  head: HeadRecord | undefined,
): Promise<KnnResultReport> {
  checkHeadTargets(data, 'k-NN', 'class');
  const { features, layer } = knnFeatureModel(model, config, head);
  const decode = data.decode ? { decode: data.decode } : {};
  const references = await featuresOf(
    features,
    labelledBatches(splitInOrder(data.dataset, config.trainSplit, { batchSize: 250, limit: config.knnReferences, ...decode }), normalization, data.classes),
  );
  const queries = await featuresOf(
    features,
    labelledBatches(splitInOrder(data.dataset, config.split, { batchSize: 250, ...decode }), normalization, data.classes),
  );
  try {
    const { predicted } = knnClassify(references.rows, references.labels, queries.rows, { k, metric: 'cosine', vote: 'majority', classes: data.classes });
    const correct = predicted.reduce((n, p, i) => n + (p === queries.labels[i] ? 1 : 0), 0);
    return {
      k,
      layer,
      metric: 'cosine',
      vote: 'majority',
      references: references.labels.length,
      queries: queries.labels.length,
      accuracy: correct / queries.labels.length,
    };
  } finally {
    tf.dispose([references.rows, queries.rows]);
  }
}

async function runEvaluate(config: EvaluateConfig, inputs: StageInputs, context: StageContext): Promise<StageRun<EvaluateReport>> {
  const logger = context.logger ?? silentLogger;
  const data = inputs.data;
  if (config.probes.length > 0 || config.knn !== null) data.dataset.split(config.trainSplit); // a missing split before any work
  const { model, normalization, head: record, where } = await modelOfArtifact(inputs);
  try {
    const head = headToEvaluate(config, record, data, where);
    let metrics: HeadMetrics | null = null;
    if (head !== undefined) {
      const evaluator = createHead(head.task, {
        classes: head.classes,
        seed: config.seed,
        ...(head.featureLayer === null ? {} : { featureLayer: head.featureLayer }),
      });
      checkHeadTargets(data, head.task, evaluator.needs);
      metrics = await evaluateSplit(model, evaluator, data, config.split, normalization);
      logger.info('head evaluated', { task: head.task, split: config.split, [metrics.primary.name]: metrics.primary.value });
    }
    const probes = config.probes.length > 0 ? await runProbes(model, config, data, normalization, logger) : [];
    const knn = config.knn === null ? null : await runKnn(model, config.knn, config, data, normalization, head ?? record);
    const { location, metadata } = inputs.artifacts.model;
    const report = evaluateReport({
      config,
      data,
      from: location.url,
      fromStage: metadata.stage,
      head: head ?? null,
      metrics,
      probes,
      knn,
      backend: context.backend,
      configHash: inputs.configHash,
    });
    const files = new Map<string, Uint8Array>([
      ['report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`)],
      ['report.html', new TextEncoder().encode(renderEvaluateHtml(report))],
    ]);
    return { interrupted: false, files, report };
  } finally {
    model.dispose();
  }
}

/** The artifact evaluated: named by `from` (any stage's), or this pipeline config's finetune stage found by its hash. */
function modelInput(config: EvaluateConfig, pipeline: PipelineConfig | undefined): ArtifactInput[] {
  if (config.from !== undefined) {
    return [{ name: 'model', stage: 'finetune', accepts: ['finetune', 'pretrain', 'init'], location: config.from, key: 'from', expect: { kind: 'any' } }];
  }
  const top = pipeline ?? PipelineConfigSchema.parse({});
  const finetune = finetuneStage.configFrom(top, { finetune: top.finetune }, {});
  return [
    { name: 'model', stage: 'finetune', location: finetune.out, key: 'finetune.out', expect: { kind: 'config', definition: finetuneStage, config: finetune } },
  ];
}

/** The `evaluate:` section's keys over the top level's data, seed and force (not its split: that is the init's training split), then the flags. */
function evaluateConfigFrom(pipeline: PipelineConfig, document: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, unknown>>): EvaluateConfig {
  return sectionConfig(EvaluateConfigSchema, 'evaluate', { data: pipeline.data, seed: pipeline.seed, force: pipeline.force }, document, flags);
}

export const evaluateStage: StageDefinition<EvaluateConfig, EvaluateReport> = {
  name: 'evaluate',
  summary: STAGE_SUMMARIES.evaluate,
  schema: EvaluateConfigSchema,
  configFrom: evaluateConfigFrom,
  dataset: (config) => ({ data: config.data, split: config.split }),
  artifacts: modelInput,
  definingConfig: withoutLocations,
  checkpoints: false,
  run: runEvaluate,
  describe: (report, location) => {
    const parts = [
      ...(report.head ? [`${report.head.primary.name} ${report.head.primary.value.toFixed(3)}`] : []),
      ...report.probes.map((p) => `probe ${p.layer} ${p.accuracy.toFixed(3)}`),
      ...(report.knn ? [`${report.knn.k}-NN ${report.knn.accuracy.toFixed(3)}`] : []),
    ];
    return {
      text: `evaluated on ${report.split}: ${parts.join(', ')} → ${location}`,
      json: {
        out: location,
        report: 'report.json',
        head: report.head?.primary ?? null,
        probes: report.probes.map((p) => ({ layer: p.layer, accuracy: p.accuracy })),
        knn: report.knn,
      },
    };
  },
  job: { backoffLimit: 2, terminationGracePeriodSeconds: 30 },
};

/**
 * Runs the evaluate stage through {@link runStage}.
 * @throws ConfigError / DataError / ShapeError for bad input (exit 2): no artifact, an artifact without a head
 *   for the task, class counts that disagree, a dataset without the labels needed, a layer the network lacks.
 */
export function runEvaluateStage(config: EvaluateConfig, context: StageContext, pipeline?: PipelineConfig): Promise<EvaluateOutcome> {
  return runStage(evaluateStage, config, context, pipeline);
}
