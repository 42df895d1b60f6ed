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
 * | Tile                                 | per-element (slow)  | block copies (batch-norm gradients)      |
 * | MaxPoolGrad                          | slow                | one JS pass over the windows             |
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../errors';
import { createBatchMatMulKernel } from './batch-mat-mul';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dBackpropFilter } from './depthwise-conv2d-backprop-filter';
import { depthwiseConv2dBackpropInput } from './depthwise-conv2d-backprop-input';
import { maxPoolGrad } from './max-pool-grad';
import { createTileKernel } from './tile';
import { runWasmKernel, wasmKernelConfig, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

interface DdinitKernel {
  kernelName: string;
  /** True when wasm 4.22 has a kernel of this name (a slow one) that ddinit replaces. */
  replaces: boolean;
  /** Makes the kernel function; `wasmOwn` is the wasm backend's own kernel of that name, if any. */
  create: (wasmOwn: tf.KernelConfig | undefined) => WasmKernelFunc;
}

const KERNELS: DdinitKernel[] = [
  { kernelName: tf.Conv2DBackpropFilter, replaces: false, create: () => conv2dBackpropFilter },
  { kernelName: tf.Conv2DBackpropInput, replaces: true, create: () => conv2dBackpropInput },
  {
    kernelName: tf.BatchMatMul,
    replaces: true,
    create: (wasmOwn) => createBatchMatMulKernel(wasmOwn ?? wasmKernelConfig(tf.BatchMatMul)),
  },
  { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, replaces: false, create: () => depthwiseConv2dBackpropFilter },
  { kernelName: tf.DepthwiseConv2dNativeBackpropInput, replaces: false, create: () => depthwiseConv2dBackpropInput },
  { kernelName: tf.MaxPoolGrad, replaces: true, create: () => maxPoolGrad },
  { kernelName: tf.Tile, replaces: true, create: (wasmOwn) => createTileKernel(wasmOwn ?? wasmKernelConfig(tf.Tile)) },
];

/**
 * Which kernels to install: `all` (the default), or only those wasm 4.22 lacks
 * (`missing`: wasm's own slow Conv2DBackpropInput, BatchMatMul, MaxPoolGrad and
 * Tile stay; this is the baseline the benchmark compares against).
 */
export type WasmKernelSet = 'all' | 'missing';

export const WASM_KERNEL_SETS: readonly WasmKernelSet[] = ['all', 'missing'];

/** The names of all kernels ddinit can install on the wasm backend. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Marks the kernel functions ddinit registers, with the wasm backend's own kernel
 * they took the place of. A global symbol, so that a second copy of this module
 * (a test runner's fresh module graph over the same tfjs registry) recognizes them.
 */
const TAG = Symbol.for('ddinit.wasmTrainingKernel');

interface KernelTag {
  /** True for ddinit's kernel, false for the wrapper that put wasm's own kernel back. */
  ddinit: boolean;
  wasmOwn: tf.KernelConfig | undefined;
}

type TaggedKernelFunc = tf.KernelFunc & { [TAG]?: KernelTag };

function tagOf(config: tf.KernelConfig | undefined): KernelTag | undefined {
  return (config?.kernelFunc as TaggedKernelFunc | undefined)?.[TAG];
}

function register(kernelName: string, kernelFunc: TaggedKernelFunc, tag: KernelTag): void {
  kernelFunc[TAG] = tag;
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

/**
 * Puts the wasm backend's own kernel back in place of ddinit's, through
 * runWasmKernel: tfjs runs a kernel's setupFunc only for kernels registered
 * when the backend initializes.
 */
function restoreWasmOwn(kernelName: string, wasmOwn: tf.KernelConfig | undefined): void {
  tf.unregisterKernel(kernelName, 'wasm');
  if (wasmOwn === undefined) return;
  const kernelFunc = (({ inputs, backend, attrs }: WasmKernelArgs) =>
    runWasmKernel(wasmOwn, backend, inputs, attrs)) as unknown as TaggedKernelFunc;
  register(kernelName, kernelFunc, { ddinit: false, wasmOwn });
}

/**
 * Registers ddinit's wasm kernels and returns the names of those now installed.
 * Idempotent: kernels installed by an earlier call stay as they are. A wasm
 * kernel of the same name is unregistered first and kept: BatchMatMul delegates
 * untransposed products to it, and `kernels: 'missing'` puts the wasm backend's
 * own Conv2DBackpropInput, BatchMatMul, MaxPoolGrad and Tile back.
 *
 * @throws ConfigError for an unknown kernel set, listing the valid ones.
 * @throws BackendError when `@tensorflow/tfjs-backend-wasm` has not been imported
 *   (its BatchMatMul kernel is not registered).
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmTrainingKernels(); // ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', …]
 */
export function registerWasmTrainingKernels(options: { kernels?: WasmKernelSet } = {}): string[] {
  const set = options.kernels ?? 'all';
  if (!WASM_KERNEL_SETS.includes(set)) {
    throw new ConfigError('unknown wasm kernel set', {
      where: 'registerWasmTrainingKernels',
      expected: `one of ${WASM_KERNEL_SETS.join(', ')}`,
      actual: set,
    });
  }
  wasmKernelConfig(tf.BatchMatMul);
  const names: string[] = [];
  for (const kernel of KERNELS) {
    const { kernelName } = kernel;
    const current = tf.getKernel(kernelName, 'wasm');
    const tag = tagOf(current);
    const wasmOwn = tag === undefined ? current : tag.wasmOwn;
    if (set === 'missing' && kernel.replaces) {
      if (tag?.ddinit === true) restoreWasmOwn(kernelName, wasmOwn);
      continue;
    }
    names.push(kernelName);
    if (tag?.ddinit === true) continue;
    if (current !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    register(kernelName, kernel.create(wasmOwn) as unknown as TaggedKernelFunc, { ddinit: true, wasmOwn });
  }
  return names;
}
