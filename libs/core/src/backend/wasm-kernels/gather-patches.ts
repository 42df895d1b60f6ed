/**
 * The GATHER_PATCHES kernel on wasm (see ../gather-patches.ts), on the OpenBLAS addon only: the
 * rows cut in C from the input in the heap, the positions read in place.
 */
import * as tf from '@tensorflow/tfjs';
import { geometryArray, type NativeBlas } from '@ddinit/native-blas';
import { ShapeError } from '../../errors';
import type { PatchWindow } from '../gather-patches';
import { heapFloatOffset, kernelInput, wholeHeapFloat32, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

const NAME = 'DdinitGatherPatches';

export function createNativeGatherPatches(native: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend, attrs = {} }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput(NAME, inputs, 'x');
    const positions = kernelInput(NAME, inputs, 'positions');
    const w = attrs as unknown as PatchWindow;
    if (x.dtype !== 'float32' || x.shape.length !== 4 || positions.dtype !== 'int32' || positions.shape.length !== 1 || x.shape[3] % w.groups !== 0) {
      throw new ShapeError('patch rows are cut from float32 [n, h, w, cin] at int32 positions [rows], cin a multiple of the groups', {
        where: `wasm kernel ${NAME}`,
        expected: `[n, h, w, k·${w.groups}] float32 and [rows] int32`,
        actual: `${x.dtype} [${x.shape.join(', ')}] and ${positions.dtype} [${positions.shape.join(', ')}]`,
      });
    }
    const [n, h, width, cin] = x.shape;
    const rows = positions.shape[0];
    const f = w.kernelSize[0] * w.kernelSize[1] * (cin / w.groups);
    const out = backend.makeOutput([w.groups, rows, f], 'float32');
    const view = wholeHeapFloat32(backend); // after the allocation: it can grow the heap
    const at = heapFloatOffset(backend, positions);
    const geometry = geometryArray({
      batchSize: n,
      inHeight: h,
      inWidth: width,
      inChannels: cin,
      outHeight: w.outputSize[0],
      outWidth: w.outputSize[1],
      outChannels: cin,
      filterHeight: w.kernelSize[0],
      filterWidth: w.kernelSize[1],
      strideHeight: w.strides[0],
      strideWidth: w.strides[1],
      dilationHeight: w.dilation[0],
      dilationWidth: w.dilation[1],
      padTop: w.padTop,
      padLeft: w.padLeft,
    });
    const indices = new Int32Array(view.buffer, view.byteOffset + 4 * at, rows); // the int32 positions, in place
    native.gatherPatches(view, geometry, w.groups, heapFloatOffset(backend, x), indices, heapFloatOffset(backend, out));
    return out;
  };
}
