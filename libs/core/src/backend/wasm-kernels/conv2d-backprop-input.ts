/**
 * Conv2DBackpropInput for the wasm backend, replacing wasm 4.22's own kernel (a
 * naive loop that took 8.3 s of a 15.8 s CaffeNet training step).
 *
 * The input gradient of `y = conv2d(x, W)` (also the forward of conv2dTranspose) is
 *
 *   dx[b, ih, iw, ci] = Σ_{kh, kw, co} dy[b, oh, ow, co] · W[kh, kw, ci, co]
 *                       over ih = oh·sh − padTop + kh, iw = ow·sw − padLeft + kw.
 *
 * - Stride 1: a stride-1 convolution of `dy` with the filter flipped in space
 *   and with in/out channels swapped, `W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]`,
 *   padded by `KH−1−padTop` above and whatever brings the height back to
 *   `inHeight` below (columns likewise); it runs on XNNPACK through the wasm
 *   Conv2D kernel.
 * - Otherwise (stride > 1, or a forward padding wider than the filter): per chunk
 *   of images, `dcols = dy · Wᵀ` with `dy: [b·oh·ow, co]` and `Wᵀ: [co, kh·kw·ci]`
 *   on XNNPACK, then {@link col2imAccumulate} scatters the patches back.
 *
 * Inputs `dy: [batch, outHeight, outWidth, outChannels]`, `filter: [KH, KW, inChannels, outChannels]`
 * (float32, NHWC); attrs `strides`, `pad`, `dimRoundingMode`, `inputShape`;
 * output `inputShape`.
 *
 * @throws ShapeError for NCHW data, non-float32 tensors, or a `dy` whose shape
 *   is not the convolution's output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { col2imAccumulate } from './col2im';
import { backpropConvInfo, convGeometry, type ConvGeometry } from './conv-geometry';
import { imageChunks, imageRows } from './image-chunks';
import { transposeMatrices, transposeOnHeap } from './transpose-2d';
import {
  assertChannelsLast,
  heapFloat32,
  kernelInput,
  releaseTensor,
  runWasmKernel,
  viewWithShape,
  wasmKernelConfig,
  type BackendWasm,
  type WasmKernelArgs,
} from './wasm-backend';

/**
 * Writes `W'[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co]` (spatial flip, channel
 * swap) for `W: [KH, KW, CI, CO]` into `out: [KH, KW, CO, CI]`.
 */
export function flipAndSwapFilter(filter: Float32Array, out: Float32Array, [KH, KW, CI, CO]: [number, number, number, number]): Float32Array {
  const block = CI * CO;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const src = (kh * KW + kw) * block;
      const dst = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * block;
      transposeMatrices(filter.subarray(src, src + block), out.subarray(dst, dst + block), CI, CO);
    }
  }
  return out;
}

/** The paddings `[top, bottom, left, right]` of the equivalent stride-1 convolution of dy, possibly negative. */
function transposedPadding(g: ConvGeometry): [number, number, number, number] {
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  const bottom = g.inHeight - g.outHeight + g.filterHeight - 1 - top;
  const right = g.inWidth - g.outWidth + g.filterWidth - 1 - left;
  return [top, bottom, left, right];
}

function inputGradientByConvolution(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  [top, bottom, left, right]: [number, number, number, number],
): tf.TensorInfo {
  const [KH, KW, CI, CO] = filter.shape as [number, number, number, number];
  const flipped = backend.makeOutput([KH, KW, CO, CI], 'float32');
  try {
    flipAndSwapFilter(heapFloat32(backend, filter), heapFloat32(backend, flipped), [KH, KW, CI, CO]);
    return runWasmKernel(
      wasmKernelConfig(tf.Conv2D),
      backend,
      { x: dy, filter: flipped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
  } finally {
    releaseTensor(backend, flipped);
  }
}

function inputGradientByCol2im(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry, inShape: number[]): tf.TensorInfo {
  const CO = filter.shape[3];
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const matMul = wasmKernelConfig(tf.BatchMatMul);
  const filterT = transposeOnHeap(backend, viewWithShape(filter, [K, CO]), K, CO);
  const dx = backend.makeOutput(inShape, 'float32');
  try {
    heapFloat32(backend, dx).fill(0);
    for (const [b0, b1] of imageChunks(g.batchSize, g.outHeight * g.outWidth * K)) {
      const { rows, owned } = imageRows(backend, dy, b0, b1);
      let dcols: tf.TensorInfo | undefined;
      try {
        dcols = runWasmKernel(matMul, backend, { a: rows, b: filterT }, { transposeA: false, transposeB: false });
        col2imAccumulate(heapFloat32(backend, dcols), g, b0, b1, heapFloat32(backend, dx));
      } finally {
        if (dcols !== undefined) releaseTensor(backend, dcols);
        if (owned) releaseTensor(backend, rows);
      }
    }
  } catch (error) {
    releaseTensor(backend, dx);
    throw error;
  } finally {
    releaseTensor(backend, filterT);
  }
  return dx;
}

export function conv2dBackpropInput({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo {
  const dy = kernelInput('Conv2DBackpropInput', inputs, 'dy');
  const filter = kernelInput('Conv2DBackpropInput', inputs, 'filter');
  assertChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = backpropConvInfo('Conv2DBackpropInput', { input: inputShape, filter: filter.shape as [number, number, number, number], dy: dy.shape }, attrs, {
    depthwise: false,
    dilations: 1,
  });
  heapFloat32(backend, dy);
  heapFloat32(backend, filter);
  const g = convGeometry(info);
  const padding = transposedPadding(g);
  if (g.strideHeight === 1 && g.strideWidth === 1 && padding.every((p) => p >= 0) && g.batchSize > 0) {
    return inputGradientByConvolution(backend, dy, filter, padding);
  }
  return inputGradientByCol2im(backend, dy, filter, g, [...info.inShape]);
}
