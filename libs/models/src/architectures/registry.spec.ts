import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@ddinit/core';
import { relativeError, useBackend } from '@ddinit/core/testing';
import { parameterLayers } from '../graph/parameter-layers';
import { buildModel, modelNames, modelOptionsSchema, parseModelOptions } from './registry';
import { vggStageDepths } from './vgg-plain';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Saves to model.json + weights in memory and loads back (custom layers must be registered). */
async function roundTrip(model: tf.LayersModel): Promise<{ loaded: tf.LayersModel; json: string }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (artifacts === undefined) throw new Error('nothing saved');
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return { loaded, json: JSON.stringify(artifacts.modelTopology) };
}

function randomInput(model: tf.LayersModel, batch: number, seed: number): tf.Tensor {
  const shape = [batch, ...(model.inputs[0].shape.slice(1) as number[])];
  return tf.tensor(Rng.fromSeed(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1))), shape);
}

interface Expected {
  name: string;
  options?: Record<string, unknown>;
  input: number[];
  output: number[];
  /** Parameter layers in topological order, `name:kind` (`/gN` for grouped convolutions). */
  layers: string[];
  parameters?: number;
  customLayers?: string[];
  check?: (model: tf.LayersModel) => void;
}

const vggLayers = (depth: number): string[] => [
  ...vggStageDepths(depth).flatMap((count, s) => Array.from({ length: count }, (_, i) => `conv${s + 1}_${i + 1}:conv`)),
  'fc1:dense',
  'fc2:dense',
];

const resnetLayers = (batchNorm: boolean): string[] => {
  const unit = (name: string, bn: string): string[] => (batchNorm ? [`${name}:conv`, `${bn}:batchnorm`] : [`${name}:conv`]);
  const layers = unit('conv1', 'bn1');
  for (let s = 1; s <= 3; s++) {
    for (let b = 1; b <= 2; b++) {
      const p = `s${s}b${b}`;
      layers.push(...unit(`${p}_conv1`, `${p}_bn1`), ...unit(`${p}_conv2`, `${p}_bn2`));
      if (s > 1 && b === 1) layers.push(...unit(`${p}_proj`, `${p}_proj_bn`));
    }
  }
  return [...layers, 'fc:dense'];
};

const caffenetLayers = ['conv1:conv', 'conv2:conv/g2', 'conv3:conv', 'conv4:conv/g2', 'conv5:conv/g2', 'fc6:dense', 'fc7:dense', 'fc8:dense'];

/** CaffeNet's spatial sizes, LRN parameters and 2-group convolutions, as in BVLC's deploy.prototxt. */
function checkCaffenetLayout(model: tf.LayersModel): void {
  const size = (layer: string): number[] => (model.getLayer(layer).outputShape as number[]).slice(1);
  expect(size('conv1')).toEqual([55, 55, 96]);
  expect(size('pool1')).toEqual([27, 27, 96]);
  expect(size('norm1')).toEqual([27, 27, 96]);
  expect(size('conv2')).toEqual([27, 27, 256]);
  expect(size('pool2')).toEqual([13, 13, 256]);
  expect(size('conv5')).toEqual([13, 13, 256]);
  expect(size('pool5')).toEqual([6, 6, 256]);
  expect(model.getLayer('norm1').getConfig()).toMatchObject({ depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
  expect(model.getLayer('norm2').getConfig()).toMatchObject({ depthRadius: 2, bias: 1, alpha: 2e-5, beta: 0.75 });
  const shapes = Object.fromEntries(parameterLayers(model).map((p) => [p.name, p.kernelShape]));
  expect(shapes).toMatchObject({
    conv1: [11, 11, 3, 96],
    conv2: [5, 5, 48, 256],
    conv3: [3, 3, 256, 384],
    conv4: [3, 3, 192, 384],
    conv5: [3, 3, 192, 256],
    fc6: [9216, 4096],
  });
  expect(model.getLayer('drop6').getConfig()).toMatchObject({ rate: 0.5 });
}

const EXPECTED: Expected[] = [
  {
    name: 'caffenet',
    input: [227, 227, 3],
    output: [1000],
    layers: caffenetLayers,
    parameters: 60_965_224,
    customLayers: ['GroupedConv2D', 'LocalResponseNormalization'],
    check: checkCaffenetLayout,
  },
  { name: 'caffenet-small', input: [28, 28, 1], output: [10], layers: caffenetLayers, customLayers: ['GroupedConv2D', 'LocalResponseNormalization'] },
  { name: 'caffenet-small', options: { inputShape: [32, 32, 3], numClasses: 7 }, input: [32, 32, 3], output: [7], layers: caffenetLayers },
  { name: 'vgg-plain-11', input: [32, 32, 3], output: [10], layers: vggLayers(11) },
  { name: 'vgg-plain-16', input: [32, 32, 3], output: [10], layers: vggLayers(16) },
  { name: 'vgg-plain-19', input: [32, 32, 3], output: [10], layers: vggLayers(19) },
  { name: 'vgg-plain-30', input: [32, 32, 3], output: [10], layers: vggLayers(30) },
  { name: 'vgg-plain-13', options: { inputShape: [28, 28, 1] }, input: [28, 28, 1], output: [10], layers: vggLayers(13) },
  { name: 'resnet-small', input: [32, 32, 3], output: [10], layers: resnetLayers(true) },
  { name: 'resnet-small', options: { batchNorm: false }, input: [32, 32, 3], output: [10], layers: resnetLayers(false) },
];

describe('modelNames', () => {
  it('lists the registered architectures', () => {
    expect(modelNames()).toEqual(['caffenet', 'caffenet-small', 'resnet-small', 'vgg-plain-11', 'vgg-plain-16', 'vgg-plain-19', 'vgg-plain-30']);
  });
});

describe.each(EXPECTED)('buildModel($name, $options)', ({ name, options, input, output, layers, parameters, customLayers, check }) => {
  let model: tf.LayersModel;
  beforeAll(() => {
    model = buildModel(name, { ...options, seed: 3 });
  }, 300_000);
  afterAll(() => model.dispose());

  it('has the documented input and output shapes and parameter layers in topological order', () => {
    expect(model.inputs[0].shape).toEqual([null, ...input]);
    expect(model.outputs[0].shape).toEqual([null, ...output]);
    const described = parameterLayers(model).map((p) => `${p.name}:${p.kind}${p.groups > 1 ? `/g${p.groups}` : ''}`);
    expect(described).toEqual(layers);
    if (parameters !== undefined) expect(model.countParams()).toBe(parameters);
    for (const className of customLayers ?? []) expect(model.layers.some((l) => l.getClassName() === className)).toBe(true);
    check?.(model);
  });

  it('round-trips through model.json with identical predictions', async () => {
    const x = randomInput(model, 2, 4);
    const { loaded, json } = await roundTrip(model);
    for (const className of customLayers ?? []) expect(json).toContain(`"class_name":"${className}"`);
    expect(parameterLayers(loaded).map((p) => [p.name, p.kind, p.groups, p.activation, p.kernelShape])).toEqual(
      parameterLayers(model).map((p) => [p.name, p.kind, p.groups, p.activation, p.kernelShape]),
    );
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(relativeError(b.dataSync(), a.dataSync())).toBe(0);
    tf.dispose([x, a, b]);
    loaded.dispose();
  }, 300_000);
});

describe('seeds', () => {
  it('gives identical weights for a seed, different ones for another, and per-layer streams', () => {
    const weights = (m: tf.LayersModel, layer: string): Float32Array => m.getLayer(layer).getWeights()[0].dataSync() as Float32Array;
    const a = buildModel('caffenet-small', { seed: 1 });
    const b = buildModel('caffenet-small', { seed: 1 });
    const c = buildModel('caffenet-small', { seed: 2 });
    const d = buildModel('caffenet-small', { seed: 1, numClasses: 3 });
    expect(Array.from(weights(a, 'conv2'))).toEqual(Array.from(weights(b, 'conv2')));
    expect(relativeError(weights(c, 'conv2'), weights(a, 'conv2'))).toBeGreaterThan(0.1);
    // Changing fc8 leaves every other layer's weights as they were.
    expect(Array.from(weights(d, 'fc7'))).toEqual(Array.from(weights(a, 'fc7')));
    expect(relativeError(weights(a, 'conv3').slice(0, 100), weights(a, 'conv4').slice(0, 100))).toBeGreaterThan(0.1);
    for (const m of [a, b, c, d]) m.dispose();
  });
});

describe('initialWeights', () => {
  const names = ['caffenet-small', 'vgg-plain-11', 'resnet-small', 'resnet-small/no-bn'];
  const build = (entry: string, options: Record<string, unknown>): tf.LayersModel =>
    entry === 'resnet-small/no-bn' ? buildModel('resnet-small', { batchNorm: false, ...options }) : buildModel(entry, options);

  it.each(names)('%s: zeros builds the same architecture, weight names and shapes, with every kernel 0 and the rest as He-normal builds it', (entry) => {
    const before = tf.memory().numTensors;
    const he = build(entry, { seed: 4 });
    const zeros = build(entry, { seed: 4, initialWeights: 'zeros' });
    const layers = (m: tf.LayersModel): string[] => m.layers.map((l) => `${l.name} ${l.getClassName()} ${JSON.stringify(l.outputShape)}`);
    expect(layers(zeros)).toEqual(layers(he));
    const kernels = new Set(parameterLayers(he).flatMap((p) => (p.kind === 'batchnorm' ? [] : [`${p.name}/kernel`])));
    expect(kernels.size).toBeGreaterThan(2);
    expect(zeros.weights.map((w) => [w.originalName, w.shape])).toEqual(he.weights.map((w) => [w.originalName, w.shape]));
    he.weights.forEach((w, i) => {
      const [a, b] = [w.read().dataSync(), zeros.weights[i].read().dataSync()];
      if (kernels.has(w.originalName)) {
        expect(b.every((v) => v === 0)).toBe(true);
        expect(a.some((v) => v !== 0)).toBe(true);
      } else {
        expect(Array.from(b)).toEqual(Array.from(a)); // biases 0, batch norm γ = 1, β = 0, moving statistics 0 and 1
      }
    });
    he.dispose();
    zeros.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('heNormal, the default, draws the same weights as leaving the option out', () => {
    const a = buildModel('caffenet-small', { seed: 1 });
    const b = buildModel('caffenet-small', { seed: 1, initialWeights: 'heNormal' });
    a.weights.forEach((w, i) => expect(Array.from(b.weights[i].read().dataSync())).toEqual(Array.from(w.read().dataSync())));
    a.dispose();
    b.dispose();
  });
});

describe('options and names', () => {
  it('rejects an unknown model, listing the valid names', () => {
    expect(() => buildModel('alexnet')).toThrow(ConfigError);
    expect(() => buildModel('alexnet')).toThrow(
      /model: unknown model \(expected one of caffenet, caffenet-small, resnet-small, vgg-plain-<N> with 11 ≤ N ≤ 1000 .*got alexnet\)/,
    );
    expect(() => modelOptionsSchema('vgg-plain-x')).toThrow(/unknown model/);
  });

  it('rejects a plain VGG depth outside 11…1000 by name, before building anything', () => {
    const before = tf.memory().numTensors;
    for (const depth of [10, 1001, 99999]) {
      expect(() => modelOptionsSchema(`vgg-plain-${depth}`)).toThrow(
        `model vgg-plain-<N>: unsupported plain VGG depth (expected an integer 11 ≤ N ≤ 1000, got ${depth})`,
      );
      expect(() => buildModel(`vgg-plain-${depth}`)).toThrow(ConfigError);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects unknown keys and bad values with zod’s message, and fills defaults', () => {
    expect(() => buildModel('caffenet-small', { batchNorm: true })).toThrow(/model caffenet-small: invalid options[\s\S]*Unrecognized key[\s\S]*batchNorm/);
    expect(() => buildModel('caffenet-small', { inputShape: [28, 28, 2] })).toThrow(/inputShape/);
    expect(() => buildModel('resnet-small', { numClasses: 0 })).toThrow(/numClasses/);
    expect(() => buildModel('vgg-plain-11', { seed: 1.5 })).toThrow(/seed/);
    expect(parseModelOptions('vgg-plain-30')).toEqual({
      inputShape: [32, 32, 3],
      numClasses: 10,
      seed: 0,
      initialWeights: 'heNormal',
      baseChannels: 16,
      headUnits: 128,
    });
    expect(parseModelOptions('resnet-small', { batchNorm: false })).toEqual({
      inputShape: [32, 32, 3],
      numClasses: 10,
      seed: 0,
      initialWeights: 'heNormal',
      batchNorm: false,
      blocksPerStage: 2,
      baseChannels: 16,
    });
    expect(parseModelOptions('caffenet')).toEqual({ inputShape: [227, 227, 3], numClasses: 1000, seed: 0, initialWeights: 'heNormal', dropout: 0.5 });
    expect(() => buildModel('caffenet-small', { initialWeights: 'glorot' })).toThrow(/model caffenet-small: invalid options[\s\S]*initialWeights/);
  });

  it('rejects an input too small for CaffeNet, naming the layer', () => {
    expect(() => buildModel('caffenet', { inputShape: [60, 60, 3] })).toThrow(
      /layer pool5: input is too small for the network \(expected a positive spatial size after every conv and pool, got input 60×60 → 0×0\)/,
    );
    const smallest = buildModel('caffenet', { inputShape: [67, 67, 3] });
    expect(smallest.getLayer('pool5').outputShape).toEqual([null, 1, 1, 256]);
    smallest.dispose();
  });

  it('spreads plain-VGG depth over five stages, extra layers last', () => {
    expect(vggStageDepths(11)).toEqual([2, 2, 2, 2, 3]);
    expect(vggStageDepths(16)).toEqual([3, 3, 3, 3, 4]);
    expect(vggStageDepths(19)).toEqual([3, 4, 4, 4, 4]);
    expect(vggStageDepths(30)).toEqual([6, 6, 6, 6, 6]);
    expect(() => vggStageDepths(10)).toThrow(ConfigError);
  });
});
