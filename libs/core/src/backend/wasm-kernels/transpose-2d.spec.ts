import { describe, expect, it } from 'vitest';
import { imageChunks } from './image-chunks';
import { transposeMatrices } from './transpose-2d';
import { normalData } from '../../testing/backend-comparison';

describe('transposeMatrices', () => {
  it.each([
    [1, 5, 1],
    [37, 70, 1],
    [64, 32, 2],
    [3, 1, 4],
  ])('writes dst[j, i] = src[i, j] for %i×%i matrices (batch %i)', (rows, cols, batch) => {
    const src = normalData([batch, rows, cols], 1);
    const dst = transposeMatrices(src, new Float32Array(src.length), rows, cols, batch);
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) expect(dst[b * rows * cols + j * rows + i]).toBe(src[b * rows * cols + i * cols + j]);
  });

  it('rejects a destination that is too short, naming the sizes', () => {
    expect(() => transposeMatrices(new Float32Array(6), new Float32Array(5), 2, 3)).toThrow(/expected 1·2·3 = 6 elements, got source 6, destination 5/);
  });
});

describe('imageChunks', () => {
  it('covers the batch with whole images under the budget, at least one per chunk', () => {
    expect(imageChunks(10, 3, 9)).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
    expect(imageChunks(2, 100, 9)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(imageChunks(0, 5, 9)).toEqual([]);
  });
});
