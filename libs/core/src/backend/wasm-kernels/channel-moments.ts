/**
 * The CHANNEL_MOMENTS kernel on wasm (see ../channel-moments.ts): the tensor's floats read in
 * place in the heap, by the OpenBLAS addon's C loop when it is built, else by the same
 * arithmetic in JavaScript; output float32 [4, C], each float64 as a pair hi + lo.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { ShapeError } from '../../errors';
import { momentsOfValues } from '../channel-moments';
import { heapFloatOffset, kernelInput, wholeHeapFloat32, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

/** Writes v as hi = fround(v), lo = fround(v − hi) at view[hi], view[lo]. */
function writePair(view: Float32Array, hi: number, lo: number, v: number): void {
  view[hi] = v;
  view[lo] = v - view[hi];
}

export function createChannelMomentsKernel(native: NativeBlas | undefined): WasmKernelFunc {
  return ({ inputs, backend }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput('DdinitChannelMoments', inputs, 'x');
    const channels = x.shape[x.shape.length - 1];
    const size = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== 'float32' || x.shape.length < 1 || size === 0) {
      throw new ShapeError('channel moments are taken of non-empty float32 tensors with a channel axis', {
        where: 'wasm kernel DdinitChannelMoments',
        expected: 'float32 [..., C]',
        actual: `${x.dtype} [${x.shape.join(', ')}]`,
      });
    }
    const out = backend.makeOutput([4, channels], 'float32');
    const view = wholeHeapFloat32(backend); // after the allocation: it can grow the heap
    const [start, target] = [heapFloatOffset(backend, x), heapFloatOffset(backend, out)];
    if (native !== undefined) {
      native.channelMoments(view, size / channels, channels, start, target);
      return out;
    }
    const { mean, std } = momentsOfValues(view, channels, start, size);
    for (let i = 0; i < channels; i++) {
      writePair(view, target + i, target + channels + i, mean[i]);
      writePair(view, target + 2 * channels + i, target + 3 * channels + i, std[i]);
    }
    return out;
  };
}
