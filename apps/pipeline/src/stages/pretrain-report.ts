/**
 * report.json and report.html of the pretrain stage: the run's settings, the
 * final pretext loss and accuracy (mean of the last 20 steps) against chance, and
 * the learning curves.
 */
import type { PretextTaskName } from '@ddinit/pretrain';
import { lineChartSvg } from '../report/line-chart';
import { escapeHtml } from '../report/svg-charts';

export interface PretrainReport {
  schemaVersion: 1;
  stage: 'pretrain';
  task: PretextTaskName;
  /** The pretext classes (chance = 1 / classes) and one trunk input's [height, width, channels]: the image, a patch or a tile. */
  classes: number;
  trunkInput: number[];
  /** Where the network came from: the init artifact's location, or `<method> baseline of <model>`. */
  from: string;
  featureLayer: string;
  backend: string;
  seed: number;
  steps: number;
  batchSize: number;
  /** The checkpoint step this process resumed from, or null. */
  resumedFrom: number | null;
  /** Share of this process's step time spent waiting for data. */
  dataWaitShare: number;
  final: { loss: number; accuracy: number; chanceAccuracy: number };
  /** One point per step this process ran (a resumed run's curve starts at its checkpoint). */
  curve: { step: number; loss: number; accuracy: number | null; learningRate: number }[];
  configHash: string;
  codeVersion: string;
  createdAt: string;
}

export function renderPretrainHtml(report: PretrainReport): string {
  const loss = lineChartSvg({
    title: 'pretext loss',
    xLabel: 'step',
    yLabel: 'loss',
    series: [{ name: 'loss', color: '#1f77b4', points: report.curve.map((p) => [p.step, p.loss]) }],
  });
  const accuracy = lineChartSvg({
    title: 'pretext accuracy',
    xLabel: 'step',
    yLabel: 'accuracy',
    series: [
      { name: 'accuracy (batch)', color: '#2ca02c', points: report.curve.filter((p) => p.accuracy !== null).map((p) => [p.step, p.accuracy as number]) },
    ],
    reference: { value: report.final.chanceAccuracy, label: 'chance' },
  });
  const rows: [string, string][] = [
    ['task', `${report.task} (${report.classes} classes)`],
    ['trunk input', report.trunkInput.join('×')],
    ['from', report.from],
    ['trunk feature layer', report.featureLayer],
    ['steps × images', `${report.steps} × ${report.batchSize} (×4 turns)`],
    ['final loss (last 20 steps)', report.final.loss.toFixed(4)],
    ['final accuracy (last 20 steps)', `${report.final.accuracy.toFixed(3)} (chance ${report.final.chanceAccuracy})`],
    ['resumed from step', report.resumedFrom === null ? '—' : String(report.resumedFrom)],
    ['data wait share', report.dataWaitShare.toFixed(3)],
    ['backend', report.backend],
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>ddinit pretrain report</title></head><body style="font-family:sans-serif;max-width:720px;margin:2em auto">
<h1>Pretraining: ${escapeHtml(report.task)}</h1>
<table>${rows.map(([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Learning curves</h2>
${loss}
${accuracy}
<p style="color:#666;font-size:12px">config ${escapeHtml(report.configHash.slice(0, 12))} · ddinit ${escapeHtml(report.codeVersion)} · ${escapeHtml(report.createdAt)}</p>
</body></html>
`;
}
