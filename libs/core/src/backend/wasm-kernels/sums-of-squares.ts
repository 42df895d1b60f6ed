/**
 * The SUMS_OF_SQUARES kernel on wasm (see ../sums-of-squares.ts): one pass over each
 * input's floats in the heap, four float64 accumulators (independent chains the CPU
 * overlaps), one float32 output of n values; by the OpenBLAS addon's C loop when it is
 * built (the same sums; 6.1e7 values, CaffeNet's weights, in 39 ms against 1,058 ms here, and the
 * calibration sums weights and gradients at every measurement), else in JavaScript. float32 inputs only.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { ShapeError } from '../../errors';
import { heapFloatOffset, kernelInput, wholeHeapFloat32, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

function sumOfSquares(view: Float32Array, start: number, length: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const end = start + length;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    a += view[i] * view[i];
    b += view[i + 1] * view[i + 1];
    c += view[i + 2] * view[i + 2];
    d += view[i + 3] * view[i + 3];
  }
  for (; i < end; i++) a += view[i] * view[i];
  return a + b + c + d;
}

export function createSumsOfSquaresKernel(native: NativeBlas | undefined): WasmKernelFunc {
  const sum = native === undefined ? sumOfSquares : (view: Float32Array, start: number, length: number) => native.sumOfSquares(view, length, start);
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const count = attrs.count as number;
    const xs = Array.from({ length: count }, (_, i) => kernelInput('DdinitSumsOfSquares', inputs, `x${i}`));
    const other = xs.find((x) => x.dtype !== 'float32');
    if (other !== undefined) {
      throw new ShapeError('sums of squares are taken of float32 tensors', {
        where: 'wasm kernel DdinitSumsOfSquares',
        expected: 'float32',
        actual: other.dtype,
      });
    }
    const out = backend.makeOutput([count], 'float32');
    const view = wholeHeapFloat32(backend); // after the allocation: it can grow the heap
    const target = heapFloatOffset(backend, out);
    xs.forEach((x, i) => {
      view[target + i] = sum(view, heapFloatOffset(backend, x), tf.util.sizeFromShape(x.shape));
    });
    return out;
  };
}
