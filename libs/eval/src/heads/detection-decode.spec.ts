import { describe, expect, it } from 'vitest';
import { decodeDetections, detectionChannels, nonMaxSuppression } from './detection-decode';

const box = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });

describe('non-maximum suppression', () => {
  it('drops a box overlapping a higher-scored kept box by IoU > 0.5 and keeps one at exactly 0.5', () => {
    // B overlaps A by 90/110 = 0.82 → dropped; C overlaps A by 50/100 = 0.5 → kept; D overlaps nothing.
    const boxes = [box(0, 0, 10, 10), box(1, 0, 11, 10), box(0, 0, 10, 5), box(20, 20, 30, 30)];
    const scores = [0.9, 0.8, 0.7, 0.95];
    expect(nonMaxSuppression(boxes, scores, 0.5)).toEqual([3, 0, 2]);
    expect(nonMaxSuppression(boxes, scores, 0.5, 2)).toEqual([3, 0]);
    expect(nonMaxSuppression(boxes, scores, 0.9)).toEqual([3, 0, 1, 2]);
  });

  it('compares with kept boxes only: a dropped box suppresses nothing', () => {
    // A–B 80/120 = 0.67, B–C 0.67, A–C 60/140 = 0.43: B goes, so C stays.
    expect(nonMaxSuppression([box(0, 0, 10, 10), box(2, 0, 12, 10), box(4, 0, 14, 10)], [0.9, 0.8, 0.7], 0.5)).toEqual([0, 2]);
  });

  it('breaks score ties by index, whatever the input order', () => {
    expect(nonMaxSuppression([box(0, 0, 10, 10), box(0, 0, 10, 10), box(30, 0, 40, 10)], [0.5, 0.5, 0.5], 0.5)).toEqual([0, 2]);
  });
});

describe('decoding the head output', () => {
  // 2×2 grid of 8-px cells over 16×16 px, 2 classes: 7 channels per cell.
  const grid = { rows: 2, cols: 2, height: 16, width: 16 };
  const cell = (objectness: number, t: number[], logits: number[]) => [objectness, ...t, ...logits];
  const output = [
    // cell 0: σ(o) = 0.8, softmax = (0.25, 0.75); centre offset (0.5, 0.5), size 1×1 cell → box (0, 0, 8, 8).
    ...cell(Math.log(4), [0, 0, 0, 0], [0, Math.log(3)]),
    // cell 1: σ(o) = 0.5, softmax = (0.5, 0.5); offset (0.75, 0.5) → centre (14, 4); 2×1 cells → (6, 0, 22, 8) clipped to x1 = 16.
    ...cell(0, [Math.log(3), 0, Math.LN2, 0], [0, 0]),
    ...cell(-10, [0, 0, 0, 0], [5, 0]), // cell 2: σ(o) < 0.05, no detection
    ...cell(Math.log(0.04 / 0.96), [0, 0, 0, 0], [0, 9]), // cell 3: σ(o) = 0.04 < 0.05
  ];

  it('scores σ(o)·softmax(z)_c, decodes the box, runs NMS per class and sorts by score', () => {
    expect(output.length).toBe(4 * detectionChannels(2));
    const detections = decodeDetections(output, grid, 2);
    const expected = [
      { class: 1, score: 0.6, ...box(0, 0, 8, 8) },
      { class: 0, score: 0.25, ...box(6, 0, 16, 8) },
      { class: 1, score: 0.25, ...box(6, 0, 16, 8) },
      { class: 0, score: 0.2, ...box(0, 0, 8, 8) }, // the same box as the first, another class: not suppressed
    ];
    expect(detections.length).toBe(expected.length);
    detections.forEach((d, i) => {
      expect(d.class, `detection ${i}`).toBe(expected[i].class);
      for (const key of ['score', 'x0', 'y0', 'x1', 'y1'] as const) expect(d[key], `detection ${i} ${key}`).toBeCloseTo(expected[i][key], 9);
    });
  });

  it('applies the score threshold and the per-image cap', () => {
    expect(decodeDetections(output, grid, 2, { scoreThreshold: 0.3 }).map((d) => d.score)).toEqual([expect.closeTo(0.6, 9)]);
    expect(decodeDetections(output, grid, 2, { maxPerImage: 1 }).length).toBe(1);
    // Cell 3 now gives class 1 a score of 0.04·σ(9) ≈ 0.04, box (8, 8, 16, 16), overlapping no other class-1 box (class 0: 0.04·σ(−9) < 0.01).
    expect(decodeDetections(output, grid, 2, { scoreThreshold: 0.01 }).length).toBe(5);
  });

  it('skips a cell whose output is not a number instead of yielding a NaN box', () => {
    const diverged = [
      ...cell(5, [NaN, 0, 0, 0], [0, 9]),
      ...cell(NaN, [0, 0, 0, 0], [0, 9]),
      ...cell(5, [0, 0, 0, 0], [NaN, 9]),
      ...cell(5, [0, 0, 0, 0], [0, 9]),
    ];
    const detections = decodeDetections(diverged, grid, 2);
    expect(detections.map((d) => [d.class, d.x0, d.y0, d.x1, d.y1])).toEqual([[1, 8, 8, 16, 16]]);
  });

  it('suppresses overlapping boxes of one class', () => {
    // Neighbouring cells predict 16×8 boxes for class 0, centres x = 6 and 10: (0, 0, 14, 8) and (2, 0, 16, 8) after clipping,
    // IoU 96/128 = 0.75; the weaker one goes.
    const same = [
      ...cell(2, [Math.log(3), 0, Math.LN2, 0], [9, 0]),
      ...cell(1, [-Math.log(3), 0, Math.LN2, 0], [9, 0]),
      ...cell(-10, [0, 0, 0, 0], [0, 0]),
      ...cell(-10, [0, 0, 0, 0], [0, 0]),
    ];
    const detections = decodeDetections(same, grid, 2);
    expect(detections.length).toBe(1);
    expect(detections[0]).toMatchObject({ class: 0, x0: 0, y0: 0, x1: 14, y1: 8 });
    expect(detections[0].score).toBeCloseTo(1 / (1 + Math.exp(-2)) / (1 + Math.exp(-9)), 9);
  });
});
