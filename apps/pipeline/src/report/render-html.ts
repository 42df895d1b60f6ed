/**
 * Renders `report.html`: one self-contained page (inline CSS and SVG, no script,
 * no external resource) with the run summary (the initialization's name first),
 * the per-layer table and three figures — first-layer filters, per-layer output
 * std before/after the within-layer normalization, change rates before/after
 * calibration.
 */
import type { InitReport } from './report-schema';
import { escapeHtml, filterGridSvg, groupedBarChartSvg } from './svg-charts';

const css = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child,.text{text-align:left}
.ok{color:#176b2c}.bad{color:#a4161a}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}
svg .title{font-size:13px;font-weight:600}svg .tick{font-size:11px;fill:#444}
svg .grid{stroke:#e5e5e5}svg .reference{stroke:#a4161a;stroke-dasharray:4 3}
figure{margin:1rem 0;overflow-x:auto}figcaption{color:#555;font-size:.9rem}
`;

const num = (v: number | null, digits = 4): string =>
  v === null ? '—' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(digits);

/** The between-layer step: the calibration's outcome, LSUV's, or none. */
function betweenLayerHtml(report: InitReport): string {
  const ok = (converged: boolean): string => (converged ? '<span class="ok">converged</span>' : '<span class="bad">not converged</span>');
  if (report.calibration) {
    return `calibration ${ok(report.calibration.converged)} after ${report.calibration.iterations} iteration(s), max |log ρ/log T − 1| = ${num(report.calibration.maxLogDeviation)}`;
  }
  if (report.lsuv) {
    const worst = Math.max(0, ...report.lsuv.layers.map((l) => Math.abs(l.varianceAfter - 1)));
    return `LSUV ${ok(report.lsuv.converged)}: ${report.lsuv.layers.length} layer(s) rescaled to unit output variance on the batch, max |Var − 1| = ${num(worst)} (tolerance ${report.lsuv.tolerance})`;
  }
  return 'none';
}

export function renderReportHtml(report: InitReport): string {
  const names = report.layers.map((l) => l.name);
  const stdChart = groupedBarChartSvg({
    title: 'Per-layer pre-activation std on the sample',
    yLabel: 'mean channel std',
    categories: names,
    reference: 1,
    series: [
      { name: 'before normalization', color: '#9aa5b1', values: report.layers.map((l) => l.outStdBefore) },
      { name: 'after init', color: '#1f6feb', values: report.layers.map((l) => l.outStd) },
      ...(report.heldOut ? [{ name: 'after init, held-out images', color: '#d97706', values: report.layers.map((l) => l.heldOutStd) }] : []),
    ],
  });
  const rateChart = report.calibration
    ? groupedBarChartSvg({
        title: 'Change rate ρ = RMS(∇W) / RMS(W) per layer',
        yLabel: 'change rate',
        categories: names,
        series: [
          { name: 'before calibration', color: '#9aa5b1', values: report.layers.map((l) => l.changeRateBefore) },
          { name: 'after calibration', color: '#d97706', values: report.layers.map((l) => l.changeRateAfter) },
        ],
      })
    : `<p>Between-layer calibration was not run (<code>init: ${escapeHtml(report.init)}</code>).</p>`;
  const filters = report.firstLayerFilters
    ? `<figure>${filterGridSvg(report.firstLayerFilters.shape, report.firstLayerFilters.values)}<figcaption>${escapeHtml(
        `${report.firstLayerFilters.layer}: ${report.firstLayerFilters.shape[3]} filters of ${report.firstLayerFilters.shape[0]}×${report.firstLayerFilters.shape[1]}×${report.firstLayerFilters.shape[2]}`,
      )}</figcaption></figure>`
    : '<p>The first parameter layer is not a convolution.</p>';
  const rows = report.layers
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.name)}</td><td class="text">${escapeHtml(l.kind)}</td><td class="text">${escapeHtml(l.method)}</td><td class="text">${escapeHtml(l.fallback ?? '')}</td><td>${l.rows ?? '—'}</td><td>${l.images ?? '—'}</td><td>${num(l.outMean)}</td><td class="${l.worstStdDeviation !== null && l.worstStdDeviation <= 1e-2 ? 'ok' : 'bad'}">${num(l.outStd)}</td><td>${num(l.worstStdDeviation)}</td><td>${num(l.heldOutMean)}</td><td${l.heldOutStrays ? ' class="bad"' : ''}>${num(l.heldOutStd)}</td><td>${num(l.changeRateBefore)}</td><td>${num(l.changeRateAfter)}</td><td>${l.seconds === null ? '—' : l.seconds.toFixed(2)}</td></tr>`,
    )
    .join('\n');
  const between = betweenLayerHtml(report);
  const within = report.within
    ? `${escapeHtml(report.within.method)}, β = ${report.within.beta}`
    : `none: every kernel drawn by ${escapeHtml(report.lsuv ? 'orthogonal' : report.init)}, no weight learnt from the data (the sample only standardizes the inputs${report.lsuv ? ' and gives LSUV its batch' : ''})`;
  const h = report.heldOut;
  const heldOut = h
    ? `${h.images} images outside the sample${h.loss === null ? '' : `; loss ${num(h.loss)} (uniform guess ${num(h.chanceLoss)})`}; ${
        h.strayLayers.length === 0
          ? '<span class="ok">every layer within its limits</span>'
          : `<span class="bad">${escapeHtml(h.strayLayers.join(', '))} stray (std ratio outside ×${h.stdRatioLimit} or mean shift &gt; ${h.meanShiftLimit} std): the sample is too small for them</span>`
      }`
    : 'none (the split has no image beyond the sample)';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ddinit report: ${escapeHtml(report.model)}</title><style>${css}</style></head>
<body>
<h1>ddinit: <code>${escapeHtml(report.init)}</code> initialization of <code>${escapeHtml(report.model)}</code></h1>
<dl>
<dt>init</dt><dd><code>${escapeHtml(report.init)}</code></dd>
<dt>data</dt><dd>${escapeHtml(report.data.source)} (${escapeHtml(report.data.split)}, ${report.data.sampleSize} images of ${report.data.inputShape.join('×')}; ${escapeHtml(report.data.sampleRule)})</dd>
<dt>held-out check</dt><dd>${heldOut}</dd>
<dt>within-layer</dt><dd>${within}</dd>
<dt>between-layer</dt><dd>${between}</dd>
<dt>backend · seed</dt><dd>${escapeHtml(report.backend)} · ${report.seed}</dd>
<dt>time</dt><dd>${report.timings.totalSeconds.toFixed(2)} s in all (within ${report.timings.withinSeconds.toFixed(2)} s, between ${report.timings.betweenSeconds.toFixed(2)} s)</dd>
<dt>config · code</dt><dd><code>${escapeHtml(report.configHash.slice(0, 12))}</code> · ${escapeHtml(report.codeVersion)} · ${escapeHtml(report.createdAt)}</dd>
</dl>
<h2>First-layer filters</h2>
${filters}
<h2>Output statistics</h2>
<figure>${stdChart}<figcaption>After init every channel should have std 1 (dashed line) and mean β on the sample; on held-out images a layer far from 1 was fitted to too few sampled rows.</figcaption></figure>
<h2>Change rates</h2>
<figure>${rateChart}</figure>
<h2>Layers</h2>
<table><thead><tr><th>layer</th><th class="text">kind</th><th class="text">method</th><th class="text">fallback</th><th>rows</th><th>images</th><th>mean</th><th>std</th><th>worst |std−1|</th><th>held-out mean</th><th>held-out std</th><th>ρ before</th><th>ρ after</th><th>s</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
