/**
 * Kernels the tfjs wasm backend (4.22) lacks or runs slowly, registered so that
 * every reference model trains on wasm. See docs/wasm-kernels.md for the survey
 * of what a training step needs and the measured effect of each kernel.
 *
 * | kernel                               | wasm 4.22           | ddinit                                   |
 * |--------------------------------------|---------------------|------------------------------------------|
 * | Conv2DBackpropFilter                 | missing             | im2colᵀ · dy on XNNPACK                  |
 * | Conv2DBackpropInput                  | naive loop (slow)   | flipped conv (stride 1) / dy·Wᵀ + col2im |
 * | BatchMatMul (transposeA/B)           | naive loop (slow)   | explicit cheap transpose + XNNPACK       |
 * | DepthwiseConv2dNativeBackpropFilter  | missing             | JS loops                                 |
 * | DepthwiseConv2dNativeBackpropInput   | missing             | JS loops                                 |
 */
import * as tf from '@tensorflow/tfjs';
import { createBatchMatMulKernel } from './batch-mat-mul';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dBackpropFilter } from './depthwise-conv2d-backprop-filter';
import { depthwiseConv2dBackpropInput } from './depthwise-conv2d-backprop-input';
import { wasmKernelConfig, type WasmKernelFunc } from './wasm-backend';

interface DdinitKernel {
  kernelName: string;
  /** Makes the kernel function; `previous` is the wasm backend's own kernel of that name, if any. */
  create: (previous: tf.KernelConfig | undefined) => WasmKernelFunc;
}

const KERNELS: DdinitKernel[] = [
  { kernelName: tf.Conv2DBackpropFilter, create: () => conv2dBackpropFilter },
  { kernelName: tf.Conv2DBackpropInput, create: () => conv2dBackpropInput },
  {
    kernelName: tf.BatchMatMul,
    create: (previous) => createBatchMatMulKernel(previous ?? wasmKernelConfig(tf.BatchMatMul)),
  },
  { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, create: () => depthwiseConv2dBackpropFilter },
  { kernelName: tf.DepthwiseConv2dNativeBackpropInput, create: () => depthwiseConv2dBackpropInput },
];

/** The kernel functions ddinit has registered, to recognize them on a second call. */
const registeredFuncs = new Set<tf.KernelFunc>();

/** The names of the kernels {@link registerWasmTrainingKernels} installs on the wasm backend. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Registers ddinit's wasm kernels and returns their names. Idempotent: kernels
 * already installed by an earlier call are left as they are (and still listed).
 * A wasm kernel of the same name is unregistered first and, where ddinit's
 * kernel delegates to it (BatchMatMul without transposes), kept as the delegate.
 *
 * @throws BackendError when `@tensorflow/tfjs-backend-wasm` has not been imported
 *   (its BatchMatMul kernel is not registered).
 */
export function registerWasmTrainingKernels(): string[] {
  wasmKernelConfig(tf.BatchMatMul);
  for (const kernel of KERNELS) {
    const current = tf.getKernel(kernel.kernelName, 'wasm');
    if (current !== undefined && registeredFuncs.has(current.kernelFunc)) continue;
    if (current !== undefined) tf.unregisterKernel(kernel.kernelName, 'wasm');
    const kernelFunc = kernel.create(current) as unknown as tf.KernelFunc;
    tf.registerKernel({ kernelName: kernel.kernelName, backendName: 'wasm', kernelFunc });
    registeredFuncs.add(kernelFunc);
  }
  return [...WASM_TRAINING_KERNEL_NAMES];
}
