import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { buildFixtureModel } from '../testing';
import { flattenModel } from './model-graph';
import { parameterLayers } from './parameter-layers';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('flattenModel', () => {
  it('lists a Sequential chain in order, input first', () => {
    const graph = flattenModel(buildFixtureModel('sequential'));
    expect(graph.nodes.map((n) => n.name)).toEqual(['conv1_input', 'conv1', 'pool1', 'conv2', 'relu2', 'flatten', 'fc1', 'drop1', 'fc2']);
    expect(graph.inputs).toEqual([0]);
    expect(graph.outputs).toEqual([{ node: 8, index: 0 }]);
    expect(graph.nodes[3].consumers).toEqual([4]);
  });

  it('flattens nested models into qualified names wired to the outer tensors', () => {
    const graph = flattenModel(buildFixtureModel('nested'));
    expect(graph.nodes.map((n) => n.name)).toEqual(['input', 'stem', 'block/conv', 'block/bn', 'head/flatten', 'head/fc']);
    expect(graph.byName.get('block/conv')?.inputs).toEqual([{ node: 1, index: 0 }]);
    expect(graph.byName.get('head/flatten')?.inputs).toEqual([{ node: 3, index: 0 }]);
    expect(graph.byName.get('block/conv')?.outputShapes).toEqual([[null, 4, 4, 4]]);
  });

  it('orders branches as the merge layer takes them and records consumers', () => {
    const graph = flattenModel(buildFixtureModel('residual'));
    expect(graph.nodes.map((n) => n.name)).toEqual(['input', 'conv1', 'conv2', 'proj', 'add1', 'relu1', 'conv3', 'add2', 'gap', 'fc']);
    expect(graph.byName.get('input')?.consumers).toEqual([1, 3]);
    expect(graph.byName.get('relu1')?.consumers).toEqual([6, 7]);
    expect(graph.byName.get('add2')?.inputs).toEqual([
      { node: 6, index: 0 },
      { node: 5, index: 0 },
    ]);
  });

  it('gives each call of a shared layer its own node', () => {
    const shared = tf.layers.dense({ units: 3, name: 'shared' });
    const input = tf.input({ shape: [3], name: 'in' });
    const y = shared.apply(tf.layers.activation({ activation: 'tanh', name: 't' }).apply(shared.apply(input) as tf.SymbolicTensor)) as tf.SymbolicTensor;
    const graph = flattenModel(tf.model({ inputs: input, outputs: y }));
    expect(graph.nodes.map((n) => n.name)).toEqual(['in', 'shared', 't', 'shared#2']);
    expect(() => parameterLayers(graph)).toThrow(/layer shared#2: a parameter layer called more than once is not supported/);
  });
});

describe('parameterLayers', () => {
  it('describes a Sequential model', () => {
    const layers = parameterLayers(buildFixtureModel('sequential'));
    expect(layers.map((p) => [p.name, p.kind, p.activation, p.hasBias])).toEqual([
      ['conv1', 'conv', 'relu', true],
      ['conv2', 'conv', 'linear', true],
      ['fc1', 'dense', 'relu', true],
      ['fc2', 'dense', 'linear', true],
    ]);
    const [conv1, conv2, fc1] = layers;
    expect(conv1).toMatchObject({
      kernelLayout: 'conv',
      kernelShape: [3, 3, 3, 6],
      groups: 1,
      inputShape: [null, 10, 10, 3],
      outputShape: [null, 10, 10, 6],
      inputChannels: 3,
      outputChannels: 6,
    });
    expect(conv1.convolution).toEqual({
      kernelSize: [3, 3],
      strides: [1, 1],
      dilation: [1, 1],
      padding: 'same',
      pads: { top: 1, bottom: 1, left: 1, right: 1 },
    });
    expect(conv2.convolution?.pads).toEqual({ top: 0, bottom: 0, left: 0, right: 0 });
    expect(fc1).toMatchObject({ kernelLayout: 'dense', kernelShape: [72, 16], inputShape: [null, 72], convolution: null });
    expect(fc1.weights).toEqual([
      { role: 'kernel', shape: [72, 16] },
      { role: 'bias', shape: [16] },
    ]);
  });

  it('describes residual, branch-and-concat (grouped) and nested models', () => {
    expect(parameterLayers(buildFixtureModel('residual')).map((p) => p.name)).toEqual(['conv1', 'conv2', 'proj', 'conv3', 'fc']);
    const branch = parameterLayers(buildFixtureModel('branch-concat'));
    expect(branch.map((p) => p.name)).toEqual(['branch1', 'branch2', 'mix', 'fc']);
    expect(branch[2]).toMatchObject({ className: 'GroupedConv2D', kind: 'conv', groups: 2, kernelShape: [3, 3, 7, 6], inputChannels: 14, activation: 'relu' });
    expect(branch[2].kernels).toEqual([{ role: 'kernel', layout: 'conv', shape: [3, 3, 7, 6], groups: 2 }]);
    const nested = parameterLayers(buildFixtureModel('nested'));
    expect(nested.map((p) => [p.name, p.kind])).toEqual([
      ['stem', 'conv'],
      ['block/conv', 'conv'],
      ['block/bn', 'batchnorm'],
      ['head/fc', 'dense'],
    ]);
    expect(nested[1].convolution?.pads).toEqual({ top: 0, bottom: 1, left: 0, right: 1 });
    expect(nested[2]).toMatchObject({ kernelLayout: null, kernels: [], hasBias: false, outputChannels: 4 });
    expect(nested[2].weights.map((w) => w.role)).toEqual(['gamma', 'beta', 'movingMean', 'movingVariance']);
  });

  it('describes depthwise, separable and transposed convolutions', () => {
    const input = tf.input({ shape: [8, 8, 4] });
    let x = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, useBias: false }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.separableConv2d({ name: 'sep', filters: 5, kernelSize: 3, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2dTranspose({ name: 'up', filters: 3, kernelSize: 3, strides: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
    const [dw, sep, up] = parameterLayers(tf.model({ inputs: input, outputs: x }));
    expect(dw).toMatchObject({ kind: 'depthwise', kernelLayout: 'depthwise', kernelShape: [3, 3, 4, 2], hasBias: false, outputChannels: 8 });
    expect(dw.weights).toEqual([{ role: 'kernel', shape: [3, 3, 4, 2] }]);
    expect(sep).toMatchObject({ kind: 'separable', kernelLayout: null, kernelShape: null, activation: 'relu', hasBias: true });
    expect(sep.kernels).toEqual([
      { role: 'depthwiseKernel', layout: 'depthwise', shape: [3, 3, 8, 1], groups: 1 },
      { role: 'pointwiseKernel', layout: 'conv', shape: [1, 1, 8, 5], groups: 1 },
    ]);
    expect(up).toMatchObject({ kind: 'transposed', kernelLayout: 'transposed', kernelShape: [3, 3, 3, 5], outputShape: [null, 8, 8, 3] });
    expect(up.convolution).toMatchObject({ strides: [2, 2], pads: null });
  });

  it('rejects layers with weights it does not understand, naming the class and the supported ones', () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.prelu({ name: 'act' }).apply(input) as tf.SymbolicTensor });
    expect(() => parameterLayers(model)).toThrow(ConfigError);
    expect(() => parameterLayers(model)).toThrow(
      /layer act: unsupported parameter layer class \(expected one of Conv2D, GroupedConv2D, Dense, .*, got PReLU\)/,
    );
  });
});
