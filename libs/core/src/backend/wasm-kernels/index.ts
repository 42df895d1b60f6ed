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
 * | SplitV                               | whole-input copies  | block copies inside the heap             |
 * | GatherV2 (4-byte, batchDims 0)       | per-index JS assert | heap copies (patch cutting)              |
 * | Sum over leading axes                | transposes first    | column sums (bias gradients), C with the addon |
 * | Identity                             | copies the buffer   | shares it (one more reference)           |
 * | DdinitSumsOfSquares (../sums-of-squares) | —               | one pass per tensor, one output          |
 * | DdinitChannelMoments (../channel-moments) | —              | float64 per-channel μ, σ read in place (C with the addon) |
 *
 * With the optional OpenBLAS addon (`@ddinit/native-blas`, see native-kernels.ts)
 * Conv2D, FusedConv2D, Conv2DBackpropFilter/Input, BatchMatMul and _FusedMatMul
 * run natively on all cores instead, and MaxPoolGrad, LRN, LRNGrad and Sum in C; grouped
 * convolutions (../grouped-conv2d.ts) get kernels of their own, with bias and ReLU fused, and
 * DdinitReluGrad for their ReLU's gradient; DdinitCentredScatter (../centred-scatter.ts) gives
 * the covariance its block product by ssyrk, DdinitChannelAffine (../channel-affine.ts) the
 * normalization its one pass, DdinitGatherPatches (../gather-patches.ts) the sampled patch rows
 * cut in place.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { ConfigError } from '../../errors';
import { createBatchMatMulKernel } from './batch-mat-mul';
import { conv2dBackpropFilter } from './conv2d-backprop-filter';
import { conv2dBackpropInput } from './conv2d-backprop-input';
import { depthwiseConv2dBackpropFilter } from './depthwise-conv2d-backprop-filter';
import { depthwiseConv2dBackpropInput } from './depthwise-conv2d-backprop-input';
import { createGatherV2Kernel } from './gather-v2';
import { createIdentityKernel } from './identity';
import { maxPoolGrad } from './max-pool-grad';
import {
  createNativeConv2D,
  createNativeConv2DBackpropFilter,
  createNativeConv2DBackpropInput,
  createNativeGroupedConv2D,
  createNativeGroupedConv2DBackpropFilter,
  createNativeGroupedConv2DBackpropInput,
  createNativeLrn,
  createNativeLrnGrad,
  createNativeMatMul,
  createNativeMaxPoolGrad,
  createNativeReluGrad,
} from './native-kernels';
import { GROUPED_CONV2D, GROUPED_CONV2D_BACKPROP_FILTER, GROUPED_CONV2D_BACKPROP_INPUT, RELU_GRAD, useReluGradKernel } from '../grouped-conv2d';
import { CENTRED_SCATTER } from '../centred-scatter';
import { CHANNEL_AFFINE } from '../channel-affine';
import { GATHER_PATCHES } from '../gather-patches';
import { CHANNEL_MOMENTS } from '../channel-moments';
import { SUMS_OF_SQUARES } from '../sums-of-squares';
import { createNativeCentredScatter } from './centred-scatter';
import { createNativeChannelAffine } from './channel-affine';
import { createNativeGatherPatches } from './gather-patches';
import { createChannelMomentsKernel } from './channel-moments';
import { createSplitVKernel } from './split-v';
import { createSumKernel } from './sum';
import { createSumsOfSquaresKernel } from './sums-of-squares';
import { createTileKernel } from './tile';
import { runWasmKernel, wasmKernelConfig, type WasmKernelArgs } from './wasm-backend';

type AnyKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo | tf.TensorInfo[];

interface DdinitKernel {
  kernelName: string;
  /** True when wasm 4.22 has a kernel of this name (a slow one) that ddinit replaces. */
  replaces: boolean;
  /** True for kernels installed only with native BLAS (wasm's own kernel is good otherwise). */
  nativeOnly?: boolean;
  /**
   * Makes the kernel function; `wasmOwn` is the wasm backend's own kernel of that
   * name, if any, and `native` the OpenBLAS addon when it is in use.
   */
  create: (wasmOwn: tf.KernelConfig | undefined, native: NativeBlas | undefined) => AnyKernelFunc;
}

/** wasm's own kernel `config` as a function (its setupFunc run once per backend). */
function asFunc(config: tf.KernelConfig): (args: WasmKernelArgs) => tf.TensorInfo {
  return ({ inputs, backend, attrs }) => runWasmKernel(config, backend, inputs, attrs);
}

const KERNELS: DdinitKernel[] = [
  {
    kernelName: tf.Conv2DBackpropFilter,
    replaces: false,
    create: (_, native) => (native ? createNativeConv2DBackpropFilter(native, conv2dBackpropFilter) : conv2dBackpropFilter),
  },
  {
    kernelName: tf.Conv2DBackpropInput,
    replaces: true,
    create: (_, native) => (native ? createNativeConv2DBackpropInput(native, conv2dBackpropInput) : conv2dBackpropInput),
  },
  {
    kernelName: tf.BatchMatMul,
    replaces: true,
    create: (wasmOwn, native) => {
      const portable = createBatchMatMulKernel(wasmOwn ?? wasmKernelConfig(tf.BatchMatMul));
      return native ? createNativeMatMul(native, portable, false) : portable;
    },
  },
  { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, replaces: false, create: () => depthwiseConv2dBackpropFilter },
  { kernelName: tf.DepthwiseConv2dNativeBackpropInput, replaces: false, create: () => depthwiseConv2dBackpropInput },
  {
    kernelName: tf.MaxPoolGrad,
    replaces: true,
    create: (_, native) => (native ? createNativeMaxPoolGrad(native, maxPoolGrad) : maxPoolGrad),
  },
  { kernelName: tf.Tile, replaces: true, create: (wasmOwn) => createTileKernel(wasmOwn ?? wasmKernelConfig(tf.Tile)) },
  { kernelName: tf.SplitV, replaces: true, create: (wasmOwn) => createSplitVKernel(wasmOwn ?? wasmKernelConfig(tf.SplitV)) },
  { kernelName: tf.GatherV2, replaces: true, create: (wasmOwn) => createGatherV2Kernel(wasmOwn ?? wasmKernelConfig(tf.GatherV2)) },
  { kernelName: tf.Sum, replaces: true, create: (wasmOwn, native) => createSumKernel(wasmOwn ?? wasmKernelConfig(tf.Sum), native) },
  { kernelName: SUMS_OF_SQUARES, replaces: false, create: (_, native) => createSumsOfSquaresKernel(native) },
  { kernelName: CHANNEL_MOMENTS, replaces: false, create: (_, native) => createChannelMomentsKernel(native) },
  { kernelName: tf.Identity, replaces: true, create: (wasmOwn) => createIdentityKernel(wasmOwn ?? wasmKernelConfig(tf.Identity)) },
  {
    kernelName: tf.Conv2D,
    replaces: true,
    nativeOnly: true,
    create: (wasmOwn, native) => createNativeConv2D(native as NativeBlas, wasmOwn ?? wasmKernelConfig(tf.Conv2D), false),
  },
  {
    kernelName: tf.FusedConv2D,
    replaces: true,
    nativeOnly: true,
    create: (wasmOwn, native) => createNativeConv2D(native as NativeBlas, wasmOwn ?? wasmKernelConfig(tf.FusedConv2D), true),
  },
  {
    kernelName: tf._FusedMatMul,
    replaces: true,
    nativeOnly: true,
    create: (wasmOwn, native) => createNativeMatMul(native as NativeBlas, asFunc(wasmOwn ?? wasmKernelConfig(tf._FusedMatMul)), true),
  },
  {
    kernelName: tf.LRN,
    replaces: true,
    nativeOnly: true,
    create: (wasmOwn, native) => createNativeLrn(native as NativeBlas, wasmOwn ?? wasmKernelConfig(tf.LRN)),
  },
  {
    kernelName: tf.LRNGrad,
    replaces: true,
    nativeOnly: true,
    create: (wasmOwn, native) => createNativeLrnGrad(native as NativeBlas, wasmOwn ?? wasmKernelConfig(tf.LRNGrad)),
  },
  { kernelName: GROUPED_CONV2D, replaces: false, nativeOnly: true, create: (_, native) => createNativeGroupedConv2D(native as NativeBlas) },
  {
    kernelName: GROUPED_CONV2D_BACKPROP_INPUT,
    replaces: false,
    nativeOnly: true,
    create: (_, native) => createNativeGroupedConv2DBackpropInput(native as NativeBlas),
  },
  {
    kernelName: GROUPED_CONV2D_BACKPROP_FILTER,
    replaces: false,
    nativeOnly: true,
    create: (_, native) => createNativeGroupedConv2DBackpropFilter(native as NativeBlas),
  },
  { kernelName: RELU_GRAD, replaces: false, nativeOnly: true, create: (_, native) => createNativeReluGrad(native as NativeBlas) },
  { kernelName: CENTRED_SCATTER, replaces: false, nativeOnly: true, create: (_, native) => createNativeCentredScatter(native as NativeBlas) },
  { kernelName: CHANNEL_AFFINE, replaces: false, nativeOnly: true, create: (_, native) => createNativeChannelAffine(native as NativeBlas) },
  { kernelName: GATHER_PATCHES, replaces: false, nativeOnly: true, create: (_, native) => createNativeGatherPatches(native as NativeBlas) },
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
  /** The native BLAS addon the kernel calls, if any. */
  native?: NativeBlas;
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
 * when the backend initializes. (SplitV returns several outputs and has no
 * setupFunc: its function goes back as it is.)
 */
function restoreWasmOwn(kernelName: string, wasmOwn: tf.KernelConfig | undefined): void {
  tf.unregisterKernel(kernelName, 'wasm');
  if (wasmOwn === undefined) return;
  const kernelFunc = (wasmOwn.setupFunc === undefined
    ? (args: WasmKernelArgs) => wasmOwn.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0])
    : ({ inputs, backend, attrs }: WasmKernelArgs) => runWasmKernel(wasmOwn, backend, inputs, attrs)) as unknown as TaggedKernelFunc;
  register(kernelName, kernelFunc, { ddinit: false, wasmOwn });
}

export interface RegisterWasmKernelsOptions {
  /** Which kernels (default `all`). */
  kernels?: WasmKernelSet;
  /**
   * The OpenBLAS addon (`loadNativeBlas()` of `@ddinit/native-blas`): with it,
   * convolutions and matrix products run natively on all cores; without it, on
   * ddinit's portable kernels. Ignored for the `missing` set.
   */
  native?: NativeBlas;
}

/**
 * Registers ddinit's wasm kernels and returns the names of those now installed.
 * Idempotent: kernels installed by an earlier call with the same options stay as
 * they are. A wasm kernel of the same name is unregistered first and kept:
 * BatchMatMul delegates untransposed products to it, native kernels hand it the
 * cases they do not cover, and `kernels: 'missing'` puts the wasm backend's own
 * Conv2DBackpropInput, BatchMatMul, MaxPoolGrad, Tile, SplitV, GatherV2, Sum, Identity (and, after a
 * native registration, Conv2D, FusedConv2D, _FusedMatMul, LRN and LRNGrad) back
 * and removes the grouped convolution's kernels.
 *
 * @throws ConfigError for an unknown kernel set, listing the valid ones.
 * @throws BackendError when `@tensorflow/tfjs-backend-wasm` has not been imported
 *   (its BatchMatMul kernel is not registered).
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmTrainingKernels(); // ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', …]
 * const native = loadNativeBlas();
 * if (native.ok) registerWasmTrainingKernels({ native: native.blas }); // … plus 'Conv2D', 'FusedConv2D', '_FusedMatMul'
 */
export function registerWasmTrainingKernels(options: RegisterWasmKernelsOptions = {}): string[] {
  const set = options.kernels ?? 'all';
  if (!WASM_KERNEL_SETS.includes(set)) {
    throw new ConfigError('unknown wasm kernel set', {
      where: 'registerWasmTrainingKernels',
      expected: `one of ${WASM_KERNEL_SETS.join(', ')}`,
      actual: set,
    });
  }
  wasmKernelConfig(tf.BatchMatMul);
  const native = set === 'all' ? options.native : undefined;
  const names: string[] = [];
  for (const kernel of KERNELS) {
    const { kernelName } = kernel;
    const current = tf.getKernel(kernelName, 'wasm');
    const tag = tagOf(current);
    const wasmOwn = tag === undefined ? current : tag.wasmOwn;
    if ((set === 'missing' && kernel.replaces) || (kernel.nativeOnly && native === undefined)) {
      if (tag?.ddinit === true) restoreWasmOwn(kernelName, wasmOwn);
      continue;
    }
    names.push(kernelName);
    if (tag?.ddinit === true && tag.native === native) continue;
    if (current !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    register(kernelName, kernel.create(wasmOwn, native) as unknown as TaggedKernelFunc, { ddinit: true, wasmOwn, native });
  }
  if (names.includes(RELU_GRAD)) useReluGradKernel();
  return names;
}
