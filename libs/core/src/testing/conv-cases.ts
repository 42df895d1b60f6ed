/**
 * Convolution geometries the specs of the conv kernels share: strides,
 * 'same' / 'valid' / numeric / explicit padding (also wider than the filter),
 * odd sizes, batch 1 and above.
 */
import * as tf from '@tensorflow/tfjs';

export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

export const CONV_CASES: ConvCase[] = [
  { name: '3×3 stride 1 same, batch 1', x: [1, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: '3×2 stride 2 valid, odd sizes', x: [2, 9, 8, 5], filter: [3, 2, 5, 6], strides: 2, pad: 'valid' },
  { name: '5×5 strides [2,3] same', x: [3, 11, 10, 4], filter: [5, 5, 4, 7], strides: [2, 3], pad: 'same' },
  {
    name: 'explicit asymmetric padding',
    x: [2, 6, 7, 3],
    filter: [3, 3, 3, 5],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ],
  },
  {
    name: 'explicit padding wider than the filter',
    x: [2, 5, 5, 2],
    filter: [3, 3, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [4, 3],
      [3, 0],
      [0, 0],
    ],
  },
  { name: 'numeric padding 1, stride 2', x: [2, 8, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1 },
  { name: '11×11 stride 4 valid (conv1-like)', x: [2, 31, 31, 3], filter: [11, 11, 3, 8], strides: 4, pad: 'valid' },
  { name: '1×1 stride 2 projection', x: [3, 8, 8, 6], filter: [1, 1, 6, 5], strides: 2, pad: 'same' },
];

/** The output shape `[batch, outHeight, outWidth, outChannels]` of a case's forward convolution. */
export function convOutputShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad).outShape;
}
