/**
 * col2im: the adjoint of im2col, scattering patch gradients back onto the image.
 *
 * For images `b0 ≤ b < b1` and `dcols: [(b1 − b0)·outHeight·outWidth, filterHeight·filterWidth·inChannels]`
 * (row `n = ((b − b0)·outHeight + oh)·outWidth + ow`, column `k = (kh·filterWidth + kw)·inChannels + ci`):
 *
 *   dx[b, oh·sh − padTop + kh·dh, ow·sw − padLeft + kw·dw, ci] += dcols[n, k]
 *
 * skipping taps that fall into the padding. `dx: [batch, inHeight, inWidth, inChannels]`
 * is accumulated into, so the caller zeroes it first. With `dcols = dy · Wᵀ`
 * this is the input gradient of a convolution with any stride and dilation.
 */
import { ShapeError } from '../../errors';
import { validOutputRange, type ConvGeometry } from './conv-geometry';

/**
 * Adds the patch gradients `dcols` of images `[b0, b1)` into `dx` (see the module comment).
 *
 * @throws ShapeError when `dcols` or `dx` is shorter than the geometry requires.
 */
export function col2imAccumulate(dcols: Float32Array, g: ConvGeometry, b0: number, b1: number, dx: Float32Array): Float32Array {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = g;
  const { dilationHeight: dh, dilationWidth: dw, padTop, padLeft } = g;
  const K = KH * KW * C;
  const N = (b1 - b0) * OH * OW;
  if (dcols.length < N * K || dx.length < b1 * H * W * C) {
    throw new ShapeError('col2im buffers are too short', {
      where: 'col2imAccumulate',
      expected: `dcols ≥ ${N * K}, dx ≥ ${b1 * H * W * C} elements`,
      actual: `dcols ${dcols.length}, dx ${dx.length}`,
    });
  }
  const rowRanges: [number, number][] = [];
  for (let kh = 0; kh < KH; kh++) rowRanges.push(validOutputRange(kh * dh - padTop, sh, H, OH));
  const colRanges: [number, number][] = [];
  for (let kw = 0; kw < KW; kw++) colRanges.push(validOutputRange(kw * dw - padLeft, sw, W, OW));
  for (let b = b0; b < b1; b++) {
    const dxImage = b * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let kh = 0; kh < KH; kh++) {
        if (oh < rowRanges[kh][0] || oh >= rowRanges[kh][1]) continue;
        const dxRow = dxImage + (oh * sh - padTop + kh * dh) * W * C;
        for (let kw = 0; kw < KW; kw++) {
          const [owStart, owEnd] = colRanges[kw];
          const kBase = (kh * KW + kw) * C;
          for (let ow = owStart; ow < owEnd; ow++) {
            const src = (((b - b0) * OH + oh) * OW + ow) * K + kBase;
            const dst = dxRow + (ow * sw - padLeft + kw * dw) * C;
            for (let ci = 0; ci < C; ci++) dx[dst + ci] += dcols[src + ci];
          }
        }
      }
    }
  }
  return dx;
}
