/**
 * Sum for the wasm backend when the reduced axes are the leading ones (a bias's
 * gradient: dy [batch, h, w, c] summed to [c]), as column sums over the heap with float64
 * accumulators — in C on the native addon when it is in use (the JavaScript loop was the
 * costliest kernel of a caffenet-small step under load, docs/RESULTS.md "Training step
 * (issue 13)"), with the same sums bit for bit; anything else goes to wasm's own kernel.
 *
 * tfjs-backend-wasm 4.22 sums only innermost axes, so it first transposes the whole
 * input: the bias gradients of a caffenet-small step were its fourth most costly kernel
 * (docs/RESULTS.md, "Training step (issue 13)").
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { heapFloatOffset, kernelInput, runWasmKernel, wholeHeapFloat32, type WasmKernelArgs } from './wasm-backend';

/** The number of leading axes `axes` covers, or −1 when they are not exactly the leading ones. */
function leadingAxes(axes: number[]): number {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  return sorted.every((a, i) => a === i) ? sorted.length : -1;
}

/** The Sum kernel; `native` computes the column sums when given. */
export function createSumKernel(wasmOwn: tf.KernelConfig, native?: NativeBlas): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('Sum', inputs, 'x');
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const lead = leadingAxes(axes);
    // All axes, or only innermost ones, are a plain contiguous reduction: wasm's own needs no transpose there.
    if (x.dtype !== 'float32' || lead <= 0 || lead === x.shape.length) return runWasmKernel(wasmOwn, backend, inputs, attrs);
    const rows = x.shape.slice(0, lead).reduce((p, d) => p * d, 1);
    const columns = x.shape.slice(lead).reduce((p, d) => p * d, 1);
    const outShape = attrs.keepDims === true ? x.shape.map((d, i) => (i < lead ? 1 : d)) : x.shape.slice(lead);
    const out = backend.makeOutput(outShape, 'float32');
    if (native !== undefined) {
      native.columnSums(wholeHeapFloat32(backend), rows, columns, heapFloatOffset(backend, x), heapFloatOffset(backend, out));
      return out;
    }
    const view = wholeHeapFloat32(backend); // after the allocation: it can grow the heap
    const acc = new Float64Array(columns);
    const start = heapFloatOffset(backend, x);
    for (let r = 0; r < rows; r++) {
      const row = start + r * columns;
      for (let c = 0; c < columns; c++) acc[c] += view[row + c];
    }
    view.set(acc, heapFloatOffset(backend, out));
    return out;
  };
}
