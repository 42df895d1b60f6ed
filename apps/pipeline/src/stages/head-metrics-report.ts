/**
 * A head's metrics on a split as report.json holds them, and their HTML
 * sections (the metric table, per-class values, the confusion matrix as a heat
 * map), shared by the finetune and evaluate reports.
 */
import { heatMapSvg } from '../report/heat-map';
import { escapeHtml } from '../report/svg-charts';

export interface TestMetrics {
  split: string;
  examples: number;
  /** The task's headline metric (classify: top-1 accuracy). */
  primary: { name: string; value: number };
  scalars: Record<string, number>;
  /** Per-class values by metric name; null where the class has none (see `excluded`). */
  perClass: Record<string, (number | null)[]>;
  excluded: { metric: string; classes: number[]; reason: string }[];
  /** Rows: true class, columns: predicted class; null for a task without one. */
  confusion: number[][] | null;
}

const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4));

/** Class `c`'s name, or its index when the dataset names none. */
const nameOf = (classNames: string[], c: number): string => classNames[c] ?? String(c);

export function metricSections(test: TestMetrics, classNames: string[], chance: number | null): string {
  const scalarRows = Object.entries(test.scalars).map(
    ([k, v]) => `<tr><th style="text-align:left;padding-right:1em">${escapeHtml(k)}</th><td>${fmt(v)}</td></tr>`,
  );
  const metrics = Object.keys(test.perClass);
  const classes = Math.max(0, ...Object.values(test.perClass).map((v) => v.length));
  const perClassRows = Array.from(
    { length: classes },
    (_, c) => `<tr><td>${escapeHtml(nameOf(classNames, c))}</td>${metrics.map((m) => `<td>${fmt(test.perClass[m][c])}</td>`).join('')}</tr>`,
  );
  const excluded = test.excluded.map(
    (e) => `<li>${escapeHtml(e.metric)}: ${escapeHtml(e.classes.map((c) => nameOf(classNames, c)).join(', '))} — ${escapeHtml(e.reason)}</li>`,
  );
  const confusion =
    test.confusion === null
      ? ''
      : `<h2>Confusion matrix</h2>\n${heatMapSvg({ title: `confusion on ${test.split}`, labels: Array.from({ length: test.confusion.length }, (_, c) => nameOf(classNames, c)), counts: test.confusion })}`;
  return `<h2>Test metrics: ${escapeHtml(test.split)} (${test.examples} images)</h2>
<p><b>${escapeHtml(test.primary.name)} ${fmt(test.primary.value)}</b>${chance === null ? '' : ` (chance ${fmt(chance)})`}</p>
<table>${scalarRows.join('')}</table>
<h2>Per class</h2>
<table><tr><th style="text-align:left">class</th>${metrics.map((m) => `<th style="text-align:left;padding-right:1em">${escapeHtml(m)}</th>`).join('')}</tr>${perClassRows.join('')}</table>
${excluded.length > 0 ? `<ul>${excluded.join('')}</ul>` : ''}
${confusion}`;
}
