/**
 * Output sizes and explicit paddings of convolutions and poolings, exactly as
 * TensorFlow computes them (`valid` and `same`), so that patch coordinates and
 * Caffe's explicit `pad` can be stated in numbers.
 */

export type PaddingMode = 'valid' | 'same';

/** Explicit zero padding along one spatial axis: rows (or columns) added before and after. */
export interface AxisPadding {
  before: number;
  after: number;
}

/** kh + (kh − 1)(d − 1): the extent of a dilated kernel. */
export function dilatedKernelSize(kernel: number, dilation = 1): number {
  return kernel + (kernel - 1) * (dilation - 1);
}

/**
 * Output length of a convolution or pooling along one axis:
 * `valid`: ⌈(n − k_d + 1) / s⌉, `same`: ⌈n / s⌉, with k_d the dilated kernel size.
 * Zero or negative means the input is too small.
 */
export function convOutputLength(input: number, kernel: number, stride: number, padding: PaddingMode, dilation = 1): number {
  const span = padding === 'same' ? input : input - dilatedKernelSize(kernel, dilation) + 1;
  return Math.floor((span + stride - 1) / stride);
}

/**
 * The zero padding TensorFlow applies along one axis: none for `valid`; for
 * `same` a total of max((out − 1)·s + k_d − n, 0), the smaller half before.
 *
 * @example axisPadding(27, 5, 1, 'same') // { before: 2, after: 2 }: Caffe's pad 2
 */
export function axisPadding(input: number, kernel: number, stride: number, padding: PaddingMode, dilation = 1): AxisPadding {
  if (padding === 'valid') return { before: 0, after: 0 };
  const output = convOutputLength(input, kernel, stride, 'same', dilation);
  const total = Math.max((output - 1) * stride + dilatedKernelSize(kernel, dilation) - input, 0);
  const before = Math.floor(total / 2);
  return { before, after: total - before };
}
