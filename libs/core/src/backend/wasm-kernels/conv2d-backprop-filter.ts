/**
 * Conv2DBackpropFilter for the wasm backend (tfjs-backend-wasm 4.22 has none).
 *
 * The filter gradient of `y = conv2d(x, W)` is
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·sh − padTop + kh, ow·sw − padLeft + kw, ci] · dy[b, oh, ow, co]
 *
 * computed as one plain product per chunk of images, `dW = colsT · dy`, with
 * `colsT: [kh·kw·ci, b·oh·ow]` from {@link im2colTransposed} and
 * `dy: [b·oh·ow, co]`, on XNNPACK through the wasm BatchMatMul kernel. (The
 * transposed im2col puts the large operand on the left: the right operand is
 * packed by XNNPACK on every call, and wasm's transposed products are slow.)
 * Chunks keep `colsT` under `chunkBudget.maxElements` floats; their products
 * are summed.
 *
 * Inputs `x: [batch, inHeight, inWidth, inChannels]`, `dy: [batch, outHeight, outWidth, outChannels]`
 * (float32, NHWC); attrs `strides`, `pad`, `dimRoundingMode`, `filterShape`;
 * output `[filterHeight, filterWidth, inChannels, outChannels]`.
 *
 * @throws ShapeError for NCHW data, non-float32 tensors, or a `dy` whose shape
 *   is not the convolution's output shape.
 */
import * as tf from '@tensorflow/tfjs';
import { backpropConvInfo, convGeometry } from './conv-geometry';
import { imageChunks, imageRows } from './image-chunks';
import { im2colColumns, im2colRows, im2colTransposed } from './im2col';
import { assertChannelsLast, heapFloat32, kernelInput, releaseTensor, runWasmKernel, wasmKernelConfig, type WasmKernelArgs } from './wasm-backend';

export function conv2dBackpropFilter({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo {
  const x = kernelInput('Conv2DBackpropFilter', inputs, 'x');
  const dy = kernelInput('Conv2DBackpropFilter', inputs, 'dy');
  assertChannelsLast('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = backpropConvInfo('Conv2DBackpropFilter', { input: x.shape as [number, number, number, number], filter: filterShape, dy: dy.shape }, attrs, {
    depthwise: false,
    dilations: 1,
  });
  heapFloat32(backend, x);
  heapFloat32(backend, dy);
  const g = convGeometry(info);
  const K = im2colRows(g);
  const matMul = wasmKernelConfig(tf.BatchMatMul);
  let dW: tf.TensorInfo | undefined;
  for (const [b0, b1] of imageChunks(g.batchSize, K * im2colColumns(g, 1))) {
    const N = im2colColumns(g, b1 - b0);
    const colsT = backend.makeOutput([1, K, N], 'float32');
    let part: tf.TensorInfo;
    let dyRows: ReturnType<typeof imageRows> | undefined;
    try {
      dyRows = imageRows(backend, dy, b0, b1);
      im2colTransposed(heapFloat32(backend, x), g, b0, b1, heapFloat32(backend, colsT));
      part = runWasmKernel(matMul, backend, { a: colsT, b: dyRows.rows }, { transposeA: false, transposeB: false });
    } finally {
      releaseTensor(backend, colsT);
      if (dyRows?.owned) releaseTensor(backend, dyRows.rows);
    }
    if (dW === undefined) {
      dW = part;
    } else {
      const sum = heapFloat32(backend, dW);
      const add = heapFloat32(backend, part);
      for (let i = 0; i < sum.length; i++) sum[i] += add[i];
      releaseTensor(backend, part);
    }
  }
  if (dW === undefined) {
    // An empty batch: the gradient is zero.
    dW = backend.makeOutput(filterShape, 'float32');
    heapFloat32(backend, dW).fill(0);
  }
  dW.shape = [...info.filterShape];
  return dW;
}
