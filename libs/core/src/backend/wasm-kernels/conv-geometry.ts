/**
 * The geometry of a 2-D convolution, as the JavaScript loops of ddinit's wasm
 * kernels need it. Layout is channels-last throughout:
 * `x: [batch, inHeight, inWidth, inChannels]`, `y: [batch, outHeight, outWidth, ·]`,
 * and input row `ih` meets output row `oh` through filter row `kh` when
 * `ih = oh·strideHeight − padTop + kh·dilationHeight` (columns likewise).
 */
import * as tf from '@tensorflow/tfjs';
import type { backend_util } from '@tensorflow/tfjs';
import { ShapeError } from '../../errors';

export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/** The geometry of a tfjs `Conv2DInfo` (from `backend_util.computeConv2DInfo`). */
export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batchSize: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * The output indices `o` in `[start, end)` whose input index `o·stride + offset`
 * lies in `[0, inSize)`, clipped to `[0, outSize)`. Empty ranges have `end ≤ start`.
 */
export function validOutputRange(offset: number, stride: number, inSize: number, outSize: number): [number, number] {
  const start = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(outSize, Math.floor((inSize - 1 - offset) / stride) + 1);
  return [start, Math.max(start, end)];
}

/** Throws a ShapeError naming `where` unless `actual` equals `expected`. */
export function assertShape(where: string, what: string, actual: number[], expected: number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${what} does not match the convolution`, { where, expected, actual });
  }
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/**
 * The `Conv2DInfo` of a backprop kernel from its attributes (strides, pad,
 * dimRoundingMode, and dilations for depthwise kernels), checking that `dy` has
 * the forward output shape. One place for the four backprop kernels.
 * @throws ShapeError naming the kernel when dy's shape is not the output shape.
 */
export function backpropConvInfo(
  kernel: string,
  shapes: { input: Shape4; filter: Shape4; dy: number[] },
  attrs: Record<string, unknown>,
  options: { depthwise: boolean; dilations: [number, number] | 1 },
): backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    shapes.input,
    shapes.filter,
    attrs.strides as number | [number, number],
    options.dilations,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    options.depthwise,
    'channelsLast',
  );
  assertShape(`wasm kernel ${kernel}`, 'dy shape', shapes.dy, info.outShape);
  return info;
}
