import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { GroupedConv2D } from './grouped-conv2d';

beforeAll(async () => {
  await useBackend('wasm');
});

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

describe('GroupedConv2D', () => {
  it('with one group equals tf.layers.conv2d', () => {
    const x = seeded([2, 9, 9, 4], 1);
    const grouped = new GroupedConv2D({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' });
    const plain = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' });
    const a = grouped.apply(x) as tf.Tensor;
    plain.apply(x);
    plain.setWeights(grouped.getWeights());
    const b = plain.apply(x) as tf.Tensor;
    expect(a.shape).toEqual([2, 5, 5, 6]);
    expect(relativeError(a.dataSync(), b.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, a, b]);
  });

  it('with two groups convolves each half of the channels with its half of the filters', () => {
    const x = seeded([2, 7, 7, 6], 2);
    const layer = new GroupedConv2D({ filters: 8, kernelSize: 3, padding: 'valid', groups: 2, biasInitializer: 'ones' });
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights(); // live tensors: never dispose
    expect(kernel.shape).toEqual([3, 3, 3, 8]);
    const expected = tf.tidy(() => {
      const [x0, x1] = tf.split(x as tf.Tensor4D, 2, 3) as tf.Tensor4D[];
      const [k0, k1] = tf.split(kernel as tf.Tensor4D, 2, 3) as tf.Tensor4D[];
      return tf.add(tf.concat([tf.conv2d(x0, k0, 1, 'valid'), tf.conv2d(x1, k1, 1, 'valid')], 3), bias);
    });
    expect(y.shape).toEqual([2, 5, 5, 8]);
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-6);
    // A channel of group 0 does not depend on the input channels of group 1.
    const changed = tf.tidy(() => tf.concat([tf.slice(x, [0, 0, 0, 0], [2, 7, 7, 3]), tf.zeros([2, 7, 7, 3])], 3));
    const y2 = layer.apply(changed) as tf.Tensor;
    const firstHalf = (t: tf.Tensor): Float32Array => tf.tidy(() => tf.slice(t, [0, 0, 0, 0], [2, 5, 5, 4]).dataSync() as Float32Array);
    expect(relativeError(firstHalf(y2), firstHalf(y))).toBe(0);
    tf.dispose([x, y, expected, changed, y2]);
  });

  it('supports dilation and reports its output shape', () => {
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 3, dilationRate: 2, groups: 2, padding: 'valid' });
    const symbolic = layer.apply(tf.input({ shape: [11, 10, 2] })) as tf.SymbolicTensor;
    expect(symbolic.shape).toEqual([null, 7, 6, 4]);
    const x = seeded([1, 11, 10, 2], 3);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 7, 6, 4]);
    tf.dispose([x, y]);
  });

  it('runs as one grouped kernel with bias and ReLU with the native addon (no split, concat, add, relu), with the gradients of the split path on cpu', async () => {
    const layer = new GroupedConv2D({
      filters: 8,
      kernelSize: 5,
      padding: 'same',
      groups: 2,
      activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed: 5 }),
    });
    const xData = seeded([2, 7, 7, 6], 6).dataSync();
    layer.apply(tf.input({ shape: [7, 7, 6] }));
    const kernel = layer.getWeights()[0].dataSync();
    const step = () => {
      const x = tf.tensor4d(xData, [2, 7, 7, 6]);
      const k = tf.tensor4d(kernel, [5, 5, 3, 8]);
      layer.setWeights([k, tf.zeros([8])]);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.sum(
            tf.mul(
              layer.apply(x) as tf.Tensor,
              tf
                .range(0, 2 * 7 * 7 * 8)
                .reshape([2, 7, 7, 8])
                .mul(0.01),
            ),
          ) as tf.Scalar,
      );
      return [value, ...Object.values(grads)];
    };
    const native = await profiled(step);
    expect(native.kernels).toContain('DdinitGroupedConv2D');
    expect(native.kernels).not.toContain('SplitV');
    expect(native.kernels).not.toContain('Concat');
    // bias and ReLU fused forward; backward one mask kernel instead of Step, Cast, Multiply
    expect(native.kernels.filter((k) => ['Add', 'Relu', 'Step'].includes(k))).toEqual([]);
    expect(native.kernels).toContain('DdinitReluGrad');
    await tf.setBackend('cpu');
    try {
      const split = await profiled(step);
      expect(split.kernels).toContain('Concat');
      split.values.forEach((v, i) => expect(relativeError(native.values[i], v)).toBeLessThan(1e-5));
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('rejects filters or input channels not divisible by groups', () => {
    expect(() => new GroupedConv2D({ name: 'g', filters: 5, kernelSize: 3, groups: 2 })).toThrow(ConfigError);
    expect(() => new GroupedConv2D({ name: 'g', filters: 5, kernelSize: 3, groups: 2 })).toThrow(
      /layer g: filters must be a positive multiple of groups \(expected a multiple of 2, got 5\)/,
    );
    const layer = new GroupedConv2D({ name: 'g3', filters: 6, kernelSize: 3, groups: 2 });
    expect(() => layer.apply(tf.input({ shape: [8, 8, 3] }))).toThrow(ShapeError);
    expect(() => new GroupedConv2D({ filters: 4, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(/cannot both exceed 1/);
    expect(() => new GroupedConv2D({ filters: 4, kernelSize: 3, activation: 'relu9' })).toThrow(/unknown activation/);
  });

  it('serializes its config and rebuilds from it', () => {
    const layer = new GroupedConv2D({
      name: 'conv2',
      filters: 4,
      kernelSize: [3, 5],
      strides: [1, 2],
      groups: 2,
      activation: 'relu',
      useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: 3 }),
    });
    const config = layer.getConfig();
    expect(config).toMatchObject({ filters: 4, kernelSize: [3, 5], strides: [1, 2], groups: 2, activation: 'relu', useBias: false, padding: 'valid' });
    expect(config['kernelInitializer']).toEqual({ className: 'VarianceScaling', config: { scale: 2, mode: 'fanIn', distribution: 'normal', seed: 3 } });
    const copy = new GroupedConv2D(JSON.parse(JSON.stringify(config)));
    expect(copy.getConfig()).toEqual(config);
  });

  it('leaks no tensors', async () => {
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 3, groups: 2, activation: 'relu' });
    const x = seeded([1, 6, 6, 4], 4);
    layer.apply(x);
    await expectNoLeakedTensors(() => tf.dispose(layer.apply(x) as tf.Tensor));
    x.dispose();
  });
});

/** The values `fn` returns and the kernels it ran; its tensors disposed. */
async function profiled(fn: () => tf.Tensor[]): Promise<{ values: Float32Array[]; kernels: string[] }> {
  let values: Float32Array[] = [];
  const info = await tf.profile(() => {
    values = tf.tidy(() => fn().map((t) => t.dataSync() as Float32Array));
  });
  return { values, kernels: info.kernels.map((k) => k.name) };
}
