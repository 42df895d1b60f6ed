/**
 * Per-output-channel edits of a layer's kernel, done in the paper's filter-row layout
 * (`kernelToFilterRows`: row g·N + f of a `[G, N, F]` tensor is output channel g·N + f
 * for every layout, including depthwise c·mult + m and transposed cout).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddinit/core';
import { filterRowsToKernel, kernelToFilterRows, type KernelInfo, type ParameterLayer } from '@ddinit/models';

/** The kernel whose filters are the layer's output channels (separable: the pointwise one). */
export function outputKernel(layer: ParameterLayer): KernelInfo {
  return layer.kernels[layer.kernels.length - 1];
}

function withRows(kernel: tf.Tensor, info: KernelInfo, edit: (rows: tf.Tensor2D) => tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const rows = kernelToFilterRows(kernel, info.layout, info.groups);
    const [g, n, f] = rows.shape;
    const edited = edit(tf.reshape(rows, [g * n, f]));
    return filterRowsToKernel(tf.reshape(edited, [g, n, f]), info.layout, info.shape);
  });
}

/**
 * The shape that broadcasts one value per output channel over a kernel of `layout`:
 * conv [kh, kw, cin/g, cout] and dense [in, units] hold channel i on the last axis,
 * depthwise [kh, kw, cin, mult] channel c·mult + m on the last two, transposed
 * [kh, kw, cout, cin] on the third (the order of `kernelToFilterRows`).
 */
function channelShape(info: KernelInfo): number[] {
  const s = info.shape;
  switch (info.layout) {
    case 'conv':
    case 'dense':
      return [s[s.length - 1]];
    case 'depthwise':
      return [s[2], s[3]];
    case 'transposed':
      return [s[2], 1];
  }
}

/**
 * W(:, i) ← W(:, i)·scale_i for every output channel i; the caller owns the result.
 * A broadcast product in the kernel's own layout: going through the filter rows costs
 * two transposes (seconds for a 9216 × 4096 dense kernel on the wasm backend).
 * @example const normalized = scaleOutputChannels(kernel, outputKernel(p), inverseStd);
 */
export function scaleOutputChannels(kernel: tf.Tensor, info: KernelInfo, scale: Float32Array): tf.Tensor {
  return tf.tidy(() => tf.mul(kernel, tf.tensor(scale, channelShape(info))));
}

/** The kernel with the filters of `channels` re-drawn from N(0, 1) (seeded); the caller owns the result. */
export function redrawOutputChannels(kernel: tf.Tensor, info: KernelInfo, channels: readonly number[], rng: Rng): tf.Tensor {
  return withRows(kernel, info, (rows) => {
    const [n, f] = rows.shape;
    const values = rows.dataSync().slice() as Float32Array;
    const fresh = new Float32Array(f);
    for (const c of channels) values.set(rng.fillNormal(fresh), c * f);
    return tf.tensor2d(values, [n, f]);
  });
}
