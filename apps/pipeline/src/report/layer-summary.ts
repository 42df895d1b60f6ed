/** The per-layer summary `ddinit init` prints at the end of a run. */
import type { InitReport } from './report-schema';

const cell = (v: number | null, digits = 4): string =>
  v === null ? '—' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(digits);

export function formatLayerSummary(report: InitReport): string {
  const header = ['layer', 'kind', 'method', 'rows', 'images', 'mean', 'std', 'held-out mean', 'held-out std', 'ρ before', 'ρ after', 's'];
  const rows = report.layers.map((l) => [
    l.name,
    l.kind,
    l.fallback ? `${l.method}*` : l.method,
    l.rows === null ? '—' : String(l.rows),
    l.images === null ? '—' : String(l.images),
    cell(l.outMean),
    cell(l.outStd),
    cell(l.heldOutMean),
    `${l.heldOutStrays ? '! ' : ''}${cell(l.heldOutStd)}`,
    cell(l.changeRateBefore),
    cell(l.changeRateAfter),
    l.seconds === null ? '—' : l.seconds.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const fallbacks = report.layers.filter((l) => l.fallback);
  if (fallbacks.length > 0) out.push('', ...fallbacks.map((l) => `* ${l.name}: ${l.fallback}`));
  const h = report.heldOut;
  if (h && h.strayLayers.length > 0) {
    out.push(
      '',
      `! held-out images differ from the sample (std ratio outside ×${h.stdRatioLimit} or mean shift > ${h.meanShiftLimit} std) in ${h.strayLayers.join(', ')}: the sample is too small for them (raise --sample)`,
    );
  }
  const c = report.calibration;
  const lsuv = report.lsuv;
  out.push(
    '',
    `init ${report.init}: model ${report.model} on ${report.data.source} (${report.data.sampleSize} images, ${report.data.sampleRule}), backend ${report.backend}, seed ${report.seed}`,
    h
      ? `held-out: ${h.images} images${h.loss === null ? '' : `, loss ${cell(h.loss)} (uniform guess ${cell(h.chanceLoss)})`}`
      : 'held-out: none (the split has no image beyond the sample)',
    c
      ? `calibration: ${c.converged ? 'converged' : 'NOT converged'} after ${c.iterations} iteration(s), max |log ρ/log T − 1| = ${cell(c.maxLogDeviation)}`
      : lsuv
        ? `LSUV: ${lsuv.converged ? 'converged' : 'NOT converged'}, ${lsuv.layers.length} layer(s) rescaled to unit output variance (tolerance ${lsuv.tolerance})`
        : 'calibration: not run',
    `time: ${report.timings.totalSeconds.toFixed(1)} s (within ${report.timings.withinSeconds.toFixed(1)} s, between ${report.timings.betweenSeconds.toFixed(1)} s)`,
  );
  return out.join('\n');
}
