/**
 * The CENTRED_SCATTER kernel on wasm (see ../centred-scatter.ts), on the OpenBLAS addon only:
 * the rows read in place in the heap, the centred rows in a scratch tensor of the heap
 * (released before returning), m and S written as the two outputs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { ShapeError } from '../../errors';
import { heapFloatOffset, kernelInput, releaseTensor, wholeHeapFloat32, type WasmKernelArgs } from './wasm-backend';

const NAME = 'DdinitCentredScatter';

export function createNativeCentredScatter(native: NativeBlas) {
  return ({ inputs, backend }: WasmKernelArgs): tf.TensorInfo[] => {
    const x = kernelInput(NAME, inputs, 'x');
    const shift = kernelInput(NAME, inputs, 'shift');
    const [n, f] = x.shape;
    if (x.dtype !== 'float32' || shift.dtype !== 'float32' || x.shape.length !== 2 || n < 1 || shift.shape.length !== 1 || shift.shape[0] !== f) {
      throw new ShapeError('a centred scatter takes float32 rows [n ≥ 1, F] and a shift [F]', {
        where: `wasm kernel ${NAME}`,
        expected: '[n, F] and [F], float32',
        actual: `${x.dtype} [${x.shape.join(', ')}] and ${shift.dtype} [${shift.shape.join(', ')}]`,
      });
    }
    const mean = backend.makeOutput([f], 'float32');
    const scatter = backend.makeOutput([f, f], 'float32');
    const centred = backend.makeOutput([n, f], 'float32');
    const view = wholeHeapFloat32(backend); // after the allocations: they can grow the heap
    const at = (info: tf.TensorInfo) => heapFloatOffset(backend, info);
    native.centredScatter(view, n, f, at(x), at(shift), at(centred), at(mean), at(scatter));
    releaseTensor(backend, centred);
    return [mean, scatter];
  };
}
