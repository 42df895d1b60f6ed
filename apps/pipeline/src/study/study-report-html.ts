/**
 * report.html of a comparison study: the study's settings, the configurations
 * table (final metric and smoothed loss after k steps, mean ± std over seeds),
 * the paired differences against the baseline, the ranking per group, the
 * learning curves (one chart per group, one line per initialization), the final
 * metric per seed as a dot plot, every cell, and the notes. Self-contained, every
 * text escaped.
 */
import { lineChartSvg } from '../report/line-chart';
import { escapeHtml } from '../report/svg-charts';
import type { CellAxes } from './cells';
import type { ConfigurationSummary, GroupRanking, StudyReport } from './study-report';

/** Line and dot colours, one per configuration of a group (d3's category10). */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const num = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const signed = (v: number | null, digits = 4): string => (v === null ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`);
const meanStd = (m: number | null, s: number | null, digits = 4): string =>
  m === null ? '—' : s === null ? `${num(m, digits)} (one seed)` : `${num(m, digits)} ± ${num(s, digits)}`;
const cell = (text: string): string => `<td>${escapeHtml(text)}</td>`;
const head = (names: readonly string[]): string => `<tr>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;

/** A pretrain axis value as a reader sees it. */
export function pretrainLabel(pretrain: CellAxes['pretrain']): string {
  return pretrain === false ? 'none' : `${pretrain.task} ${pretrain.steps} steps`;
}

function groupLabel(group: Pick<GroupRanking, 'model' | 'pretrain' | 'labelsPerClass'>): string {
  return `${group.model} · pretraining ${pretrainLabel(group.pretrain)} · ${group.labelsPerClass === null ? 'all labels' : `${group.labelsPerClass} labels per class`}`;
}

function settingsSection(report: StudyReport): string {
  const study = report.study as { name?: string; data?: string; split?: string; testSplit?: string; budget?: Record<string, unknown>; task?: string };
  const c = report.counts;
  const rows: [string, string][] = [
    ['data', `${study.data} (train ${study.split}, test ${study.testSplit})`],
    ['task', `${study.task} · headline metric ${report.metric ?? '— (no cell finished)'}`],
    [
      'budget',
      Object.entries(study.budget ?? {})
        .map(([key, value]) => `${key} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`)
        .join(', '),
    ],
    ['baseline', report.baseline],
    ['cells', `${c.cells}: ${c.done} done, ${c.diverged} diverged, ${c.failed} failed, ${c.missing} missing`],
  ];
  return `<h1>Comparison study: ${escapeHtml(study.name ?? 'study')}</h1>
<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th>${cell(v)}</tr>`).join('')}</table>`;
}

function configurationsSection(report: StudyReport): string {
  const w = report.smoothing.window;
  const lossHeads = report.configurations[0]?.lossAt.map((l) => `loss after ${l.steps} steps (${Math.round(l.fraction * 100)} %)`) ?? [];
  const rows = report.configurations.map(
    (c) =>
      `<tr>${cell(c.id)}${cell(`${c.counts.done} of ${Object.values(c.counts).reduce((a, b) => a + b, 0)}`)}${cell(meanStd(c.metric?.mean ?? null, c.metric?.std ?? null))}${c.lossAt.map((l) => cell(meanStd(l.mean, l.std))).join('')}</tr>`,
  );
  return `<h2>Configurations</h2>
<p>Mean ± sample standard deviation over the seeds that finished. The loss after k steps is the mean training batch loss of steps k − ${w} … k − 1 (a window of 5 % of the budget).</p>
<table>${head(['configuration', 'seeds done', `final ${report.metric ?? 'metric'}`, ...lossHeads])}${rows.join('')}</table>`;
}

function pairedSection(report: StudyReport): string {
  const rows = report.paired.map(
    (p) =>
      `<tr>${cell(p.configuration)}${cell(String(p.n))}${cell(signed(p.mean))}${cell(num(p.std))}${cell(p.interval === null ? (p.n === 1 ? 'none: one pair' : 'none: no pairs') : `[${signed(p.interval.low)}, ${signed(p.interval.high)}] (t ${num(p.interval.t, 3)}, df ${p.interval.df})`)}</tr>`,
  );
  return `<h2>Paired differences against ${escapeHtml(report.baseline)}</h2>
<p>For each seed finished by both, ${escapeHtml(report.metric ?? 'the metric')} of the configuration minus that of the baseline of the same model, pretraining and labels; 95 % Student t-interval of the mean difference (none below two pairs).</p>
<table>${head(['configuration', 'pairs', 'mean difference', 'std', '95 % interval'])}${rows.join('')}</table>`;
}

function rankingSection(report: StudyReport): string {
  const groups = report.ranking.map(
    (g) => `<h3>${escapeHtml(groupLabel(g))}</h3>
<table>${head(['rank', 'initialization', `mean ${report.metric ?? 'metric'}`, 'seeds'])}${g.entries.map((e) => `<tr>${cell(e.rank === null ? '—' : String(e.rank))}${cell(e.init)}${cell(meanStd(e.mean, e.std))}${cell(String(e.n))}</tr>`).join('')}</table>`,
  );
  return `<h2>Ranking</h2>\n<p>By mean final ${escapeHtml(report.metric ?? 'metric')} within each model, pretraining and labels; equal means share a rank.</p>\n${groups.join('\n')}`;
}

function membersOf(report: StudyReport, group: GroupRanking): ConfigurationSummary[] {
  return report.configurations.filter((c) => c.group === group.group);
}

function curvesSection(report: StudyReport): string {
  const charts = report.ranking.map((group) =>
    lineChartSvg({
      title: `mean training loss: ${groupLabel(group)}`,
      xLabel: `step (${groupLabel(group)})`,
      yLabel: 'loss',
      series: membersOf(report, group).map((c, i) => ({ name: c.init, color: PALETTE[i % PALETTE.length], points: c.meanCurve })),
    }),
  );
  return `<h2>Learning curves</h2>
<p>One line per initialization: the training batch loss averaged over the finished seeds, then over a trailing window of ${report.smoothing.window} steps.</p>
${charts.join('\n')}`;
}

/** The final metric of every finished seed as dots over its configuration, the mean as a bar, ± one std as a whisker. */
function dotPlotSvg(report: StudyReport, members: readonly ConfigurationSummary[], title: string): string {
  const [width, height, left, top, bottom] = [560, 220, 56, 20, 60];
  // The range holds every dot and every whisker (mean ± std may reach past the dots).
  const values = members.flatMap((c) => {
    const m = c.metric;
    return m === null ? [] : [...m.values.map((v) => v.value), ...(m.std === null ? [] : [m.mean - m.std, m.mean + m.std])];
  });
  const [lo, hi] = values.length === 0 ? [0, 1] : [Math.min(...values), Math.max(...values)];
  const span = hi > lo ? hi - lo : 1;
  const y = (v: number) => top + (1 - (v - lo + 0.05 * span) / (1.1 * span)) * (height - top - bottom);
  const column = (width - left) / Math.max(1, members.length);
  const parts = members.map((c, i) => {
    const x = left + (i + 0.5) * column;
    const color = PALETTE[i % PALETTE.length];
    const dots = (c.metric?.values ?? []).map(
      (v) =>
        `<circle cx="${x.toFixed(1)}" cy="${y(v.value).toFixed(1)}" r="3" fill="${color}"><title>${escapeHtml(`${c.id} seed ${v.seed}: ${num(v.value)}`)}</title></circle>`,
    );
    const m = c.metric;
    const whisker =
      m === null || m.std === null
        ? ''
        : `<line x1="${x + 8}" x2="${x + 8}" y1="${y(m.mean - m.std).toFixed(1)}" y2="${y(m.mean + m.std).toFixed(1)}" stroke="${color}"/>`;
    const bar =
      m === null ? '' : `<line x1="${x - 12}" x2="${x + 12}" y1="${y(m.mean).toFixed(1)}" y2="${y(m.mean).toFixed(1)}" stroke="#333" stroke-width="2"/>`;
    return `${dots.join('')}${bar}${whisker}<text x="${x.toFixed(1)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle">${escapeHtml(c.init)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}"><rect x="${left}" y="${top}" width="${width - left}" height="${height - top - bottom}" fill="none" stroke="#ccc"/>${parts.join('')}<text x="${left - 6}" y="${y(hi).toFixed(1)}" font-size="11" text-anchor="end">${num(hi, 3)}</text><text x="${left - 6}" y="${y(lo).toFixed(1)}" font-size="11" text-anchor="end">${num(lo, 3)}</text><text x="${(left + width) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">${escapeHtml(title)}</text></svg>`;
}

function seedsSection(report: StudyReport): string {
  const plots = report.ranking.map((group) =>
    dotPlotSvg(report, membersOf(report, group), `final ${report.metric ?? 'metric'} per seed: ${groupLabel(group)}`),
  );
  return `<h2>Final metric per seed</h2>\n<p>Dots: seeds; black bar: mean; whisker: ± one sample std.</p>\n${plots.join('\n')}`;
}

function cellsSection(report: StudyReport): string {
  const rows = report.cells.map((c) => {
    const failure = c.failure === null ? (c.detail ?? '') : `${c.failure.stage}: ${c.failure.message}`;
    const last = c.curve.at(-1);
    return `<tr>${cell(c.id)}${cell(c.status)}${cell(num(c.metric?.value))}${cell(last === undefined ? '—' : `${num(last.loss)} (step ${last.step})`)}${cell(failure)}</tr>`;
  });
  return `<h2>Cells</h2>\n<table>${head(['cell', 'status', report.metric ?? 'metric', 'last batch loss', 'failure or note'])}${rows.join('')}</table>`;
}

function notesSection(report: StudyReport): string {
  const items = report.notes.map((n) => `<li><b>${escapeHtml(n.kind)}</b> ${escapeHtml(n.subject)}: ${escapeHtml(n.message)}</li>`);
  return `<h2>Notes</h2>\n${items.length === 0 ? '<p>Every cell finished.</p>' : `<ul>${items.join('')}</ul>`}`;
}

export function renderStudyHtml(report: StudyReport): string {
  const css =
    'body{font-family:sans-serif;max-width:960px;margin:2em auto}th{text-align:left;padding-right:1em}td{padding-right:1em}td:not(:first-child){white-space:nowrap}';
  return `<!doctype html><html><head><meta charset="utf-8"><title>ddinit comparison report</title><style>${css}</style></head><body>
${settingsSection(report)}
${configurationsSection(report)}
${pairedSection(report)}
${rankingSection(report)}
${curvesSection(report)}
${seedsSection(report)}
${cellsSection(report)}
${notesSection(report)}
<p style="color:#666;font-size:12px">ddinit ${escapeHtml(report.codeVersion)} · ${escapeHtml(report.createdAt)}</p>
</body></html>
`;
}
