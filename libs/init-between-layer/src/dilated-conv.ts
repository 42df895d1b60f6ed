/**
 * A differentiable stand-in for a dilated `Conv2D` layer: tfjs 4.22 has no
 * gradient for `conv2d` with dilation > 1 ("dilation rates greater than 1 are
 * not yet supported in gradients"), and the calibration needs ∂loss/∂W of every
 * kernel. A convolution with dilation d equals an undilated one with the
 * kernel spread out by inserting d − 1 zero rows/columns between its taps:
 *
 *   W_d[i·d_h, j·d_w, :, :] = W[i, j, :, :], zero elsewhere; shape [(k_h−1)d_h+1, (k_w−1)d_w+1, c_in, c_out]
 *
 * and 'same' padding is computed from that effective size in both cases. The
 * spreading is pad + reshape + slice, all linear with tfjs gradients, so
 * ∂loss/∂W is exact.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

/** The fields of a tfjs convolution layer this module reads (public at runtime, not in the typings). */
interface ConvolutionFields {
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

function dilationOf(layer: tf.layers.Layer): [number, number] {
  const rate = (layer as unknown as Partial<ConvolutionFields>).dilationRate;
  if (rate === undefined) return [1, 1];
  return typeof rate === 'number' ? [rate, rate] : [rate[0] ?? 1, rate[1] ?? rate[0] ?? 1];
}

/** True for a layer whose forward the calibration must not run through tfjs's dilated conv2d. */
export function isDilatedConvolution(layer: tf.layers.Layer): boolean {
  const [dh, dw] = dilationOf(layer);
  return dh > 1 || dw > 1;
}

/**
 * `kernel` `[k_h, k_w, c_in, c_out]` spread to `[(k_h−1)d_h+1, (k_w−1)d_w+1, c_in, c_out]`
 * (see the module doc). No `tidy`: it runs inside a gradient tape.
 */
export function dilateKernel(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, cin, cout] = kernel.shape;
  let k: tf.Tensor = kernel;
  if (dh > 1) {
    const spread = tf.reshape(
      tf.pad(tf.reshape(k, [kh, 1, kw * cin * cout]), [
        [0, 0],
        [0, dh - 1],
        [0, 0],
      ]),
      [kh * dh, kw, cin, cout],
    );
    k = tf.slice(spread, [0, 0, 0, 0], [(kh - 1) * dh + 1, kw, cin, cout]);
  }
  const height = (kh - 1) * dh + 1;
  if (dw > 1) {
    const spread = tf.reshape(
      tf.pad(tf.reshape(k, [height, kw, 1, cin * cout]), [
        [0, 0],
        [0, 0],
        [0, dw - 1],
        [0, 0],
      ]),
      [height, kw * dw, cin, cout],
    );
    k = tf.slice(spread, [0, 0, 0, 0], [height, (kw - 1) * dw + 1, cin, cout]);
  }
  return k as tf.Tensor4D;
}

/**
 * What a dilated `Conv2D` layer computes on `input` (NHWC), with a gradient:
 * conv2d with the spread kernel, plus bias, then the layer's activation.
 * No `tidy`: it runs inside a gradient tape.
 *
 * @throws ConfigError naming the layer for a dilated layer other than a
 *   channels-last Conv2D (depthwise, separable, grouped, channels-first): tfjs
 *   has no gradient for it, and calibration cannot measure its change rate.
 */
export function applyDilatedConv2d(layer: tf.layers.Layer, input: tf.Tensor): tf.Tensor {
  const conv = layer as unknown as ConvolutionFields;
  if (layer.getClassName() !== 'Conv2D' || conv.dataFormat !== 'channelsLast') {
    throw new ConfigError('calibration cannot take gradients through a dilated convolution of this kind', {
      where: `layer ${layer.name}`,
      expected: 'a dilated Conv2D with channelsLast data, or dilation 1 (or no calibration: an init name without +calibration)',
      actual: `${layer.getClassName()} (${conv.dataFormat ?? 'channelsLast'}) with dilation ${dilationOf(layer).join('×')}`,
    });
  }
  const kernel = dilateKernel(conv.kernel.read() as tf.Tensor4D, dilationOf(layer));
  const strides = [conv.strides[0] ?? 1, conv.strides[1] ?? conv.strides[0] ?? 1] as [number, number];
  let output: tf.Tensor = tf.conv2d(input as tf.Tensor4D, kernel, strides, conv.padding as 'valid' | 'same', 'NHWC', 1);
  if (conv.bias !== null) output = tf.add(output, conv.bias.read());
  return conv.activation.apply(output);
}
