/**
 * A learning curve as a small SVG for the self-contained HTML reports: one or
 * more series of (step, value) points on linear axes, with the axis ranges and a
 * reference line (e.g. chance accuracy) labelled.
 */
import { escapeHtml } from './svg-charts';

export interface LineSeries {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** A dashed horizontal line, e.g. chance level. */
  reference?: { value: number; label: string };
}

const fmt = (v: number): string => String(+v.toPrecision(3));

export function lineChartSvg(chart: LineChart): string {
  const [width, height, left, right, top, bottom] = [560, 260, 56, 16, 28, 40];
  const points = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const ys = [...points.map(([, y]) => y), ...(chart.reference ? [chart.reference.value] : [])];
  const [x0, x1] = [Math.min(...points.map(([x]) => x), 0), Math.max(...points.map(([x]) => x), 1)];
  const [y0, y1] = ys.length > 0 ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const span = y1 > y0 ? y1 - y0 : 1;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (width - left - right);
  const sy = (y: number) => top + (1 - (y - y0) / span) * (height - top - bottom);
  const lines = chart.series.map((s) => {
    const path = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    return `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${escapeHtml(s.name)}</title></path>`;
  });
  const reference = chart.reference
    ? `<line x1="${left}" x2="${width - right}" y1="${sy(chart.reference.value).toFixed(1)}" y2="${sy(chart.reference.value).toFixed(1)}" stroke="#888" stroke-dasharray="4 3"/><text x="${width - right}" y="${(sy(chart.reference.value) - 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#666">${escapeHtml(chart.reference.label)}</text>`
    : '';
  // Each name starts after the previous one (≈7 px per character at 12 px), so long names do not overlap.
  const offsets = chart.series.map((_, i) => chart.series.slice(0, i).reduce((x, s) => x + Math.max(140, s.name.length * 7 + 16), 0));
  const legend = chart.series
    .map((s, i) => `<text x="${left + 8 + offsets[i]}" y="${top - 10}" font-size="12" fill="${s.color}">${escapeHtml(s.name)}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#ccc"/>`,
    legend,
    ...lines,
    reference,
    `<text x="${left}" y="${height - bottom + 16}" font-size="11">${fmt(x0)}</text><text x="${width - right}" y="${height - bottom + 16}" font-size="11" text-anchor="end">${fmt(x1)}</text>`,
    `<text x="${(left + width - right) / 2}" y="${height - 6}" font-size="12" text-anchor="middle">${escapeHtml(chart.xLabel)}</text>`,
    `<text x="${left - 6}" y="${sy(y1).toFixed(1)}" font-size="11" text-anchor="end">${fmt(y1)}</text><text x="${left - 6}" y="${sy(y0).toFixed(1)}" font-size="11" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" font-size="12" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">${escapeHtml(chart.yLabel)}</text>`,
    '</svg>',
  ].join('');
}
