import * as tf from '@tensorflow/tfjs';
import type { NativeBlas } from '@ddinit/native-blas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError, useBackend } from '../../testing';
import { expectNoLeaks, nativeBlasForSpecs, normalData, runOnBackend } from '../../testing/backend-comparison';
import { CONV_CASES, convOutputShape, type ConvCase } from '../../testing/conv-cases';
import { groupedConv2d } from '../grouped-conv2d';
import { registerWasmTrainingKernels } from './index';

const native = nativeBlasForSpecs();

type Shape4 = [number, number, number, number];

const EXTRA_CASES: (ConvCase & { dilations?: number })[] = [
  { name: '1×1 stride 1 valid (no im2col)', x: [2, 5, 6, 7], filter: [1, 1, 7, 9], strides: 1, pad: 'valid' },
  { name: '3×3 dilation 2 same', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2 },
];

const FORWARD_CASES: (ConvCase & { dilations?: number })[] = [...CONV_CASES, ...EXTRA_CASES];

function conv(c: ConvCase & { dilations?: number }, x: Float32Array, w: Float32Array): tf.Tensor {
  return tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad as 'same', 'NHWC', c.dilations ?? 1);
}

function backprop(kernel: string, c: ConvCase, a: Float32Array, b: Float32Array): tf.Tensor {
  const inputs: tf.NamedTensorMap =
    kernel === tf.Conv2DBackpropFilter
      ? { x: tf.tensor(a, c.x), dy: tf.tensor(b, convOutputShape(c)) }
      : { dy: tf.tensor(a, convOutputShape(c)), filter: tf.tensor(b, c.filter) };
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter, inputShape: c.x };
  return tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The addon with a count of calls per function, to see which kernels reach it. */
function counting(blas: NativeBlas): { blas: NativeBlas; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  // The addon's functions are not enumerable properties: name them.
  const names = [
    'conv2d',
    'conv2dBackpropFilter',
    'conv2dBackpropInput',
    'batchMatMul',
    'maxPoolGrad',
    'lrn',
    'lrnGrad',
    'groupedConv2d',
    'groupedConv2dBackpropFilter',
    'groupedConv2dBackpropInput',
    'columnSums',
    'reluGrad',
    'setThreads',
    'threads',
    'config',
  ] as const;
  const wrapped = Object.fromEntries(
    names.map((name) => [
      name,
      (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return (blas[name] as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as NativeBlas;
  return { blas: wrapped, calls };
}

describe.skipIf(native === undefined)('native BLAS kernels on wasm', () => {
  const blas = native as NativeBlas;
  let calls: Record<string, number> = {};
  let spyBlas: NativeBlas = blas;

  beforeAll(async () => {
    expect((await useBackend('wasm')).nativeBlas?.active).toBe(true);
    const spy = counting(blas);
    calls = spy.calls;
    spyBlas = spy.blas;
    registerWasmTrainingKernels({ native: spy.blas });
  });
  afterAll(() => {
    registerWasmTrainingKernels({ native: blas });
  });

  it('are installed on top of the portable kernels', () => {
    expect(registerWasmTrainingKernels({ native: blas })).toEqual(
      expect.arrayContaining(['Conv2D', 'FusedConv2D', '_FusedMatMul', 'Conv2DBackpropFilter', 'BatchMatMul', 'SplitV']),
    );
    expect(registerWasmTrainingKernels()).not.toContain('Conv2D');
    const spy = counting(blas); // back to a counted copy for the specs below
    calls = spy.calls;
    spyBlas = spy.blas;
    registerWasmTrainingKernels({ native: spy.blas });
  });

  it("give way to wasm's own Conv2D, FusedConv2D and _FusedMatMul without the addon, which still compute correctly", async () => {
    const c = CONV_CASES[2];
    const x = normalData(c.x, 22);
    const w = normalData(c.filter, 23);
    const [expected] = await runOnBackend('cpu', () => conv(c, x, w));
    for (const set of ['missing', 'all'] as const) {
      const names = registerWasmTrainingKernels({ kernels: set });
      expect(names).not.toContain('Conv2D');
      const before = calls.conv2d ?? 0;
      const [actual] = await runOnBackend('wasm', () => conv(c, x, w));
      expect(relativeError(actual, expected), set).toBeLessThanOrEqual(1e-5);
      expect(calls.conv2d ?? 0).toBe(before);
    }
    registerWasmTrainingKernels({ native: spyBlas });
    const [again] = await runOnBackend('wasm', () => conv(c, x, w));
    expect(relativeError(again, expected)).toBeLessThanOrEqual(1e-5);
  });

  it.each(FORWARD_CASES)('Conv2D matches the cpu backend: $name', async (c) => {
    const x = normalData(c.x, 1);
    const w = normalData(c.filter, 2);
    const before = calls.conv2d ?? 0;
    const [expected] = await runOnBackend('cpu', () => conv(c, x, w));
    const [actual] = await runOnBackend('wasm', () => conv(c, x, w));
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    expect(calls.conv2d).toBe(before + 1);
  });

  it.each(['linear', 'relu', 'relu6'] as const)('FusedConv2D with bias and %s matches the cpu backend', async (activation) => {
    const c = CONV_CASES[2];
    const x = normalData(c.x, 3);
    const w = normalData(c.filter, 4);
    const bias = normalData([c.filter[3]], 5);
    const run = () =>
      tf.fused.conv2d({
        x: tf.tensor4d(x, c.x),
        filter: tf.tensor4d(w, c.filter),
        strides: c.strides,
        pad: c.pad as 'same',
        bias: tf.tensor1d(bias),
        activation,
      });
    const before = calls.conv2d ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    expect(calls.conv2d).toBe(before + 1);
    if (activation !== 'linear') expect(Math.min(...actual)).toBe(0);
    if (activation === 'relu6') expect(Math.max(...actual)).toBeLessThanOrEqual(6);
  });

  it('hands FusedConv2D activations it lacks (leakyrelu) to the wasm kernel, with the same result as cpu', async () => {
    const c = CONV_CASES[0];
    const x = normalData(c.x, 6);
    const w = normalData(c.filter, 7);
    const run = () =>
      tf.fused.conv2d({ x: tf.tensor4d(x, c.x), filter: tf.tensor4d(w, c.filter), strides: 1, pad: 'same', activation: 'leakyrelu', leakyreluAlpha: 0.1 });
    const before = calls.conv2d ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    expect(calls.conv2d ?? 0).toBe(before);
  });

  it.each(CONV_CASES)('Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend: $name', async (c) => {
    const x = normalData(c.x, 8);
    const w = normalData(c.filter, 9);
    const dy = normalData(convOutputShape(c), 10);
    for (const [kernel, a, b, fn] of [
      [tf.Conv2DBackpropFilter, x, dy, 'conv2dBackpropFilter'],
      [tf.Conv2DBackpropInput, dy, w, 'conv2dBackpropInput'],
    ] as const) {
      const before = calls[fn] ?? 0;
      const [expected] = await runOnBackend('cpu', () => backprop(kernel, c, a, b));
      const [actual] = await runOnBackend('wasm', () => backprop(kernel, c, a, b));
      expect(relativeError(actual, expected), kernel).toBeLessThanOrEqual(1e-5);
      expect(calls[fn], kernel).toBe(before + 1);
    }
  });

  const MATMUL_CASES: { name: string; a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
    { name: 'plain', a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
    { name: 'transposeA', a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
    { name: 'transposeB', a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
    { name: 'both transposed', a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
    { name: 'batched', a: [3, 5, 7], b: [3, 7, 4], transposeA: false, transposeB: false },
    { name: 'a broadcast over b', a: [1, 5, 7], b: [4, 3, 7], transposeA: false, transposeB: true },
    { name: 'b broadcast over a, rank 4', a: [2, 3, 7, 5], b: [7, 6], transposeA: true, transposeB: false },
  ];

  it.each(MATMUL_CASES)('BatchMatMul matches the cpu backend: $name', async (c) => {
    const a = normalData(c.a, 11);
    const b = normalData(c.b, 12);
    const run = () => tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), c.transposeA, c.transposeB);
    const before = calls.batchMatMul ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    expect(calls.batchMatMul).toBe(before + 1);
  });

  it('hands batches that broadcast both ways to the portable kernel, with the same result as cpu', async () => {
    const a = normalData([2, 1, 5, 7], 13);
    const b = normalData([1, 3, 7, 4], 14);
    const run = () => tf.matMul(tf.tensor(a, [2, 1, 5, 7]), tf.tensor(b, [1, 3, 7, 4]));
    const before = calls.batchMatMul ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    expect(calls.batchMatMul ?? 0).toBe(before);
  });

  it.each(['relu', 'linear', 'elu'] as const)('_FusedMatMul with bias and %s matches the cpu backend', async (activation) => {
    const a = normalData([6, 9], 15);
    const b = normalData([9, 4], 16);
    const bias = normalData([4], 17);
    const run = () => tf.fused.matMul({ a: tf.tensor2d(a, [6, 9]), b: tf.tensor2d(b, [9, 4]), bias: tf.tensor1d(bias), activation });
    const before = calls.batchMatMul ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-5);
    // elu is not in the native code: wasm's own kernel computes it.
    expect(calls.batchMatMul ?? 0).toBe(activation === 'elu' ? before : before + 1);
  });

  it.each([
    ['CaffeNet norm1 (depthRadius 2, bias 1, alpha 2e-5, beta 0.75)', [4, 7, 7, 32], [2, 1, 2e-5, 0.75], 40],
    ["tfjs's defaults (depthRadius 5, bias 1, alpha 1, beta 0.5)", [3, 5, 5, 12], [5, 1, 1, 0.5], 1],
    ['another beta, a window wider than the channels', [2, 4, 4, 3], [4, 2, 0.3, 0.6], 2],
  ] as const)('LRN and its gradient reach the addon and match tfjs on the cpu backend within 1e-4 relative: %s', async (_, shape, params, scale) => {
    const [depthRadius, bias, alpha, beta] = params;
    const x = normalData([...shape], 25).map((v) => v * scale);
    const dy = normalData([...shape], 26);
    const lrn = (t: tf.Tensor) => tf.localResponseNormalization(t as tf.Tensor4D, depthRadius, bias, alpha, beta);
    const run = () => {
      const t = tf.tensor(x, [...shape]);
      return [lrn(t), tf.grad((u: tf.Tensor) => tf.sum(tf.mul(lrn(u), tf.tensor(dy, [...shape]))))(t)];
    };
    const before = [calls.lrn ?? 0, calls.lrnGrad ?? 0];
    const expected = await runOnBackend('cpu', run);
    const actual = await runOnBackend('wasm', run);
    expect(relativeError(actual[0], expected[0])).toBeLessThanOrEqual(1e-4);
    expect(relativeError(actual[1], expected[1])).toBeLessThanOrEqual(1e-4);
    expect([calls.lrn, calls.lrnGrad]).toEqual([before[0] + 2, before[1] + 1]);
    await expectNoLeaks(() => tf.tidy(() => run().forEach((t) => t.dataSync())));
  });

  it.each([
    ['CaffeNet conv2 (5×5 same, 2 groups)', [2, 7, 7, 8], [5, 5, 4, 6], 1, 'same', 2],
    ['3×3 stride 2 valid, 4 groups', [2, 9, 9, 8], [3, 3, 2, 8], 2, 'valid', 4],
  ] as const)(
    'DdinitGroupedConv2D and its gradients reach the addon and equal split, conv2d per group, concat on cpu: %s',
    async (_, xShape, fShape, stride, pad, groups) => {
      const x = normalData([...xShape], 27);
      const w = normalData([...fShape], 28);
      const splitPath = (xt: tf.Tensor4D, wt: tf.Tensor4D) => {
        const xs = tf.split(xt, groups, 3);
        const ws = tf.split(wt, groups, 3);
        return tf.concat(
          xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, pad)),
          3,
        );
      };
      const run = (conv: (xt: tf.Tensor4D, wt: tf.Tensor4D) => tf.Tensor) => () => {
        const xt = tf.tensor4d(x, [...xShape]);
        const wt = tf.tensor4d(w, [...fShape]);
        const weights = (y: tf.Tensor) => tf.range(0, y.size).reshape(y.shape).mul(0.01);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const y = conv(a as tf.Tensor4D, b as tf.Tensor4D);
          return tf.sum(tf.mul(y, weights(y)));
        })([xt, wt]);
        return [conv(xt, wt), dx, dw];
      };
      const before = [calls.groupedConv2d ?? 0, calls.groupedConv2dBackpropInput ?? 0, calls.groupedConv2dBackpropFilter ?? 0];
      const expected = await runOnBackend('cpu', run(splitPath));
      const native = (xt: tf.Tensor4D, wt: tf.Tensor4D) => groupedConv2d(xt, wt, { strides: [stride, stride], pad, dilations: [1, 1], groups }) as tf.Tensor;
      const actual = await runOnBackend('wasm', run(native));
      actual.forEach((a, i) => expect(relativeError(a, expected[i])).toBeLessThanOrEqual(1e-5));
      expect([calls.groupedConv2d, calls.groupedConv2dBackpropInput, calls.groupedConv2dBackpropFilter]).toEqual([before[0] + 2, before[1] + 1, before[2] + 1]);
      await expectNoLeaks(() => tf.tidy(() => run(native)().forEach((t) => t.dataSync())));
    },
  );

  it.each([
    ['relu, 2 groups', 'relu', 2],
    ['relu, 1 group (conv1 of caffenet as one kernel)', 'relu', 1],
    ['linear, 2 groups', 'linear', 2],
  ] as const)(
    'DdinitGroupedConv2D with bias and activation fused, and its gradients (dx, dW, db), equal conv2d + add + activation on cpu: %s',
    async (_, activation, groups) => {
      const [xShape, fShape] = [
        [2, 7, 7, 4],
        [3, 3, 4 / groups, 6],
      ];
      const x = normalData(xShape, 29);
      const w = normalData(fShape, 30);
      const b = normalData([6], 31).map((v) => v * 0.5); // some outputs negative, some positive around zero
      const ops = (xt: tf.Tensor4D, wt: tf.Tensor4D, bt: tf.Tensor1D) => {
        // (tfjs's SplitV gradient fails for one piece: a single group is conv2d itself)
        const xs = groups === 1 ? [xt] : tf.split(xt, groups, 3);
        const ws = groups === 1 ? [wt] : tf.split(wt, groups, 3);
        const y = tf.add(
          tf.concat(
            xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, 1, 'same')),
            3,
          ),
          bt,
        );
        return activation === 'relu' ? tf.relu(y) : y;
      };
      const fused = (xt: tf.Tensor4D, wt: tf.Tensor4D, bt: tf.Tensor1D) =>
        groupedConv2d(xt, wt, { strides: [1, 1], pad: 'same', dilations: [1, 1], groups, activation }, bt) as tf.Tensor;
      const run = (conv: typeof ops) => () => {
        const [xt, wt, bt] = [tf.tensor4d(x, xShape as Shape4), tf.tensor4d(w, fShape as Shape4), tf.tensor1d(b)];
        const weights = (y: tf.Tensor) => tf.range(0, y.size).reshape(y.shape).mul(0.01).sub(0.3);
        const grads = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
          const y = conv(a as tf.Tensor4D, c as tf.Tensor4D, d as tf.Tensor1D);
          return tf.sum(tf.mul(y, weights(y)));
        })([xt, wt, bt]);
        return [conv(xt, wt, bt), ...grads];
      };
      const before = [calls.groupedConv2d ?? 0, calls.reluGrad ?? 0, calls.columnSums ?? 0];
      const expected = await runOnBackend('cpu', run(ops));
      const actual = await runOnBackend('wasm', run(fused));
      actual.forEach((a, i) => expect(relativeError(a, expected[i]), `output ${i}`).toBeLessThanOrEqual(1e-5));
      if (activation === 'relu') expect(Math.min(...actual[0])).toBe(0);
      const reluGrads = activation === 'relu' ? 1 : 0;
      expect([calls.groupedConv2d, calls.reluGrad ?? 0, calls.columnSums]).toEqual([before[0] + 2, before[1] + reluGrads, before[2] + 1]);
      await expectNoLeaks(() => tf.tidy(() => run(fused)().forEach((t) => t.dataSync())));
    },
  );

  it("tfjs's Relu gradient is one DdinitReluGrad with the addon and equals the cpu backend's dy · step(x); without it, tfjs's own", async () => {
    const x = normalData([3, 5, 5, 4], 33);
    const dy = normalData([3, 5, 5, 4], 34);
    const run = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor(dy, [3, 5, 5, 4]))))(tf.tensor(x, [3, 5, 5, 4]));
    const before = calls.reluGrad ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(Array.from(actual)).toEqual(Array.from(expected));
    expect(calls.reluGrad).toBe(before + 1);
    registerWasmTrainingKernels();
    try {
      const [portable] = await runOnBackend('wasm', run);
      expect(Array.from(portable)).toEqual(Array.from(expected));
      expect(calls.reluGrad).toBe(before + 1);
    } finally {
      registerWasmTrainingKernels({ native: spyBlas });
    }
    await expectNoLeaks(() => tf.tidy(() => run().dataSync()));
  });

  it('Sum over leading axes reaches the addon and equals the JavaScript column sums bit for bit', async () => {
    const x = normalData([5, 6, 7, 9], 32).map((v) => v * 1e4);
    const run = () => tf.sum(tf.tensor(x, [5, 6, 7, 9]), [0, 1, 2]);
    const before = calls.columnSums ?? 0;
    const [actual] = await runOnBackend('wasm', run);
    expect(calls.columnSums).toBe(before + 1);
    registerWasmTrainingKernels();
    try {
      const [portable] = await runOnBackend('wasm', run);
      expect(Array.from(actual)).toEqual(Array.from(portable));
    } finally {
      registerWasmTrainingKernels({ native: spyBlas });
    }
  });

  it('DdinitGroupedConv2D is not there without the addon: groupedConv2d says so with undefined', () => {
    registerWasmTrainingKernels();
    try {
      expect(
        tf.tidy(() => groupedConv2d(tf.zeros([1, 3, 3, 2]), tf.zeros([1, 1, 1, 2]), { strides: [1, 1], pad: 'valid', dilations: [1, 1], groups: 2 })),
      ).toBeUndefined();
    } finally {
      registerWasmTrainingKernels({ native: spyBlas });
    }
  });

  it('MaxPoolGrad reaches the addon and matches the cpu backend (max-pool-grad.spec.ts has the cases)', async () => {
    const x = normalData([2, 9, 9, 4], 24);
    const run = () => tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same')))(tf.tensor(x, [2, 9, 9, 4]));
    const before = calls.maxPoolGrad ?? 0;
    const [expected] = await runOnBackend('cpu', run);
    const [actual] = await runOnBackend('wasm', run);
    expect(relativeError(actual, expected)).toBeLessThanOrEqual(1e-6);
    expect(calls.maxPoolGrad).toBe(before + 1);
  });

  it('free every buffer they allocate', async () => {
    const c = CONV_CASES[2];
    const x = normalData(c.x, 18);
    const w = normalData(c.filter, 19);
    const dy = normalData(convOutputShape(c), 20);
    await expectNoLeaks(() =>
      tf.tidy(() => {
        conv(c, x, w).dataSync();
        backprop(tf.Conv2DBackpropFilter, c, x, dy).dataSync();
        backprop(tf.Conv2DBackpropInput, c, dy, w).dataSync();
        tf.matMul(tf.tensor2d(x.subarray(0, 12), [3, 4]), tf.tensor2d(w.subarray(0, 6), [3, 2]), true, false).dataSync();
      }),
    );
  });

  it('reject a dy of the wrong shape and NCHW data, naming the kernel', () => {
    const c = CONV_CASES[0];
    tf.tidy(() => {
      const x = tf.tensor(normalData(c.x, 21), c.x);
      const run =
        (dy: tf.Tensor, extra: object = {}) =>
        () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
            strides: 1,
            pad: 'same',
            dataFormat: 'NHWC',
            filterShape: c.filter,
            ...extra,
          } as unknown as tf.NamedAttrMap);
      expect(run(tf.zeros([1, 7, 7, 5]))).toThrow(/Conv2DBackpropFilter.*dy shape does not match the convolution/);
      expect(run(tf.zeros([1, 7, 7, 4]), { dataFormat: 'NCHW' })).toThrow(/expected NHWC, got NCHW/);
    });
  });
});
