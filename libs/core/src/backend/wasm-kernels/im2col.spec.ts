import { describe, expect, it } from 'vitest';
import { col2imAccumulate } from './col2im';
import { validOutputRange, type ConvGeometry } from './conv-geometry';
import { im2colColumns, im2colRows, im2colTransposed } from './im2col';
import { dot, normalData } from '../../testing/backend-comparison';

const GEOMETRY: ConvGeometry = {
  batchSize: 3,
  inHeight: 7,
  inWidth: 6,
  inChannels: 2,
  outHeight: 4,
  outWidth: 3,
  filterHeight: 3,
  filterWidth: 2,
  strideHeight: 2,
  strideWidth: 2,
  dilationHeight: 1,
  dilationWidth: 2,
  padTop: 1,
  padLeft: 1,
};

/** x[b, ih, iw, ci] or 0 in the padding, straight from the definition. */
function patchValue(x: Float32Array, g: ConvGeometry, b: number, oh: number, ow: number, kh: number, kw: number, ci: number) {
  const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
  const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
  if (ih < 0 || ih >= g.inHeight || iw < 0 || iw >= g.inWidth) return 0;
  return x[((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + ci];
}

describe('validOutputRange', () => {
  it('keeps the outputs whose input index o·stride + offset is inside [0, inSize)', () => {
    for (const [offset, stride, inSize, outSize] of [
      [-1, 2, 6, 3],
      [3, 2, 6, 4],
      [-5, 1, 3, 4],
      [7, 3, 6, 2],
    ]) {
      const [start, end] = validOutputRange(offset, stride, inSize, outSize);
      for (let o = 0; o < outSize; o++) {
        const inside = o * stride + offset >= 0 && o * stride + offset < inSize;
        expect(o >= start && o < end, `o=${o} offset=${offset}`).toBe(inside);
      }
    }
  });
});

describe('im2colTransposed', () => {
  const g = GEOMETRY;
  const x = normalData([g.batchSize, g.inHeight, g.inWidth, g.inChannels], 1);

  it('writes colsT[k, n] = x at the tap (0 in the padding), for a range of images', () => {
    const [b0, b1] = [1, 3];
    const N = im2colColumns(g, b1 - b0);
    const colsT = im2colTransposed(x, g, b0, b1, new Float32Array(im2colRows(g) * N).fill(Number.NaN));
    for (let b = b0; b < b1; b++)
      for (let oh = 0; oh < g.outHeight; oh++)
        for (let ow = 0; ow < g.outWidth; ow++)
          for (let kh = 0; kh < g.filterHeight; kh++)
            for (let kw = 0; kw < g.filterWidth; kw++)
              for (let ci = 0; ci < g.inChannels; ci++) {
                const k = (kh * g.filterWidth + kw) * g.inChannels + ci;
                const n = ((b - b0) * g.outHeight + oh) * g.outWidth + ow;
                expect(colsT[k * N + n]).toBe(patchValue(x, g, b, oh, ow, kh, kw, ci));
              }
  });

  it('has col2imAccumulate as its adjoint: <colsT, Dᵀ> = <x, col2im(D)>', () => {
    const N = im2colColumns(g, g.batchSize);
    const K = im2colRows(g);
    const colsT = im2colTransposed(x, g, 0, g.batchSize, new Float32Array(K * N));
    const dcols = normalData([N, K], 2);
    const dx = col2imAccumulate(dcols, g, 0, g.batchSize, new Float32Array(x.length));
    let lhs = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) lhs += colsT[k * N + n] * dcols[n * K + k];
    expect(Math.abs(lhs - dot(x, dx)) / Math.abs(lhs)).toBeLessThan(1e-5);
  });

  it('rejects buffers that are too short', () => {
    expect(() => im2colTransposed(x, g, 0, 3, new Float32Array(10))).toThrow(/im2col buffers are too short/);
    expect(() => col2imAccumulate(new Float32Array(10), g, 0, 3, new Float32Array(x.length))).toThrow(/col2im buffers are too short/);
  });
});
