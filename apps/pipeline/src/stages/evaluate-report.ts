/**
 * report.json and report.html of the evaluate stage: the artifact evaluated,
 * its head's metrics on the split (the metric table, per-class values, the
 * confusion matrix), the linear probes' accuracy per layer and k-NN's accuracy.
 */
import type { ConfusionMatrix, HeadMetrics } from '@ddinit/eval';
import type { EvaluateConfig } from '../config/evaluate-config';
import type { HeadRecord } from '../model/model-files';
import { lineChartSvg } from '../report/line-chart';
import { escapeHtml } from '../report/svg-charts';
import { CODE_VERSION } from './code-version';
import { testMetrics } from './finetune-report';
import { metricSections, type TestMetrics } from './head-metrics-report';
import type { InitData } from './init-sample';

export interface ProbeResult {
  layer: string;
  /** Values per image the probe reads (after pooling). */
  features: number;
  accuracy: number;
  confusion: ConfusionMatrix;
}

export interface KnnResultReport {
  k: number;
  layer: string;
  metric: 'cosine' | 'l2';
  vote: 'majority' | 'exp-similarity';
  references: number;
  queries: number;
  accuracy: number;
}

export interface EvaluateReport {
  schemaVersion: 1;
  stage: 'evaluate';
  from: string;
  fromStage: string;
  split: string;
  classes: number;
  classNames: string[];
  chance: number;
  /** The head's metrics (null for an artifact evaluated by probes and k-NN only) and which head. */
  task: string | null;
  featureLayer: string | null;
  head: TestMetrics | null;
  /** One per probed layer, in the order asked: top-1 accuracy on `split`, trained on `trainSplit`. */
  probes: { layer: string; features: number; accuracy: number; confusion: number[][] }[];
  probeTraining: { split: string; steps: number; batchSize: number; learningRate: number } | null;
  knn: KnnResultReport | null;
  backend: string;
  seed: number;
  configHash: string;
  codeVersion: string;
  createdAt: string;
}

export interface EvaluateReportInputs {
  config: EvaluateConfig;
  data: InitData;
  from: string;
  fromStage: string;
  head: HeadRecord | null;
  metrics: HeadMetrics | null;
  probes: ProbeResult[];
  knn: KnnResultReport | null;
  backend: string;
  configHash: string;
}

const rowsOf = (m: ConfusionMatrix): number[][] =>
  Array.from({ length: m.classes }, (_, t) => Array.from(m.counts.subarray(t * m.classes, (t + 1) * m.classes)));

export function evaluateReport(inputs: EvaluateReportInputs): EvaluateReport {
  const { config, data } = inputs;
  return {
    schemaVersion: 1,
    stage: 'evaluate',
    from: inputs.from,
    fromStage: inputs.fromStage,
    split: config.split,
    classes: data.classes,
    classNames: data.dataset.features.classNames,
    chance: 1 / data.classes,
    task: inputs.head?.task ?? null,
    featureLayer: inputs.head?.featureLayer ?? null,
    head: inputs.metrics === null ? null : testMetrics(config.split, inputs.metrics),
    probes: inputs.probes.map((p) => ({ layer: p.layer, features: p.features, accuracy: p.accuracy, confusion: rowsOf(p.confusion) })),
    probeTraining:
      inputs.probes.length === 0
        ? null
        : { split: config.trainSplit, steps: config.probeSteps, batchSize: config.probeBatchSize, learningRate: config.probeLearningRate },
    knn: inputs.knn,
    backend: inputs.backend,
    seed: config.seed,
    configHash: inputs.configHash,
    codeVersion: CODE_VERSION,
    createdAt: new Date().toISOString(),
  };
}

function probeSection(report: EvaluateReport): string {
  if (report.probes.length === 0) return '';
  const t = report.probeTraining;
  const rows = report.probes.map((p) => `<tr><td>${escapeHtml(p.layer)}</td><td>${p.features}</td><td>${p.accuracy.toFixed(4)}</td></tr>`);
  const chart = lineChartSvg({
    title: 'linear probe accuracy by layer (x: layer index)',
    xLabel: report.probes.map((p, i) => `${i}: ${p.layer}`).join(', '),
    yLabel: 'top-1',
    series: [{ name: 'probe accuracy', color: '#9467bd', points: report.probes.map((p, i) => [i, p.accuracy]) }],
    reference: { value: report.chance, label: 'chance' },
  });
  return `<h2>Linear probes on frozen features</h2>
<p>Trained on ${escapeHtml(t?.split ?? '')} (${t?.steps} steps × ${t?.batchSize} images, learning rate ${t?.learningRate}), scored on ${escapeHtml(report.split)}.</p>
<table><tr><th style="text-align:left">layer</th><th style="text-align:left">features</th><th style="text-align:left">top-1</th></tr>${rows.join('')}</table>
${chart}`;
}

export function renderEvaluateHtml(report: EvaluateReport): string {
  const knn = report.knn;
  return `<!doctype html><html><head><meta charset="utf-8"><title>ddinit evaluate report</title></head><body style="font-family:sans-serif;max-width:760px;margin:2em auto">
<h1>Evaluation of ${escapeHtml(report.from)}</h1>
<p>${escapeHtml(report.fromStage)} artifact on split ${escapeHtml(report.split)}; ${report.task === null ? 'no head evaluated' : `head: ${escapeHtml(report.task)} on ${escapeHtml(report.featureLayer ?? 'the trunk output')}`}.</p>
${report.head === null ? '' : metricSections(report.head, report.classNames, report.chance)}
${probeSection(report)}
${knn === null ? '' : `<h2>k-nearest neighbours</h2><p>${knn.k}-NN (${knn.metric}, ${knn.vote} vote) on ${escapeHtml(knn.layer)}: top-1 <b>${knn.accuracy.toFixed(4)}</b> over ${knn.queries} images, ${knn.references} references (chance ${report.chance.toFixed(3)}).</p>`}
<p style="color:#666;font-size:12px">backend ${escapeHtml(report.backend)} · config ${escapeHtml(report.configHash.slice(0, 12))} · ddinit ${escapeHtml(report.codeVersion)} · ${escapeHtml(report.createdAt)}</p>
</body></html>
`;
}
