/**
 * How ddinit's kernels talk to the tfjs wasm backend (tfjs-backend-wasm 4.22).
 *
 * A kernel receives the `BackendWasm` instance. Tensors live in the wasm heap:
 * `backend.makeOutput(shape, dtype)` allocates one (uninitialized),
 * `backend.typedArrayFromHeap(info)` is a live view of its memory and
 * `backend.disposeData(dataId)` releases one reference. Other wasm kernels are
 * called directly through their registered `kernelFunc` (no engine, no tape);
 * every intermediate they return must be released with {@link releaseTensor}.
 *
 * Trap: an allocation can grow the wasm memory, which detaches every view taken
 * before it. Allocate first, then take views, and take no view across a call that
 * allocates.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendError, ShapeError } from '../../errors';

export type { BackendWasm };

/** The arguments tfjs passes to a kernel function. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs?: tf.NamedAttrMap;
}

export type WasmKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo;

/** The wasm backend's own configuration of `kernelName`, or a BackendError naming what is missing. */
export function wasmKernelConfig(kernelName: string): tf.KernelConfig {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) {
    throw new BackendError('a kernel of the tfjs wasm backend is not registered', {
      where: `wasm kernel ${kernelName}`,
      expected: '@tensorflow/tfjs-backend-wasm 4.22 imported before registering ddinit kernels',
      actual: 'no kernel',
    });
  }
  return config;
}

const setUpBackends = new WeakMap<tf.KernelConfig, WeakSet<object>>();

/**
 * Runs a wasm kernel `config` (possibly one ddinit has replaced in the registry)
 * on `backend`, calling its `setupFunc` once per backend instance first: a
 * kernel removed from the registry before the backend initialized never had
 * its setup run by tfjs.
 */
export function runWasmKernel(config: tf.KernelConfig, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
  if (config.setupFunc !== undefined) {
    let done = setUpBackends.get(config);
    if (done === undefined) {
      done = new WeakSet();
      setUpBackends.set(config, done);
    }
    if (!done.has(backend)) {
      config.setupFunc(backend);
      done.add(backend);
    }
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new BackendError('expected a single output from a wasm kernel', {
      where: `wasm kernel ${config.kernelName}`,
      expected: '1 output',
      actual: `${out.length} outputs`,
    });
  }
  return out;
}

/** Releases one reference to an intermediate tensor made by a kernel call. */
export function releaseTensor(backend: BackendWasm, info: tf.TensorInfo): void {
  backend.disposeData(info.dataId);
}

/**
 * The same data seen with another shape (no copy, no new reference). Valid only
 * while `info` is alive; never release the returned view on its own.
 */
export function viewWithShape(info: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** A live Float32Array view of a float32 tensor in the wasm heap (see the growth trap above). */
export function heapFloat32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') {
    throw new ShapeError('ddinit wasm kernels work on float32 tensors', {
      where: 'wasm kernel input',
      expected: 'float32',
      actual: info.dtype,
    });
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Normalizes a `[h, w] | n` attribute to a pair. */
export function pairOf(value: number | [number, number] | number[] | undefined, fallback = 1): [number, number] {
  if (value === undefined) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  return [value[0], value[1]];
}

/** Throws unless `dataFormat` is channels-last (the only layout the wasm convolutions support). */
export function assertChannelsLast(kernelName: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new ShapeError('the wasm backend supports only channels-last convolutions', {
      where: `wasm kernel ${kernelName}`,
      expected: 'NHWC',
      actual: dataFormat,
    });
  }
}

/** The input `name` of a kernel call, or a ShapeError naming the kernel and the inputs that arrived. */
export function kernelInput(kernelName: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const info = inputs[name];
  if (info === undefined) {
    throw new ShapeError('a kernel input is missing', {
      where: `wasm kernel ${kernelName}`,
      expected: `input '${name}'`,
      actual: `inputs ${Object.keys(inputs).join(', ') || '(none)'}`,
    });
  }
  return info;
}

/**
 * A Float32Array over the whole wasm heap, for kernels that address tensors by
 * offset ({@link heapFloatOffset}). Take it after the last allocation of the call.
 */
export function wholeHeapFloat32(backend: BackendWasm): Float32Array {
  return new Float32Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer);
}

/** The offset, in floats, of a 4-byte tensor in {@link wholeHeapFloat32}. */
export function heapFloatOffset(backend: BackendWasm, info: tf.TensorInfo): number {
  const bytes = backend.dataIdMap.get(info.dataId)?.memoryOffset;
  if (typeof bytes !== 'number' || bytes % 4 !== 0) {
    throw new BackendError('a tensor is not in the wasm heap at a 4-byte-aligned offset', {
      where: 'wasm kernel',
      expected: 'a 4-byte tensor of the wasm backend',
      actual: `memory offset ${String(bytes)}`,
    });
  }
  return bytes / 4;
}
