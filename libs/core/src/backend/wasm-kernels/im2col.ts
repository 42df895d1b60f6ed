/**
 * im2col in the transposed layout that makes a filter gradient one plain
 * matrix product.
 *
 * For images `b0 ≤ b < b1` of `x: [batch, inHeight, inWidth, inChannels]`:
 *
 *   colsT[k, n] = x[b, oh·sh − padTop + kh·dh, ow·sw − padLeft + kw·dw, ci]   (0 in the padding)
 *   k = (kh·filterWidth + kw)·inChannels + ci,   n = ((b − b0)·outHeight + oh)·outWidth + ow
 *
 * so `colsT: [filterHeight·filterWidth·inChannels, (b1 − b0)·outHeight·outWidth]`,
 * and `colsT · dy` with `dy: [n, outChannels]` is the filter gradient in the tfjs
 * layout `[filterHeight, filterWidth, inChannels, outChannels]`.
 *
 * Rows are written in runs along `ow`, one output row `oh` at a time, so the
 * band of `x` being read (filterHeight input rows) stays in cache.
 */
import { ShapeError } from '../../errors';
import { validOutputRange, type ConvGeometry } from './conv-geometry';

/** Number of columns of {@link im2colTransposed} for `images` images. */
export function im2colColumns(g: ConvGeometry, images: number): number {
  return images * g.outHeight * g.outWidth;
}

/** Number of rows of {@link im2colTransposed}: filterHeight · filterWidth · inChannels. */
export function im2colRows(g: ConvGeometry): number {
  return g.filterHeight * g.filterWidth * g.inChannels;
}

/**
 * Fills `colsT` (see the module comment) from `x` for images `[b0, b1)`.
 *
 * @throws ShapeError when `x` or `colsT` is shorter than the geometry requires.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, b0: number, b1: number, colsT: Float32Array): Float32Array {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = g;
  const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = g;
  const N = im2colColumns(g, b1 - b0);
  const K = im2colRows(g);
  if (x.length < b1 * H * W * C || colsT.length < K * N) {
    throw new ShapeError('im2col buffers are too short', {
      where: 'im2colTransposed',
      expected: `x ≥ ${b1 * H * W * C}, colsT ≥ ${K * N} elements`,
      actual: `x ${x.length}, colsT ${colsT.length}`,
    });
  }
  const colRanges: [number, number][] = [];
  for (let kw = 0; kw < KW; kw++) colRanges.push(validOutputRange(kw * dw - padLeft, sw, W, OW));
  const xStep = sw * C;
  for (let b = b0; b < b1; b++) {
    const xImage = b * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const n0 = ((b - b0) * OH + oh) * OW;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * sh - padTop + kh * dh;
        const rowInside = ih >= 0 && ih < H;
        const xRow = xImage + ih * W * C;
        for (let kw = 0; kw < KW; kw++) {
          const [owStart, owEnd] = rowInside ? colRanges[kw] : [0, 0];
          const iwStart = owStart * sw - padLeft + kw * dw;
          const kBase = (kh * KW + kw) * C;
          for (let ci = 0; ci < C; ci++) {
            const d = (kBase + ci) * N + n0;
            let ow = 0;
            for (; ow < owStart; ow++) colsT[d + ow] = 0;
            let s = xRow + iwStart * C + ci;
            for (; ow < owEnd; ow++, s += xStep) colsT[d + ow] = x[s];
            for (; ow < OW; ow++) colsT[d + ow] = 0;
          }
        }
      }
    }
  }
  return colsT;
}
