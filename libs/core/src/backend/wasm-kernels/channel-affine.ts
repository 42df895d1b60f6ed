/**
 * The CHANNEL_AFFINE kernel on wasm (see ../channel-affine.ts), on the OpenBLAS addon only: one
 * C pass from the input's floats in the heap to the output's.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { ShapeError } from '../../errors';
import { heapFloatOffset, kernelInput, wholeHeapFloat32, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

const NAME = 'DdinitChannelAffine';

export function createNativeChannelAffine(native: NativeBlas): WasmKernelFunc {
  return ({ inputs, backend }: WasmKernelArgs): tf.TensorInfo => {
    const [x, scale, shift] = ['x', 'scale', 'shift'].map((name) => kernelInput(NAME, inputs, name));
    const channels = x.shape[x.shape.length - 1];
    const vector = (t: tf.TensorInfo) => t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === channels;
    if (x.dtype !== 'float32' || x.shape.length < 1 || !vector(scale) || !vector(shift)) {
      throw new ShapeError('a channel affine map takes float32 x [..., C] with scale and shift [C]', {
        where: `wasm kernel ${NAME}`,
        expected: `[..., ${channels}] with [${channels}] and [${channels}]`,
        actual: [x, scale, shift].map((t) => `${t.dtype} [${t.shape.join(', ')}]`).join(', '),
      });
    }
    const y = backend.makeOutput([...x.shape], 'float32');
    const view = wholeHeapFloat32(backend); // after the allocation: it can grow the heap
    const at = (info: tf.TensorInfo) => heapFloatOffset(backend, info);
    native.channelAffine(view, tf.util.sizeFromShape(x.shape) / Math.max(channels, 1), channels, at(x), at(scale), at(shift), at(y));
    return y;
  };
}
