/**
 * Small, dependency-free SVG charts for the self-contained HTML report: a grouped
 * bar chart on a log axis and an image grid of first-layer filters.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export interface Series {
  name: string;
  color: string;
  /** One value per category; null or a non-positive value leaves a gap on a log axis. */
  values: (number | null)[];
}

export interface GroupedBarChart {
  title: string;
  yLabel: string;
  categories: string[];
  series: Series[];
  /** Draw a dashed reference line at this value (e.g. the target std of 1). */
  reference?: number;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(1) : String(+v.toPrecision(3)));

/** Grouped bars on a log10 axis; categories along x (rotated labels). */
export function groupedBarChartSvg(chart: GroupedBarChart): string {
  const width = Math.max(480, 60 + chart.categories.length * (14 * chart.series.length + 16));
  const height = 300;
  const margin = { left: 64, right: 16, top: 32, bottom: 90 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const positive = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  if (chart.reference !== undefined) positive.push(chart.reference);
  // One decade below the smallest value, so that no bar has zero height.
  const lo = Math.floor(Math.log10(Math.min(...positive, 1)) - 1e-9);
  const hi = Math.ceil(Math.log10(Math.max(...positive, 1)));
  const top = hi === lo ? hi + 1 : hi;
  const y = (v: number) => margin.top + plotH - ((Math.log10(v) - lo) / (top - lo)) * plotH;
  const groupW = plotW / Math.max(1, chart.categories.length);
  const barW = Math.max(2, Math.min(14, (groupW - 6) / chart.series.length));
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" class="title">${escapeHtml(chart.title)}</text>`);
  for (let e = lo; e <= top; e++) {
    const yy = y(10 ** e);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${yy + 4}" text-anchor="end" class="tick">1e${e}</text>`);
  }
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="tick">${escapeHtml(chart.yLabel)}</text>`);
  chart.categories.forEach((category, i) => {
    const x0 = margin.left + i * groupW + (groupW - barW * chart.series.length) / 2;
    chart.series.forEach((series, j) => {
      const v = series.values[i];
      if (v === null || v === undefined || !(v > 0) || !Number.isFinite(v)) return;
      const yy = y(v);
      const base = margin.top + plotH;
      parts.push(
        `<rect x="${x0 + j * barW}" y="${Math.min(yy, base)}" width="${barW - 1}" height="${Math.abs(base - yy)}" fill="${series.color}"><title>${escapeHtml(`${category} · ${series.name}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    const lx = margin.left + (i + 0.5) * groupW;
    parts.push(`<text transform="translate(${lx} ${margin.top + plotH + 10}) rotate(45)" class="tick">${escapeHtml(category)}</text>`);
  });
  if (chart.reference !== undefined) {
    const yy = y(chart.reference);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" class="reference"/>`);
  }
  chart.series.forEach((series, j) => {
    const lx = margin.left + 8 + j * 150;
    parts.push(`<rect x="${lx}" y="${height - 16}" width="10" height="10" fill="${series.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 7}" class="tick">${escapeHtml(series.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/**
 * First-layer filters as a grid of tiles, one per output channel. A kernel of
 * layout [kh, kw, cin, cout] shows in colour when cin = 3, in grey otherwise (the
 * mean over input channels). Each tile is scaled symmetrically: 0 is mid-grey.
 */
export function filterGridSvg(shape: readonly [number, number, number, number], values: readonly number[], tileSize = 44): string {
  const [kh, kw, cin, cout] = shape;
  const pixel = Math.max(2, Math.round(tileSize / Math.max(kh, kw)));
  const columns = Math.ceil(Math.sqrt(cout));
  const rowsOfTiles = Math.ceil(cout / columns);
  const gap = 2;
  const tileW = kw * pixel;
  const tileH = kh * pixel;
  const width = columns * (tileW + gap) + gap;
  const height = rowsOfTiles * (tileH + gap) + gap;
  const at = (i: number, j: number, c: number, o: number) => values[((i * kw + j) * cin + c) * cout + o];
  const parts: string[] = [];
  for (let o = 0; o < cout; o++) {
    let scale = 0;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) scale = Math.max(scale, Math.abs(at(i, j, c, o)));
    scale = scale > 0 ? scale : 1;
    const ox = gap + (o % columns) * (tileW + gap);
    const oy = gap + Math.floor(o / columns) * (tileH + gap);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const channel = (c: number) => Math.round(127.5 + (127.5 * at(i, j, c, o)) / scale);
        let rgb: [number, number, number];
        if (cin === 3) {
          rgb = [channel(0), channel(1), channel(2)];
        } else {
          let sum = 0;
          for (let c = 0; c < cin; c++) sum += at(i, j, c, o);
          const g = Math.round(127.5 + (127.5 * sum) / cin / scale);
          rgb = [g, g, g];
        }
        parts.push(`<rect x="${ox + j * pixel}" y="${oy + i * pixel}" width="${pixel}" height="${pixel}" fill="rgb(${rgb.join(',')})"/>`);
      }
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" class="filters" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" shape-rendering="crispEdges">${parts.join('')}</svg>`;
}
