/**
 * report.json and report.html of the finetune stage: the run's settings, the
 * test split's metrics (the head's headline metric, every scalar, per-class
 * values, the confusion matrix), the training curves (loss and batch accuracy
 * per step) and the test metric every `testEvery` steps.
 */
import type { DownstreamHead, HeadMetrics } from '@ddinit/eval';
import type { TrainResult } from '@ddinit/train';
import type { FinetuneConfig } from '../config/finetune-config';
import { CODE_VERSION } from './code-version';
import type { InitData } from './init-sample';
import { metricSections, type TestMetrics } from './head-metrics-report';
import { lineChartSvg } from '../report/line-chart';
import { escapeHtml } from '../report/svg-charts';

export interface TestCurvePoint {
  step: number;
  metric: string;
  value: number;
}

export interface FinetuneReport {
  schemaVersion: 1;
  stage: 'finetune';
  task: string;
  classes: number;
  classNames: string[];
  /** The input artifact's location and stage (init or pretrain). */
  from: string;
  fromStage: string;
  /** The trunk layer the head reads (null: the trunk's output), and the layers frozen by `trainFrom`. */
  featureLayer: string | null;
  /** How the new head was initialized: `data` (normalized on the first training batch) or `drawn`. */
  headInit: string;
  trainFrom: string | null;
  frozenLayers: string[];
  labelsPerClass: number | null;
  /** Images trained on: the split, or the labelled subset. */
  trainExamples: number;
  split: string;
  backend: string;
  seed: number;
  steps: number;
  batchSize: number;
  optimizer: string;
  learningRate: number;
  /** The checkpoint step this process resumed from, or null. */
  resumedFrom: number | null;
  dataWaitShare: number;
  /** Chance level of the headline metric (1 / classes for top-1 accuracy). */
  chance: number;
  /** Mean of the last 20 training steps. */
  final: { loss: number; accuracy: number | null };
  test: TestMetrics;
  /** One point per step this process ran (a resumed run's curve starts at its checkpoint). */
  curve: { step: number; loss: number; accuracy: number | null; learningRate: number }[];
  /** The headline metric on the first `curveExamples` test images every `testEvery` steps. */
  testCurve: TestCurvePoint[];
  configHash: string;
  codeVersion: string;
  createdAt: string;
}

export interface FinetuneReportInputs {
  /** The layer the head reads: the configured one, or the default (finetune-stage.ts `defaultFeatureLayer`); null: the head's own default. */
  featureLayer: string | null;
  config: FinetuneConfig;
  data: InitData;
  from: string;
  fromStage: string;
  head: DownstreamHead;
  frozen: string[];
  trainExamples: number;
  result: TrainResult;
  test: HeadMetrics;
  testCurve: TestCurvePoint[];
  backend: string;
  configHash: string;
}

/** The metrics of a head as report.json holds them (the confusion matrix as rows: truth, columns: prediction). */
export function testMetrics(split: string, metrics: HeadMetrics): TestMetrics {
  const { confusion } = metrics;
  const rows = confusion
    ? Array.from({ length: confusion.classes }, (_, t) => Array.from(confusion.counts.subarray(t * confusion.classes, (t + 1) * confusion.classes)))
    : null;
  return {
    split,
    examples: metrics.scalars.examples ?? 0,
    primary: metrics.primary,
    scalars: metrics.scalars,
    perClass: metrics.perClass,
    excluded: metrics.excluded,
    confusion: rows,
  };
}

export function finetuneReport(inputs: FinetuneReportInputs): FinetuneReport {
  const { config, data, result } = inputs;
  const last = result.steps.slice(-Math.min(20, result.steps.length));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const accuracies = last.flatMap((s) => (s.metrics.accuracy === undefined ? [] : [s.metrics.accuracy]));
  return {
    schemaVersion: 1,
    stage: 'finetune',
    task: inputs.head.task,
    classes: data.classes,
    classNames: data.dataset.features.classNames,
    from: inputs.from,
    fromStage: inputs.fromStage,
    featureLayer: inputs.featureLayer,
    headInit: config.headInit,
    trainFrom: config.trainFrom,
    frozenLayers: inputs.frozen,
    labelsPerClass: config.labelsPerClass,
    trainExamples: inputs.trainExamples,
    split: config.split,
    backend: inputs.backend,
    seed: config.seed,
    steps: config.steps,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    learningRate: config.learningRate,
    resumedFrom: result.resumedFrom,
    dataWaitShare: result.dataWaitShare,
    chance: 1 / data.classes,
    final: { loss: mean(last.map((s) => s.loss)), accuracy: accuracies.length > 0 ? mean(accuracies) : null },
    test: testMetrics(config.testSplit, inputs.test),
    curve: result.steps.map((s) => ({ step: s.step, loss: s.loss, accuracy: s.metrics.accuracy ?? null, learningRate: s.learningRate })),
    testCurve: inputs.testCurve,
    configHash: inputs.configHash,
    codeVersion: CODE_VERSION,
    createdAt: new Date().toISOString(),
  };
}

function curves(report: FinetuneReport): string {
  const loss = lineChartSvg({
    title: 'training loss',
    xLabel: 'step',
    yLabel: 'loss',
    series: [{ name: 'loss (batch)', color: '#1f77b4', points: report.curve.map((p) => [p.step, p.loss]) }],
  });
  const metric = report.testCurve[0]?.metric ?? report.test.primary.name;
  const accuracy = lineChartSvg({
    title: `training accuracy and test ${metric}`,
    xLabel: 'step',
    yLabel: metric,
    series: [
      { name: 'accuracy (batch)', color: '#2ca02c', points: report.curve.filter((p) => p.accuracy !== null).map((p) => [p.step, p.accuracy as number]) },
      {
        name: `test ${metric}`,
        color: '#d62728',
        points: [...report.testCurve.map((p): [number, number] => [p.step, p.value]), [report.steps, report.test.primary.value]],
      },
    ],
    reference: { value: report.chance, label: 'chance' },
  });
  return `${loss}\n${accuracy}`;
}

export function renderFinetuneHtml(report: FinetuneReport): string {
  const rows: [string, string][] = [
    ['task', `${report.task} (${report.classes} classes)`],
    ['from', `${report.from} (${report.fromStage})`],
    ['feature layer', report.featureLayer ?? "the head's default"],
    ['head initialized', report.headInit === 'data' ? 'from data (normalized on the first training batch)' : 'as drawn'],
    ['trained from', report.trainFrom ?? 'every layer'],
    ['frozen layers', report.frozenLayers.length > 0 ? report.frozenLayers.join(', ') : '—'],
    ['labelled images', `${report.trainExamples}${report.labelsPerClass === null ? '' : ` (${report.labelsPerClass} per class)`}`],
    ['steps × images', `${report.steps} × ${report.batchSize} (${report.optimizer}, learning rate ${report.learningRate})`],
    ['final training loss (last 20 steps)', report.final.loss.toFixed(4)],
    ['resumed from step', report.resumedFrom === null ? '—' : String(report.resumedFrom)],
    ['data wait share', report.dataWaitShare.toFixed(3)],
    ['backend', report.backend],
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>ddinit finetune report</title></head><body style="font-family:sans-serif;max-width:760px;margin:2em auto">
<h1>Fine-tuning: ${escapeHtml(report.task)}</h1>
<table>${rows.map(([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
${metricSections(report.test, report.classNames, report.chance)}
<h2>Learning curves</h2>
${curves(report)}
<p style="color:#666;font-size:12px">config ${escapeHtml(report.configHash.slice(0, 12))} · ddinit ${escapeHtml(report.codeVersion)} · ${escapeHtml(report.createdAt)}</p>
</body></html>
`;
}
