import { describe, expect, it } from 'vitest';
import { lineChartSvg } from './line-chart';

describe('lineChartSvg', () => {
  it('places each legend name after the previous one, so long names do not overlap', () => {
    const names = ['ddinit-kmeans+calibration', 'ddinit-zca+calibration', 'lsuv'];
    const svg = lineChartSvg({
      title: 'loss',
      xLabel: 'step',
      yLabel: 'loss',
      series: names.map((name) => ({ name, color: '#000', points: [[0, 1] as const, [1, 0.5] as const] })),
    });
    const xs = names.map((name) => Number(new RegExp(`<text x="([0-9.]+)"[^>]*>${name.replace('+', '\\+')}</text>`).exec(svg)?.[1]));
    // ≈7 px per character at font size 12.
    for (let i = 1; i < names.length; i++) expect(xs[i] - xs[i - 1]).toBeGreaterThanOrEqual(names[i - 1].length * 7);
    expect(xs[1] - xs[0]).toBeGreaterThan(140);
  });
});
