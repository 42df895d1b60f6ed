/**
 * A confusion matrix as an SVG heat map for the self-contained HTML reports:
 * rows are the true classes, columns the predicted ones; each cell's shade is
 * its share of its row (the class's recall on the diagonal), so classes of
 * different sizes read alike, and the count is written in the cell.
 */
import { escapeHtml } from './svg-charts';

export interface HeatMap {
  title: string;
  /** Row and column labels (the class names). */
  labels: string[];
  /** `labels.length` rows of counts (rows: truth, columns: prediction). */
  counts: number[][];
}

/** White → dark blue by the row share; text turns white on dark cells. */
function shade(share: number): { fill: string; text: string } {
  const t = Math.max(0, Math.min(1, share));
  const channel = (from: number, to: number) => Math.round(from + (to - from) * t);
  return { fill: `rgb(${channel(255, 8)},${channel(255, 48)},${channel(255, 107)})`, text: t > 0.5 ? '#fff' : '#222' };
}

export function heatMapSvg(map: HeatMap): string {
  const n = map.labels.length;
  const cell = n <= 12 ? 36 : n <= 30 ? 18 : 10;
  const labelWidth = Math.min(120, 8 + 7 * Math.max(...map.labels.map((l) => l.length), 1));
  const [left, top] = [labelWidth + 18, labelWidth + 30];
  // Column labels rise to the right at 60°: room for the last one's run (cos 60° of its length).
  const width = left + n * cell + Math.ceil(labelWidth / 2) + 8;
  const height = top + n * cell + 24;
  const cells: string[] = [];
  map.counts.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const { fill, text } = shade(total > 0 ? count / total : 0);
      const [x, y] = [left + p * cell, top + t * cell];
      const tip = `${map.labels[t]} predicted as ${map.labels[p]}: ${count}${total > 0 ? ` (${((100 * count) / total).toFixed(1)}% of the class)` : ''}`;
      cells.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ddd"><title>${escapeHtml(tip)}</title></rect>`);
      if (cell >= 18 && count > 0)
        cells.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="${cell >= 36 ? 11 : 8}" text-anchor="middle" fill="${text}">${count}</text>`);
    });
  });
  const rowLabels = map.labels.map(
    (l, i) => `<text x="${left - 4}" y="${top + i * cell + cell / 2 + 4}" font-size="11" text-anchor="end">${escapeHtml(l)}</text>`,
  );
  const colLabels = map.labels.map((l, i) => {
    const [x, y] = [left + i * cell + cell / 2 + 4, top - 4];
    return `<text x="${x}" y="${y}" font-size="11" text-anchor="start" transform="rotate(-60 ${x} ${y})">${escapeHtml(l)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(map.title)}">
<text x="4" y="14" font-size="13" font-weight="bold">${escapeHtml(map.title)}</text>
<text x="${left}" y="${top + n * cell + 16}" font-size="10" fill="#666">rows: truth · columns: prediction · shade: share of the row</text>
${cells.join('\n')}
${rowLabels.join('\n')}
${colLabels.join('\n')}
</svg>`;
}
