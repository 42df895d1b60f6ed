import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger, type ProgressEvent } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel, readKernel } from '@ddinit/models';
import { buildFixtureModel } from '@ddinit/models/testing';
import { initializeWithinLayers } from './initialize-within-layers';
import { measureInvariants, smoothImages } from './testing/check-invariants';
import { WITHIN_METHODS, type WithinLayerOptionsInput } from './within-layer-options';

const TOLERANCE = 1e-3;
/** Small caps keep each init to a second or two on wasm; fc layers with more units than images fall back. */
const FAST: WithinLayerOptionsInput = { maxPatchRows: 1500, kmeans: { maxIterations: 10 }, fallback: { onTooFewRows: 'orthogonal' } };

interface Case {
  name: string;
  build: () => tf.LayersModel;
  shape: [number, number, number];
  images: number;
}

const CASES: Case[] = [
  { name: 'caffenet-small (Sequential chain, grouped convs)', build: () => buildModel('caffenet-small', { seed: 1 }), shape: [28, 28, 1], images: 24 },
  { name: 'vgg-plain-11 at 32×32', build: () => buildModel('vgg-plain-11', { seed: 1, baseChannels: 8, headUnits: 32 }), shape: [32, 32, 3], images: 40 },
  {
    name: 'resnet-small with batch norm',
    build: () => buildModel('resnet-small', { seed: 1, blocksPerStage: 1, baseChannels: 8, inputShape: [16, 16, 3] }),
    shape: [16, 16, 3],
    images: 12,
  },
  {
    name: 'resnet-small without batch norm',
    build: () => buildModel('resnet-small', { seed: 1, blocksPerStage: 1, baseChannels: 8, batchNorm: false, inputShape: [16, 16, 3] }),
    shape: [16, 16, 3],
    images: 12,
  },
  { name: 'branch-and-concat fixture (grouped mix)', build: () => buildFixtureModel('branch-concat', 2), shape: [8, 8, 4], images: 16 },
  { name: 'nested fixture (submodels, batch norm)', build: () => buildFixtureModel('nested', 2), shape: [8, 8, 3], images: 16 },
];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('initializeWithinLayers: unit pre-activations for every source on every reference model', () => {
  const samples = new Map<string, tf.Tensor4D>();
  afterAll(() => samples.forEach((s) => s.dispose()));
  const sampleOf = (c: Case): tf.Tensor4D => {
    if (!samples.has(c.name)) samples.set(c.name, smoothImages(c.images, c.shape, 7));
    return samples.get(c.name) as tf.Tensor4D;
  };
  for (const c of CASES) {
    for (const method of WITHIN_METHODS.filter((m) => m !== 'zca')) {
      it(`${c.name}: ${method}`, async () => {
        const model = c.build();
        const sample = sampleOf(c);
        const report = await initializeWithinLayers(model, sample, { ...FAST, method, seed: 3 });
        const used = report.layers.filter((l) => l.kind !== 'batchnorm').map((l) => l.method);
        expect(used).toContain(method); // the source really ran (fc layers may fall back)
        for (const l of report.layers) if (l.method !== method && l.kind !== 'batchnorm') expect(l.fallback).toMatch(/too few patch rows/);
        const deviations = measureInvariants(model, sample, report);
        expect(deviations.length).toBe(report.layers.length);
        for (const d of deviations) {
          expect(d.mean, `${d.layer} mean`).toBeLessThan(TOLERANCE);
          expect(d.std, `${d.layer} std`).toBeLessThan(TOLERANCE);
        }
        for (const l of report.layers) expect(l.worstStdDeviation as number).toBeLessThan(TOLERANCE);
        model.dispose();
      });
    }
  }
});

describe('initializeWithinLayers: options and reporting', () => {
  it('sets the mean to a configured β per layer and keeps skipped layers', async () => {
    const model = buildFixtureModel('sequential', 1);
    const sample = smoothImages(32, [10, 10, 3], 1);
    const conv1Before = readKernel(model.getLayer('conv1'));
    const report = await initializeWithinLayers(model, sample, {
      method: 'pca',
      beta: 0.1,
      layers: [
        { match: 'fc*', beta: -0.5, method: 'orthogonal' },
        { match: 'conv1', skip: true },
      ],
    });
    const conv1After = readKernel(model.getLayer('conv1'));
    expect(Array.from(conv1After.dataSync())).toEqual(Array.from(conv1Before.dataSync()));
    expect(report.layers.map((l) => [l.name, l.method, l.beta])).toEqual([
      ['conv1', 'kept', 0.1],
      ['conv2', 'pca', 0.1],
      ['fc1', 'orthogonal', -0.5],
      ['fc2', 'orthogonal', -0.5],
    ]);
    for (const d of measureInvariants(model, sample, report)) {
      expect(d.mean).toBeLessThan(TOLERANCE);
      expect(d.std).toBeLessThan(TOLERANCE);
    }
    tf.dispose([sample, conv1Before, conv1After]);
  });

  it('initializeFrom keeps the pretrained prefix (reference --zero_from)', async () => {
    const model = buildFixtureModel('sequential', 1);
    const sample = smoothImages(32, [10, 10, 3], 1);
    const report = await initializeWithinLayers(model, sample, { method: 'gaussian', initializeFrom: 'fc1' });
    expect(report.layers.map((l) => l.method)).toEqual(['kept', 'kept', 'gaussian', 'gaussian']);
    sample.dispose();
  });

  it('zca where N = F: unit pre-activations', async () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ name: 'zca_conv', filters: 12, kernelSize: 2, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const out = tf.layers.conv2d({ name: 'zca_1x1', filters: 12, kernelSize: 1 }).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const sample = smoothImages(16, [8, 8, 3], 2);
    const report = await initializeWithinLayers(model, sample, { method: 'zca' });
    expect(report.layers.map((l) => l.method)).toEqual(['zca', 'zca']);
    for (const d of measureInvariants(model, sample, report)) {
      expect(d.mean).toBeLessThan(TOLERANCE);
      expect(d.std).toBeLessThan(TOLERANCE);
    }
    sample.dispose();
  });

  it('same seed → identical weights; another seed → different weights', async () => {
    const sample = smoothImages(16, [8, 8, 4], 5);
    const weightsAfter = async (seed: number): Promise<Float32Array[]> => {
      const model = buildFixtureModel('branch-concat', 0);
      await initializeWithinLayers(model, sample, { method: 'kmeans', seed });
      return model.getWeights().map((w) => w.dataSync() as Float32Array);
    };
    const [a, b, c] = [await weightsAfter(11), await weightsAfter(11), await weightsAfter(12)];
    a.forEach((w, i) => expect(Array.from(b[i])).toEqual(Array.from(w)));
    expect(a.some((w, i) => w.some((v, j) => v !== c[i][j]))).toBe(true);
    sample.dispose();
  });

  it('leaks no tensor, reports progress per layer and complete stats', async () => {
    const model = buildFixtureModel('residual', 0);
    const sample = smoothImages(16, [8, 8, 4], 5);
    const events: ProgressEvent[] = [];
    await initializeWithinLayers(model, sample, { method: 'kmeans' }); // warm-up: variables and kernels
    await expectNoLeakedTensors(async () => {
      const report = await initializeWithinLayers(model, sample, { method: 'kmeans' }, { progress: (e) => events.push(e), logger: createMemoryLogger() });
      for (const l of report.layers) {
        expect(l.seconds).toBeGreaterThanOrEqual(0);
        expect(l.rows).toBeGreaterThan(0);
        expect(l.outStdBefore).toBeGreaterThan(0);
        expect(Math.abs((l.outStd as number) - 1)).toBeLessThan(TOLERANCE);
        expect(l.fallback).toBeNull();
      }
    });
    expect(events.filter((e) => e.phase === 'advance').map((e) => e.item)).toEqual(['conv1', 'conv2', 'proj', 'conv3', 'fc']);
    expect(events.every((e) => e.task === 'within-layer')).toBe(true);
    sample.dispose();
  });

  it('residual rescale: every Add output has unit variance per channel', async () => {
    for (const batchNorm of [true, false]) {
      const model = buildModel('resnet-small', { seed: 1, blocksPerStage: 1, baseChannels: 8, batchNorm, inputShape: [16, 16, 3] });
      const sample = smoothImages(12, [16, 16, 3], 4);
      const report = await initializeWithinLayers(model, sample, { method: 'orthogonal', residualRescale: true });
      expect(report.residualMerges.map((m) => m.name)).toEqual(['s1b1_add', 's2b1_add', 's3b1_add']);
      for (const m of report.residualMerges) {
        expect(m.unsolvedChannels).toBe(0);
        expect(Math.abs(m.outStd - 1)).toBeLessThan(TOLERANCE);
      }
      sample.dispose();
    }
  });

  it('the result does not depend on the starting kernels: a model built with zeros ends bit-identical to one built He-normal', async () => {
    const sample = smoothImages(12, [16, 16, 3], 6);
    for (const [method, batchNorm] of [
      ['kmeans', false],
      ['orthogonal', true],
    ] as const) {
      const options = { seed: 2, blocksPerStage: 1, baseChannels: 8, batchNorm, inputShape: [16, 16, 3] as [number, number, number] };
      const he = buildModel('resnet-small', options);
      const zeros = buildModel('resnet-small', { ...options, initialWeights: 'zeros' });
      const init = { ...FAST, method, seed: 5, residualRescale: true };
      const [a, b] = [await initializeWithinLayers(he, sample, init), await initializeWithinLayers(zeros, sample, init)];
      expect(b.layers.map((l) => [l.name, l.outStd])).toEqual(a.layers.map((l) => [l.name, l.outStd]));
      he.weights.forEach((w, i) => expect(Array.from(zeros.weights[i].read().dataSync()), w.originalName).toEqual(Array.from(w.read().dataSync())));
      he.dispose();
      zeros.dispose();
    }
    sample.dispose();
  });
});
