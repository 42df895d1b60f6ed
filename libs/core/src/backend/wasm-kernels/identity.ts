/**
 * Identity for the wasm backend without a copy: the output shares the input's
 * buffer and takes one more reference to it, as the cpu backend's Identity and
 * wasm's own Reshape do.
 *
 * tfjs clones (Identity) every input and output a kernel saves for its gradient
 * while a tape records, and tfjs-backend-wasm 4.22's Identity copies the buffer:
 * 71 copies of activations per step of rotation pretraining on caffenet-small
 * (docs/RESULTS.md, "Training step (issue 13)"). Sharing is safe because no
 * kernel writes into its inputs; a variable's assign rebinds it to a new buffer.
 *
 * Strings go to wasm's own kernel (they live outside the heap).
 */
import type * as tf from '@tensorflow/tfjs';
import { kernelInput, type WasmKernelArgs } from './wasm-backend';

/** The Identity kernel function; `wasmOwn` takes string tensors. */
export function createIdentityKernel(wasmOwn: tf.KernelConfig): (args: WasmKernelArgs) => tf.TensorInfo {
  return (args: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput('Identity', args.inputs, 'x');
    if (x.dtype === 'string') return wasmOwn.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
