import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { FIXTURE_INPUT_SHAPES, FIXTURE_NAMES, buildFixtureModel, type FixtureName } from '../testing';
import { GraphExecutor } from './graph-executor';
import { readBias, readKernel, writeBias, writeKernel } from './layer-weights';
import type { ParameterLayer } from './parameter-layers';

beforeAll(async () => {
  await useBackend('wasm');
});

const models = new Map<FixtureName, tf.LayersModel>();
const inputs = new Map<FixtureName, tf.Tensor>();
function fixture(name: FixtureName): { model: tf.LayersModel; x: tf.Tensor } {
  if (!models.has(name)) {
    models.set(name, buildFixtureModel(name, 7));
    inputs.set(name, tf.randomNormal([3, ...FIXTURE_INPUT_SHAPES[name]], 0, 1, 'float32', 3));
  }
  return { model: models.get(name) as tf.LayersModel, x: inputs.get(name) as tf.Tensor };
}

afterAll(() => {
  for (const m of models.values()) m.dispose();
  tf.dispose([...inputs.values()]);
});

/** The pre-activation recomputed from the captured input with plain ops: conv2d per group (or matMul) + bias. */
function recomputePreActivation(p: ParameterLayer, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [kernel, bias] = p.layer.getWeights(); // live tensors: read only
    let z: tf.Tensor;
    if (p.kind === 'dense') {
      z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
    } else if (p.kind === 'conv') {
      const g = p.convolution;
      if (g === null) throw new Error('conv without geometry');
      const conv = (xi: tf.Tensor4D, ki: tf.Tensor4D): tf.Tensor4D => tf.conv2d(xi, ki, g.strides, g.padding, 'NHWC', g.dilation);
      const xs = tf.split(x as tf.Tensor4D, p.groups, 3) as tf.Tensor4D[];
      const ks = tf.split(kernel as tf.Tensor4D, p.groups, 3) as tf.Tensor4D[];
      z = tf.concat(
        xs.map((xi, i) => conv(xi, ks[i])),
        3,
      );
    } else {
      throw new Error(`no recomputation for ${p.kind}`);
    }
    return p.hasBias ? tf.add(z, bias) : z;
  });
}

/** The input of `p` straight from tfjs: a model cut at the layer's symbolic input. */
function probeInput(model: tf.LayersModel, p: ParameterLayer, x: tf.Tensor): tf.Tensor {
  const probe = tf.model({ inputs: model.inputs, outputs: p.layer.inboundNodes[p.layer.inboundNodes.length - 1].inputTensors[0] });
  return probe.predict(x) as tf.Tensor;
}

describe('GraphExecutor', () => {
  it.each(FIXTURE_NAMES)('captures inputs and pre-activations that match a direct recomputation (%s)', async (name) => {
    const { model, x } = fixture(name);
    await expectNoLeakedTensors(() => {
      const run = new GraphExecutor(model, x);
      try {
        for (const p of run.parameterLayers) {
          if (p.kind === 'batchnorm') continue;
          const input = run.layerInput(p.name);
          const pre = run.preActivation(p.name);
          const post = run.layerOutput(p.name);
          const expectedPre = recomputePreActivation(p, input);
          expect(pre.shape).toEqual([3, ...p.outputShape.slice(1)]);
          expect(relativeError(pre.dataSync(), expectedPre.dataSync())).toBeLessThan(1e-5);
          if (p.activation === 'relu') {
            const pos = tf.tidy(() => tf.relu(pre));
            expect(relativeError(post.dataSync(), pos.dataSync())).toBeLessThan(1e-6);
            expect(tf.tidy(() => tf.min(pre).dataSync()[0])).toBeLessThan(0); // a real pre-activation, not the relu output
            pos.dispose();
          }
          if (!p.name.includes('/')) {
            const probed = probeInput(model, p, x);
            expect(relativeError(input.dataSync(), probed.dataSync())).toBeLessThan(1e-5);
            probed.dispose();
          }
          tf.dispose([input, pre, post, expectedPre]);
        }
        const y = run.output() as tf.Tensor;
        const expected = model.predict(x) as tf.Tensor;
        expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
        tf.dispose([y, expected]);
      } finally {
        run.dispose();
      }
    });
  });

  it('captures pre-activations of depthwise, separable and transposed convolutions with fused relu', () => {
    const input = tf.input({ shape: [6, 6, 3] });
    const bias = tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: 2 });
    const dw = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu', biasInitializer: bias });
    const sep = tf.layers.separableConv2d({ name: 'sep', filters: 4, kernelSize: 3, activation: 'relu', biasInitializer: bias });
    const up = tf.layers.conv2dTranspose({ name: 'up', filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', biasInitializer: bias });
    const output = up.apply(sep.apply(dw.apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 5);
    const run = new GraphExecutor(model, x);
    const direct: Record<string, (input: tf.Tensor4D, w: tf.Tensor[]) => tf.Tensor> = {
      dw: (v, [k, b]) => tf.add(tf.depthwiseConv2d(v, k as tf.Tensor4D, 1, 'same'), b),
      sep: (v, [d, q, b]) => tf.add(tf.separableConv2d(v, d as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid'), b),
      up: (v, [k, b]) => tf.add(tf.conv2dTranspose(v, k as tf.Tensor4D, [2, 8, 8, 2], 2, 'same'), b),
    };
    expect(run.parameterLayers.map((p) => p.kind)).toEqual(['depthwise', 'separable', 'transposed']);
    for (const p of run.parameterLayers) {
      const [input4, pre] = [run.layerInput(p.name) as tf.Tensor4D, run.preActivation(p.name)];
      const expected = tf.tidy(() => direct[p.name](input4, p.layer.getWeights()));
      expect(relativeError(pre.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      expect(tf.tidy(() => tf.min(pre).dataSync()[0])).toBeLessThan(0);
      tf.dispose([input4, pre, expected]);
    }
    run.dispose();
    tf.dispose(x);
    model.dispose();
  });

  it('computes each node once, lazily, and in topological order', () => {
    const { model, x } = fixture('sequential');
    const run = new GraphExecutor(model, x);
    tf.dispose(run.layerInput('conv2'));
    expect(['conv1', 'pool1', 'conv2', 'fc1'].map((n) => run.evaluations(n))).toEqual([1, 1, 0, 0]);
    tf.dispose(run.preActivation('fc2'));
    tf.dispose(run.output());
    tf.dispose(run.layerInput('conv2'));
    expect(['conv1', 'pool1', 'conv2', 'relu2', 'fc1', 'drop1', 'fc2'].map((n) => run.evaluations(n))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    run.dispose();
  });

  it('after a weight change, invalidation recomputes the layer and what is downstream only', () => {
    const { model, x } = fixture('branch-concat');
    const run = new GraphExecutor(model, x);
    tf.dispose(run.output());
    const names = ['branch1', 'branch2', 'branch3', 'concat', 'mix', 'gap', 'fc'];
    expect(names.map((n) => run.evaluations(n))).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const p = run.parameterLayers.find((q) => q.name === 'branch2') as ParameterLayer;
    const old = readKernel(p);
    const doubled = tf.tidy(() => tf.mul(old, 2));
    writeKernel(p, doubled);
    run.invalidate('branch2');
    const y = run.output() as tf.Tensor;
    expect(names.map((n) => run.evaluations(n))).toEqual([1, 2, 1, 2, 2, 2, 2]);
    const expected = model.predict(x) as tf.Tensor;
    expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    writeKernel(p, old);
    run.invalidate('branch2');
    const restored = run.output() as tf.Tensor;
    expect(relativeError(restored.dataSync(), y.dataSync())).toBeGreaterThan(1e-3); // the doubled kernel did change the output
    tf.dispose([old, doubled, y, expected, restored]);
    run.dispose();
  });

  it('runs the initializer loop incrementally, commits free activations, and leaks nothing', async () => {
    const { model, x } = fixture('residual');
    const original = model.getWeights().map((w) => tf.keep(w.clone()));
    await expectNoLeakedTensors(() => {
      const run = new GraphExecutor(model, x);
      const cached: number[] = [];
      for (const p of run.parameterLayers) {
        const input = run.layerInput(p.name);
        const kernel = readKernel(p);
        const halved = tf.tidy(() => tf.mul(kernel, 0.5));
        writeKernel(p, halved);
        run.invalidate(p.name);
        const pre = run.preActivation(p.name);
        const expectedPre = recomputePreActivation(p, input);
        expect(relativeError(pre.dataSync(), expectedPre.dataSync())).toBeLessThan(1e-5);
        run.commit(p.name);
        cached.push(run.cachedTensorCount());
        tf.dispose([input, kernel, halved, pre, expectedPre]);
      }
      // Every layer was computed exactly once (lazily, after its own change), never again for a later layer's change.
      expect(run.parameterLayers.map((p) => run.evaluations(p.name))).toEqual([1, 1, 1, 1, 1]);
      expect(Math.max(...cached)).toBeLessThanOrEqual(6);
      const y = run.output() as tf.Tensor;
      const expected = model.predict(x) as tf.Tensor;
      expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      // Looking back at a pruned value recomputes it.
      const again = run.layerInput('conv2');
      expect(again.shape).toEqual([3, 8, 8, 8]);
      tf.dispose([y, expected, again]);
      run.dispose();
    });
    model.setWeights(original);
    tf.dispose(original);
  });

  it.each(FIXTURE_NAMES)('rescalePreActivation equals a fresh recompute, without a second evaluation (%s)', async (name) => {
    const { model, x } = fixture(name);
    const original = model.getWeights().map((w) => tf.keep(w.clone()));
    await expectNoLeakedTensors(() => {
      const run = new GraphExecutor(model, x);
      const rescaled = run.parameterLayers.filter((p) => p.kind === 'conv' || p.kind === 'dense');
      try {
        for (const p of rescaled) {
          // The within-layer loop: z from the current W (bias 0), then W(:, i)/σ_i, b(i) = β − μ_i/σ_i.
          if (p.hasBias) {
            const zero = tf.zeros([p.outputChannels]);
            writeBias(p, zero);
            zero.dispose();
          }
          run.invalidate(p.name);
          const z = run.preActivation(p.name);
          const c = p.outputChannels;
          const [mean, std] = tf.tidy(() => {
            const m = tf.moments(tf.reshape(z, [-1, c]), 0);
            return [m.mean.dataSync(), tf.sqrt(m.variance).dataSync()];
          });
          const scale = Float32Array.from(std, (v) => 1 / v);
          const shift = Float32Array.from(mean, (m, i) => (p.hasBias ? 0.5 - m * scale[i] : 0));
          const kernel = readKernel(p);
          const normalized = tf.tidy(() => tf.mul(kernel, tf.tensor1d(scale)));
          writeKernel(p, normalized);
          if (p.hasBias) {
            const b = tf.tensor1d(shift);
            writeBias(p, b);
            b.dispose();
          }
          run.rescalePreActivation(p.name, scale, shift);
          tf.dispose([z, kernel, normalized]);
        }
        const y = run.output() as tf.Tensor;
        const fresh = new GraphExecutor(model, x);
        try {
          for (const p of rescaled) {
            const [pre, post, expectedPre, expectedPost] = [
              run.preActivation(p.name),
              run.layerOutput(p.name),
              fresh.preActivation(p.name),
              fresh.layerOutput(p.name),
            ];
            expect(relativeError(pre.dataSync(), expectedPre.dataSync())).toBeLessThan(1e-5);
            expect(relativeError(post.dataSync(), expectedPost.dataSync())).toBeLessThan(1e-5);
            if (p.hasBias) expect(Math.abs(tf.tidy(() => tf.mean(pre).dataSync()[0]) - 0.5)).toBeLessThan(1e-4);
            tf.dispose([pre, post, expectedPre, expectedPost]);
          }
          const expected = fresh.output() as tf.Tensor;
          expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
          tf.dispose([y, expected]);
        } finally {
          fresh.dispose();
        }
        // Each rescaled layer ran once: the affine update replaced the second forward.
        expect(rescaled.map((p) => run.evaluations(p.name))).toEqual(rescaled.map(() => 1));
      } finally {
        run.dispose();
      }
    });
    model.setWeights(original);
    tf.dispose(original);
  });

  it('rescalePreActivation invalidates only what is downstream and rejects what it cannot rescale', () => {
    const { model, x } = fixture('sequential');
    const run = new GraphExecutor(model, x);
    try {
      tf.dispose(run.output());
      const names = ['conv1', 'pool1', 'conv2', 'relu2', 'fc1', 'drop1', 'fc2'];
      expect(names.map((n) => run.evaluations(n))).toEqual([1, 1, 1, 1, 1, 1, 1]);
      const p = run.parameterLayers.find((q) => q.name === 'conv2') as ParameterLayer;
      const c = p.outputChannels;
      const bias = readBias(p);
      const kernel = readKernel(p);
      const scale = Array.from({ length: c }, (_, i) => 1 + i / c);
      const shift = Array.from({ length: c }, (_, i) => i / c - 0.5);
      const [k2, b2] = tf.tidy(() => [tf.mul(kernel, tf.tensor1d(scale)), tf.add(tf.mul(bias, tf.tensor1d(scale)), tf.tensor1d(shift))]);
      writeKernel(p, k2);
      writeBias(p, b2);
      run.rescalePreActivation('conv2', scale, shift);
      expect(run.cachedTensorCount()).toBeGreaterThan(0);
      const y = run.output() as tf.Tensor;
      expect(names.map((n) => run.evaluations(n))).toEqual([1, 1, 1, 2, 2, 2, 2]);
      const expected = model.predict(x) as tf.Tensor;
      expect(relativeError(y.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      writeKernel(p, kernel);
      writeBias(p, bias);
      tf.dispose([bias, kernel, k2, b2, y, expected]);

      expect(() => run.rescalePreActivation('pool1', [1], [0])).toThrow(/layer pool1: rescalePreActivation needs a parameter layer/);
      expect(() => run.rescalePreActivation('conv2', [1, 2], [0, 0])).toThrow(ShapeError);
      expect(() => run.rescalePreActivation('conv2', [1, 2], [0, 0])).toThrow(/layer conv2: scale and shift need one value per output channel/);
      run.invalidate('conv2');
      expect(() => run.rescalePreActivation('conv2', scale, shift)).toThrow(/layer conv2: no cached pre-activation to rescale/);
    } finally {
      run.dispose();
    }
  });

  it('keeps its cache alive inside the caller’s tf.tidy and never disposes the caller’s input', () => {
    const { model, x } = fixture('sequential');
    const run = new GraphExecutor(model, x);
    tf.tidy(() => {
      run.preActivation('fc1');
    });
    const before = run.evaluations('fc1');
    const pre = run.preActivation('fc1');
    expect(run.evaluations('fc1')).toBe(before);
    expect(pre.isDisposed).toBe(false);
    pre.dispose();
    run.dispose();
    expect(x.isDisposed).toBe(false);
    expect(() => run.output()).toThrow(/disposed/);
  });

  it('rejects a wrong input and an unknown layer name', () => {
    const { model } = fixture('sequential');
    const wrong = tf.zeros([2, 10, 10, 1]);
    expect(() => new GraphExecutor(model, wrong)).toThrow(ShapeError);
    expect(() => new GraphExecutor(model, wrong)).toThrow(
      /input conv1_input: input batch does not match the model input \(expected \[null,10,10,3\], got \[2,10,10,1\]\)/,
    );
    expect(() => new GraphExecutor(model, [wrong, wrong])).toThrow(/wrong number of model inputs/);
    const zeros = tf.zeros([1, 10, 10, 3]);
    const run = new GraphExecutor(model, zeros);
    expect(() => run.layerInput('conv9')).toThrow(ConfigError);
    expect(() => run.layerInput('conv9')).toThrow(/layer conv9: no such layer in the model graph \(expected one of conv1_input, conv1, pool1/);
    run.dispose();
    tf.dispose([wrong, zeros]);
  });
});
