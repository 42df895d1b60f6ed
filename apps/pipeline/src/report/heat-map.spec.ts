import { describe, expect, it } from 'vitest';
import { heatMapSvg } from './heat-map';

describe('the confusion heat map', () => {
  const svg = heatMapSvg({
    title: 'confusion <test>',
    labels: ['cat', 'dog & co'],
    counts: [
      [3, 1],
      [0, 10],
    ],
  });

  it('draws one cell per (truth, prediction), shaded by its share of the truth row, with its count', () => {
    const cells = [...svg.matchAll(/<rect [^>]*fill="(rgb\([^)]*\))"[^>]*><title>([^<]*)<\/title>/g)].map((m) => ({ fill: m[1], title: m[2] }));
    expect(cells.map((c) => c.title)).toEqual([
      'cat predicted as cat: 3 (75.0% of the class)',
      'cat predicted as dog &amp; co: 1 (25.0% of the class)',
      'dog &amp; co predicted as cat: 0 (0.0% of the class)',
      'dog &amp; co predicted as dog &amp; co: 10 (100.0% of the class)',
    ]);
    // Share 0 is white, 1 the darkest blue; 0.75 in between.
    expect(cells[2].fill).toBe('rgb(255,255,255)');
    expect(cells[3].fill).toBe('rgb(8,48,107)');
    expect(cells[0].fill).toBe('rgb(70,100,144)');
    expect([...svg.matchAll(/<text [^>]*text-anchor="middle"[^>]*>(\d+)<\/text>/g)].map((m) => m[1])).toEqual(['3', '1', '10']);
  });

  it('escapes the title and the class names', () => {
    expect(svg).toContain('confusion &lt;test&gt;');
    expect(svg).not.toContain('dog & co');
  });
});
