import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../../testing';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNEL_NAMES } from './index';

const NAMES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'Tile',
  'SplitV',
  'GatherV2',
  'Sum',
  'DdinitSumsOfSquares',
  'DdinitChannelMoments',
  'Identity',
];
/** Installed only with the native BLAS addon (native-kernels.spec.ts). */
const NATIVE_ONLY = [
  'Conv2D',
  'FusedConv2D',
  '_FusedMatMul',
  'LRN',
  'LRNGrad',
  'DdinitGroupedConv2D',
  'DdinitGroupedConv2DBackpropInput',
  'DdinitGroupedConv2DBackpropFilter',
  'DdinitReluGrad',
  'DdinitCentredScatter',
  'DdinitChannelAffine',
  'DdinitGatherPatches',
];

describe('registerWasmTrainingKernels', () => {
  let selectedKernels: string[] = [];
  beforeAll(async () => {
    selectedKernels = (await useBackend('wasm', { nativeBlas: false })).registeredKernels;
  });

  it('is what selectBackend reports and installs on wasm', () => {
    expect(selectedKernels).toEqual(NAMES);
    expect([...WASM_TRAINING_KERNEL_NAMES]).toEqual([...NAMES, ...NATIVE_ONLY]);
    for (const name of NAMES) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('is idempotent: a second call keeps the installed kernels and lists them again', () => {
    const before = NAMES.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    expect(registerWasmTrainingKernels()).toEqual(NAMES);
    const after = NAMES.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    after.forEach((f, i) => expect(f).toBe(before[i]));
  });

  it('recognizes the kernels a second copy of this module registered', async () => {
    const before = NAMES.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    vi.resetModules();
    const copy = await import('./index');
    expect(copy.registerWasmTrainingKernels()).toEqual(NAMES);
    NAMES.forEach((name, i) => expect(tf.getKernel(name, 'wasm').kernelFunc).toBe(before[i]));
  });

  it('leaves the cpu backend alone', () => {
    for (const name of ['DdinitSumsOfSquares', 'DdinitChannelMoments']) expect(tf.getKernel(name, 'cpu')).toBeUndefined();
    for (const name of NAMES.filter((n) => !n.startsWith('Ddinit'))) {
      const cpu = tf.getKernel(name, 'cpu');
      expect(cpu).toBeDefined();
      expect(cpu.kernelFunc).not.toBe(tf.getKernel(name, 'wasm').kernelFunc);
    }
  });
});

describe("registerWasmTrainingKernels({ kernels: 'missing' })", () => {
  beforeAll(async () => {
    await useBackend('wasm', { nativeBlas: false });
  });

  it("puts wasm's own BatchMatMul, Conv2DBackpropInput, MaxPoolGrad, Tile, SplitV, GatherV2, Sum and Identity back, keeps them working, and switches back", async () => {
    const ours = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
    expect(registerWasmTrainingKernels({ kernels: 'missing' })).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'DdinitSumsOfSquares',
      'DdinitChannelMoments',
    ]);
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).not.toBe(ours);
    const product = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true).dataSync()));
    expect(product).toEqual([17, 23, 39, 53]);
    expect(registerWasmTrainingKernels()).toEqual(NAMES);
    expect(tf.getKernel('BatchMatMul', 'wasm').kernelFunc).not.toBe(ours);
    expect(tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), false, true).dataSync()))).toEqual([
      17, 23, 39, 53,
    ]);
  });

  it('rejects an unknown kernel set, listing the valid ones', () => {
    expect(() => registerWasmTrainingKernels({ kernels: 'fast' as never })).toThrow(/unknown wasm kernel set \(expected one of all, missing, got fast\)/);
  });
});
