/**
 * LSUV specs. IS_TEST is switched off as in calibrate-change-rates.spec.ts (a false
 * leak report of tfjs on wasm); leaks are counted instead.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel, kernelToFilterRows, parameterLayers } from '@ddinit/models';
import { lsuvInitialize } from './lsuv-initialize';
import { orthonormalKernel } from './orthonormal-kernel';
import { capturePreActivations, seededBatch } from './testing';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false);
});

function variance(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let sum = 0;
  for (const v of values) sum += (v - mean) ** 2;
  return sum / values.length;
}

describe('orthonormalKernel', () => {
  it('gives orthonormal filter rows per group (N ≤ F) or orthonormal columns (N > F)', () => {
    const model = buildModel('caffenet-small', { seed: 1 });
    const layers = parameterLayers(model);
    for (const name of ['conv2', 'fc8', 'conv1']) {
      const p = layers.find((q) => q.name === name);
      if (p === undefined || p.kernelLayout === null) throw new Error(name);
      const kernel = orthonormalKernel(p, Rng.fromSeed(1).derive(name));
      const error = tf.tidy(() => {
        const rows = kernelToFilterRows(kernel, p.kernelLayout as 'conv', p.groups); // [g, n, f]
        const [, n, f] = rows.shape;
        const gram = n <= f ? tf.matMul(rows, rows, false, true) : tf.matMul(rows, rows, true, false);
        return tf.max(tf.abs(tf.sub(gram, tf.eye(Math.min(n, f))))).dataSync()[0];
      });
      expect(error).toBeLessThan(1e-5);
      kernel.dispose();
    }
    expect(() => orthonormalKernel({ ...layers[0], kernelLayout: null, kernelShape: null, kind: 'batchnorm' }, Rng.fromSeed(1))).toThrow(ConfigError);
    model.dispose();
  });
});

describe('lsuvInitialize', () => {
  it.each([
    ['vgg-plain-11', { baseChannels: 8 }, [4, 32, 32, 3]],
    ['caffenet-small', {}, [8, 28, 28, 1]],
  ] as const)('brings every layer of %s to unit output variance within the tolerance', (name, options, shape) => {
    const model = buildModel(name, { seed: 2, ...options });
    const x = seededBatch([...shape], 2);
    const result = lsuvInitialize(model, x, { seed: 1, tolerance: 0.05 });
    expect(result.converged).toBe(true);
    expect(result.layers.map((l) => l.layer)).toEqual(parameterLayers(model).map((p) => p.name));
    const { pre } = capturePreActivations(model, x);
    for (const l of result.layers) {
      expect(Math.abs(l.varianceAfter - 1)).toBeLessThan(0.05);
      expect(Math.abs(variance(pre.get(l.layer) as Float32Array) - l.varianceAfter)).toBeLessThan(1e-3);
      expect(l.tries).toBeLessThanOrEqual(10);
    }
    model.dispose();
    x.dispose();
  });

  it('skips batch normalization with a reason, is deterministic, leaks nothing', async () => {
    const build = () => buildModel('resnet-small', { seed: 3, blocksPerStage: 1, baseChannels: 4, inputShape: [8, 8, 3] });
    const x = seededBatch([2, 8, 8, 3], 3);
    const a = build();
    const b = build();
    await expectNoLeakedTensors(() => {
      const result = lsuvInitialize(a, x, { seed: 4 });
      expect(result.skipped.find((s) => s.layer === 'bn1')?.reason).toMatch(/batch normalization/);
    });
    lsuvInitialize(b, x, { seed: 4 });
    const flat = (m: tf.LayersModel) => tf.tidy(() => tf.concat(m.getWeights().map((w) => w.flatten())).dataSync());
    expect(flat(a)).toEqual(flat(b));
    expect(() => lsuvInitialize(a, x, { maxTries: 0 })).toThrow(ConfigError);
    a.dispose();
    b.dispose();
    x.dispose();
  });
});
