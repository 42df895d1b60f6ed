/**
 * Tile for the wasm backend, replacing wasm 4.22's own kernel, which computes
 * every output index separately (~50 ms to broadcast a [1,1,1,16] vector to
 * [32,32,32,16]). Batch normalization's gradient tiles its inverse standard
 * deviation to the activation shape on every layer: a third of a resnet-small
 * training step on wasm.
 *
 *   out[i₀, …, i_{r−1}] = x[i₀ mod s₀, …, i_{r−1} mod s_{r−1}],   out shape [s₀·reps₀, …]
 *
 * Built by block copies: the innermost axis of each row of `x` is copied once,
 * then every axis, from the last to the first, replicates the block it has filled
 * `reps` times with `copyWithin` (doubling the copied length each time).
 *
 * Input `x` (float32, int32 or bool; strings go to wasm's kernel); attr `reps`
 * (one positive count per axis); output `shape[i]·reps[i]`.
 *
 * @throws ShapeError when `reps` does not have one entry per axis of `x`.
 */
import type * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors';
import { kernelInput, runWasmKernel, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

type TypedArray = Float32Array | Int32Array | Uint8Array;

function rowMajorStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/**
 * Writes `tile(src, reps)` (see the module comment) into `dst`, for a `src` of
 * `shape`; `dst` holds `Π shape[i]·reps[i]` elements.
 */
export function tileInto<T extends TypedArray>(src: T, shape: number[], reps: number[], dst: T): T {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return dst;
  }
  if (shape.some((s) => s === 0) || reps.some((r) => r === 0)) return dst;
  const outShape = shape.map((s, i) => s * reps[i]);
  const srcStrides = rowMajorStrides(shape);
  const dstStrides = rowMajorStrides(outShape);
  const replicate = (offset: number, block: number, times: number) => {
    const total = block * times;
    for (let filled = block; filled < total;) {
      const n = Math.min(filled, total - filled);
      dst.copyWithin(offset + filled, offset, offset + n);
      filled += n;
    }
  };
  const fill = (d: number, s: number, o: number) => {
    if (d === rank - 1) {
      dst.set(src.subarray(s, s + shape[d]), o);
    } else {
      for (let i = 0; i < shape[d]; i++) fill(d + 1, s + i * srcStrides[d], o + i * dstStrides[d]);
    }
    replicate(o, shape[d] * dstStrides[d], reps[d]);
  };
  fill(0, 0, 0);
  return dst;
}

/** The Tile kernel function; string tensors go to `wasmTile` (the backend's own kernel). */
export function createTileKernel(wasmTile: tf.KernelConfig): WasmKernelFunc {
  return ({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo => {
    const x = kernelInput('Tile', inputs, 'x');
    if (x.dtype === 'string' || x.dtype === 'complex64') return runWasmKernel(wasmTile, backend, inputs, attrs);
    const reps = (attrs?.reps ?? []) as number[];
    if (reps.length !== x.shape.length) {
      throw new ShapeError('tile needs one repetition count per axis', {
        where: 'wasm kernel Tile',
        expected: `${x.shape.length} counts for shape [${x.shape}]`,
        actual: `[${reps}]`,
      });
    }
    const out = backend.makeOutput(
      x.shape.map((s, i) => s * reps[i]),
      x.dtype,
    );
    tileInto(backend.typedArrayFromHeap(x) as TypedArray, x.shape, reps, backend.typedArrayFromHeap(out) as TypedArray);
    return out;
  };
}
