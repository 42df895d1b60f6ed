import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../testing';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNEL_NAMES } from './index';

const NAMES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'BatchMatMul',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
];

describe('registerWasmTrainingKernels', () => {
  let selectedKernels: string[] = [];
  beforeAll(async () => {
    selectedKernels = (await useBackend('wasm')).registeredKernels;
  });

  it('is what selectBackend reports and installs on wasm', () => {
    expect(selectedKernels).toEqual(NAMES);
    expect([...WASM_TRAINING_KERNEL_NAMES]).toEqual(NAMES);
    for (const name of NAMES) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('is idempotent: a second call keeps the installed kernels and lists them again', () => {
    const before = NAMES.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    expect(registerWasmTrainingKernels()).toEqual(NAMES);
    const after = NAMES.map((name) => tf.getKernel(name, 'wasm').kernelFunc);
    after.forEach((f, i) => expect(f).toBe(before[i]));
  });

  it('leaves the cpu backend alone', () => {
    for (const name of NAMES) {
      const cpu = tf.getKernel(name, 'cpu');
      expect(cpu).toBeDefined();
      expect(cpu.kernelFunc).not.toBe(tf.getKernel(name, 'wasm').kernelFunc);
    }
  });
});
