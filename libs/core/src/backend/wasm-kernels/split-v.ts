/**
 * SplitV for the wasm backend by block copies inside the heap.
 *
 * tfjs-backend-wasm 4.22 splits by one Slice per output, and its Slice copies
 * the whole input out to JavaScript each time: splitting CaffeNet's grouped
 * convolutions (two groups of 48–192 channels) took a tenth of a training step.
 * Here every output is filled by `copyWithin` over one heap view: for an
 * `x` of shape `[...outer, axisLength, ...inner]`, output `j` takes, for each
 * outer index, one contiguous run of `size_j · inner` elements.
 *
 * 4-byte dtypes (float32, int32) only; others go to wasm's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapFloatOffset, kernelInput, wholeHeapFloat32, type WasmKernelArgs } from './wasm-backend';

export type MultiOutputKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo[];

/** The SplitV kernel function; `wasmOwn` handles dtypes other than float32 and int32. */
export function createSplitVKernel(wasmOwn: tf.KernelConfig): MultiOutputKernelFunc {
  return (args: WasmKernelArgs): tf.TensorInfo[] => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('SplitV', inputs, 'x');
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      return wasmOwn.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo[];
    }
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
    const outer = x.shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const rowLength = x.shape[axis] * inner;
    const outputs = sizes.map((size) => {
      const shape = [...x.shape];
      shape[axis] = size;
      return backend.makeOutput(shape, x.dtype);
    });
    // Views only after every allocation: an allocation can grow (and detach) the heap.
    const view = wholeHeapFloat32(backend);
    const src = heapFloatOffset(backend, x);
    let start = 0;
    outputs.forEach((out, j) => {
      const run = sizes[j] * inner;
      const dst = heapFloatOffset(backend, out);
      if (run > 0) {
        for (let o = 0; o < outer; o++) {
          const from = src + o * rowLength + start;
          view.copyWithin(dst + o * run, from, from + run);
        }
      }
      start += run;
    });
    return outputs;
  };
}
