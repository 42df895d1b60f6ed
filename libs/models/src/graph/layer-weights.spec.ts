import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildFixtureModel } from '../testing';
import { hasWeight, readBias, readKernel, readWeight, weightVariable, writeBias, writeKernel, writeWeight } from './layer-weights';
import { parameterLayers } from './parameter-layers';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('layer weights', () => {
  it('reads copies the caller owns: disposing them leaves the model intact', async () => {
    const model = buildFixtureModel('sequential', 1);
    const [conv1] = parameterLayers(model);
    await expectNoLeakedTensors(() => {
      const kernel = readKernel(conv1);
      const bias = readBias(conv1);
      expect(kernel.shape).toEqual([3, 3, 3, 6]);
      expect(bias.shape).toEqual([6]);
      tf.dispose([kernel, bias]);
    });
    const live = conv1.layer.getWeights()[0]; // tfjs's live tensor, never disposed
    expect(live.isDisposed).toBe(false);
    expect(live.shape).toEqual([3, 3, 3, 6]);
    tf.dispose(model.predict(tf.zeros([1, 10, 10, 3])) as tf.Tensor);
    model.dispose();
  });

  it('writes values into the layer and leaves the caller’s tensor to the caller', () => {
    const model = buildFixtureModel('residual', 1);
    const conv2 = parameterLayers(model).find((p) => p.name === 'conv2');
    if (conv2 === undefined) throw new Error('conv2 missing');
    const kernel = tf.fill([3, 3, 8, 8], 0.25);
    const bias = tf.range(0, 8);
    writeKernel(conv2, kernel);
    writeBias(conv2.layer, bias);
    expect(kernel.isDisposed).toBe(false);
    const back = readKernel(conv2);
    expect(Array.from(back.dataSync()).every((v) => v === 0.25)).toBe(true);
    expect(Array.from(readBias(conv2).dataSync())).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The layer keeps its value after the caller disposes its tensors.
    tf.dispose([kernel, bias, back]);
    expect(Array.from(weightVariable(conv2, 'kernel').read().dataSync().slice(0, 3))).toEqual([0.25, 0.25, 0.25]);
    model.dispose();
  });

  it('rejects a wrong shape or dtype, naming the layer and both shapes', () => {
    const model = buildFixtureModel('branch-concat', 1);
    const mix = parameterLayers(model).find((p) => p.name === 'mix');
    if (mix === undefined) throw new Error('mix missing');
    const wrong = tf.zeros([3, 3, 14, 6]);
    expect(() => writeKernel(mix, wrong)).toThrow(ShapeError);
    expect(() => writeKernel(mix, wrong)).toThrow('layer mix: kernel shape does not match the layer (expected [3,3,7,6], got [3,3,14,6])');
    const ints = tf.zeros([6], 'int32');
    expect(() => writeBias(mix, ints)).toThrow(/layer mix: bias dtype does not match the layer \(expected float32, got int32\)/);
    tf.dispose([wrong, ints]);
    model.dispose();
  });

  it('finds every role, including depthwise and batch norm weights', () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const dw = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, useBias: false });
    const bn = tf.layers.batchNormalization({ name: 'bn' });
    const model = tf.model({ inputs: input, outputs: bn.apply(dw.apply(input)) as tf.SymbolicTensor });
    expect(readWeight(dw, 'kernel').shape).toEqual([3, 3, 2, 2]);
    expect(hasWeight(dw, 'bias')).toBe(false);
    expect(() => readBias(dw)).toThrow(ConfigError);
    expect(() => readBias(dw)).toThrow(/layer dw: the layer has no bias \(expected one of kernel, got bias\)/);
    const mean = tf.tensor1d([1, 2, 3, 4]);
    writeWeight(bn, 'movingMean', mean);
    expect(Array.from(readWeight(bn, 'movingMean').dataSync())).toEqual([1, 2, 3, 4]);
    expect(readWeight(bn, 'gamma').shape).toEqual([4]);
    mean.dispose();
    model.dispose();
  });
});
