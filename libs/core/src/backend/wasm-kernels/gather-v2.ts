/**
 * GatherV2 for the wasm backend by copies inside the heap, for 4-byte dtypes and
 * batchDims 0: out[o, i, :] = x[o, indices[i], :] over the `outer` axes before `axis`.
 *
 * tfjs-backend-wasm 4.22 checks every index with an assertion closure in JavaScript
 * and then copies element by element: @ddinit/pretrain cuts the patches of a context
 * batch with one gather of ~330 000 pixels of 3 channels, and that gather was most of
 * the batch's time (docs/RESULTS.md, "Training step (issue 13)"). Consecutive indices
 * (a patch's row of pixels) are copied as one block; blocks of 16 values or more are
 * moved with copyWithin, shorter ones value by value through an Int32Array view (bits
 * moved as they are, so int32 values pass unchanged).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors';
import { heapFloatOffset, kernelInput, runWasmKernel, type WasmKernelArgs } from './wasm-backend';

function product(dims: number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

export function createGatherV2Kernel(wasmOwn: tf.KernelConfig): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const { inputs, backend, attrs = {} } = args;
    const x = kernelInput('GatherV2', inputs, 'x');
    const indices = kernelInput('GatherV2', inputs, 'indices');
    const fourBytes = (x.dtype === 'float32' || x.dtype === 'int32') && indices.dtype === 'int32';
    if (!fourBytes || ((attrs.batchDims as number | undefined) ?? 0) !== 0) return runWasmKernel(wasmOwn, backend, inputs, attrs);
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const dim = x.shape[axis];
    const index = backend.readSync(indices.dataId) as Int32Array;
    for (let i = 0; i < index.length; i++) {
      if (!(index[i] >= 0 && index[i] < dim)) {
        throw new ShapeError('a gather index is out of range', { where: 'wasm kernel GatherV2', expected: `an index in [0, ${dim - 1}]`, actual: index[i] });
      }
    }
    const outer = product(x.shape.slice(0, axis));
    const inner = product(x.shape.slice(axis + 1));
    const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    // Views after the allocation: it can grow the heap.
    const view = new Int32Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
    const src = heapFloatOffset(backend, x);
    let dst = heapFloatOffset(backend, out);
    for (let o = 0; o < outer; o++) {
      const base = src + o * dim * inner;
      for (let i = 0; i < index.length;) {
        // A run of consecutive indices is one contiguous block (a patch's row of pixels): one copy.
        let run = 1;
        while (i + run < index.length && index[i + run] === index[i] + run) run++;
        const from = base + index[i] * inner;
        const length = run * inner;
        if (length >= 16) view.copyWithin(dst, from, from + length);
        else for (let k = 0; k < length; k++) view[dst + k] = view[from + k];
        dst += length;
        i += run;
      }
    }
    return out;
  };
}
