import { describe, expect, it } from 'vitest';
import type { LabelledBox } from '../metrics/box-average-precision';
import { IGNORED_CELL, assignDetectionTargets, decodeBox, encodeBox, type DetectionGrid } from './detection-targets';

const box = (cls: number, x0: number, y0: number, x1: number, y1: number, difficult = false): LabelledBox => ({ class: cls, x0, y0, x1, y1, difficult });
const GRID4: DetectionGrid = { rows: 4, cols: 4, height: 32, width: 32 }; // 8-px cells

describe('detection target assignment', () => {
  it('gives the centre cell objectness 1, the class, the offset in the cell and the log size in cells', () => {
    // Centre (12, 8) → (1.5, 1.0) cells → cell (row 1, col 1) = 5; size 16×8 px = 2×1 cells.
    const t = assignDetectionTargets([[box(3, 4, 4, 20, 12)]], GRID4, 5);
    expect(t.positives).toBe(1);
    expect(t.unassigned).toBe(0);
    expect(
      Array.from(t.objectness)
        .map((v, i) => (v !== 0 ? i : -1))
        .filter((i) => i >= 0),
    ).toEqual([5]);
    expect(t.classes[5]).toBe(3);
    expect(t.classes.filter((c) => c !== -1).length).toBe(1);
    const b = Array.from(t.box.subarray(20, 24));
    expect(b[0]).toBeCloseTo(0.5, 6);
    expect(b[1]).toBeCloseTo(0, 6);
    expect(b[2]).toBeCloseTo(Math.LN2, 6);
    expect(b[3]).toBeCloseTo(0, 6);
  });

  it('works on a grid whose stride is not an integer (7 cells over 64 px)', () => {
    const grid = { rows: 7, cols: 7, height: 64, width: 64 };
    const s = 64 / 7;
    // Centre (35, 40) → (3.828125, 4.375) cells.
    const { row, col, t } = encodeBox(box(0, 30, 30, 40, 50), grid);
    expect([row, col]).toEqual([4, 3]);
    expect(t[0]).toBeCloseTo(35 / s - 3, 12);
    expect(t[1]).toBeCloseTo(0.375, 12);
    expect(t[2]).toBeCloseTo(Math.log(10 / s), 12);
    expect(t[3]).toBeCloseTo(Math.log(20 / s), 12);
    const back = decodeBox(row, col, t, grid);
    for (const [k, v] of Object.entries({ x0: 30, y0: 30, x1: 40, y1: 50 })) expect(back[k as keyof typeof back], k).toBeCloseTo(v, 9);
  });

  it('resolves a collision to the smaller box and counts the other as unassigned', () => {
    // Both centres at (12, 8) → cell 5: 16×8 (area 128) beats 16×16 (area 256), whichever is listed first.
    for (const boxes of [
      [box(1, 4, 4, 20, 12), box(2, 4, 0, 20, 16)],
      [box(2, 4, 0, 20, 16), box(1, 4, 4, 20, 12)],
    ]) {
      const t = assignDetectionTargets([boxes], GRID4, 3);
      expect(t.classes[5]).toBe(1);
      expect(t.positives).toBe(1);
      expect(t.unassigned).toBe(1);
    }
  });

  it('ignores the cell of a difficult box, unless a box that is not difficult claims it too', () => {
    const alone = assignDetectionTargets([[box(1, 24, 24, 32, 32, true)]], GRID4, 3);
    expect(alone.objectness[15]).toBe(IGNORED_CELL);
    expect(alone.classes[15]).toBe(-1);
    expect(alone.positives).toBe(0);
    const shared = assignDetectionTargets([[box(1, 26, 26, 30, 30, true), box(2, 24, 24, 32, 32)]], GRID4, 3);
    expect(shared.objectness[15]).toBe(1);
    expect(shared.classes[15]).toBe(2);
  });

  it('gives an image without boxes only background cells, image by image', () => {
    const t = assignDetectionTargets([[], [box(0, 0, 0, 8, 8)]], GRID4, 1);
    expect(Array.from(t.objectness.subarray(0, 16)).every((v) => v === 0)).toBe(true);
    expect(t.objectness[16]).toBe(1); // image 1, cell 0
    expect(t.positives).toBe(1);
  });

  it('names a box without area or with a class out of range', () => {
    expect(() => assignDetectionTargets([[], [box(0, 3, 3, 3, 8)]], GRID4, 2)).toThrow(/boxes\[1\]\[0\]: a box has no area/);
    expect(() => assignDetectionTargets([[box(2, 0, 0, 4, 4)]], GRID4, 2)).toThrow(/boxes\[0\]\[0\]\.class: a box class is out of range/);
  });
});
