import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, NumericalError, Rng, createMemoryLogger } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildFixtureModel } from '@ddinit/models/testing';
import { initializeWithinLayers } from './initialize-within-layers';
import { redrawOutputChannels } from './output-channels';
import { measureInvariants, smoothImages } from './testing/check-invariants';

beforeAll(async () => {
  await useBackend('wasm');
});

/** input [4] → dense `fc` (units, relu) → dense `out` (2). */
function denseModel(units: number): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const hidden = tf.layers.dense({ name: 'fc', units, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tf.layers.dense({ name: 'out', units: 2 }).apply(hidden) as tf.SymbolicTensor });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('fallbacks and errors', () => {
  it('too few rows: a DataError naming the layer and the counts, and no leak', async () => {
    const model = buildFixtureModel('sequential', 0);
    const sample = smoothImages(8, [10, 10, 3], 1); // fc1 has 16 units, 8 rows
    await initializeWithinLayers(model, sample, { method: 'gaussian' });
    await expectNoLeakedTensors(async () => {
      const error = await rejection(initializeWithinLayers(model, sample, { method: 'kmeans' }));
      expect(error).toBeInstanceOf(DataError);
      expect(error.message).toMatch(
        /^layer fc1: too few patch rows for 16 kmeans filters .*\(expected at least 16 rows, got 8 rows \(8 positions in the sample\)\)/,
      );
    });
    sample.dispose();
  });

  it('too few rows with a fallback: logged with layer and counts, recorded in the stats', async () => {
    const model = buildFixtureModel('sequential', 0);
    const sample = smoothImages(8, [10, 10, 3], 1);
    const logger = createMemoryLogger();
    const report = await initializeWithinLayers(model, sample, { method: 'patches', fallback: { onTooFewRows: 'gaussian' } }, { logger });
    const fc1 = report.layers.find((l) => l.name === 'fc1');
    expect(fc1).toMatchObject({ method: 'gaussian', fallback: 'too few patch rows (8 < 16 filters per group) → gaussian', rows: 0 });
    expect(report.layers.find((l) => l.name === 'conv1')).toMatchObject({ method: 'patches', fallback: null });
    const warnings = logger.records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].fields).toMatchObject({ layer: 'fc1', rows: 8, filters: 16, fallback: 'gaussian' });
    for (const d of measureInvariants(model, sample, report)) expect(d.std).toBeLessThan(1e-3);
    sample.dispose();
  });

  it('degenerate covariance: NumericalError, or the configured fallback', async () => {
    const model = denseModel(3);
    // Rank 2 inputs in 4 dimensions: pca needs 3 components.
    const sample = tf.tidy(() => tf.matMul(tf.randomNormal([64, 2], 0, 1, 'float32', 1), tf.randomNormal([2, 4], 0, 1, 'float32', 2)));
    const error = await rejection(initializeWithinLayers(model, sample, { method: 'pca' }));
    expect(error).toBeInstanceOf(NumericalError);
    expect(error.message).toMatch(/^layer fc: degenerate patch covariance for pca .*\(expected at least 3 eigenvalues ≥ 0.000001, got 2\)/);
    const logger = createMemoryLogger();
    const report = await initializeWithinLayers(
      model,
      sample,
      { method: 'pca', fallback: { onDegenerate: 'orthogonal' }, layers: [{ match: 'out', method: 'gaussian' }] },
      { logger },
    );
    expect(report.layers[0]).toMatchObject({ name: 'fc', method: 'orthogonal', fallback: 'degenerate patch covariance (rank 2 < 3) → orthogonal' });
    expect(logger.records.some((r) => r.level === 'warn' && r.fields?.['layer'] === 'fc' && r.fields?.['rank'] === 2)).toBe(true);
    sample.dispose();
  });

  it('dead channels: NumericalError, also after the configured re-draws when they stay dead', async () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ name: 'fc', units: 3 }).apply(input) as tf.SymbolicTensor });
    const constant = tf.ones([16, 4]); // every channel is constant whatever is drawn
    const error = await rejection(initializeWithinLayers(model, constant, { method: 'gaussian' }));
    expect(error).toBeInstanceOf(NumericalError);
    expect(error.message).toMatch(
      /^layer fc: dead output channels \(σ ≈ 0 on the sample\) \(expected σ_i > 0.00001 × mean σ for every channel, got channels 0, 1, 2 \(3 of 3\)\)/,
    );
    const logger = createMemoryLogger();
    const stillDead = await rejection(
      initializeWithinLayers(model, constant, { method: 'gaussian', deadChannels: { policy: 'redraw', maxRedraws: 2 } }, { logger }),
    );
    expect(stillDead).toBeInstanceOf(NumericalError);
    expect(stillDead.message).toMatch(/^layer fc: dead output channels \(σ ≈ 0 on the sample\) after 2 re-draws .*\(3 of 3\)/);
    expect(logger.records.filter((r) => r.level === 'warn' && /3 dead channel\(s\), re-drawing/.test(r.message))).toHaveLength(2);
    constant.dispose();
  });

  it('dead channels: a re-draw brings them back and the layer is normalized like any other', async () => {
    // 12 of 16 sample rows sit exactly at the mean: their whitened rows are zero, so a
    // `patches` filter picked from one of them gives a channel that is 0 on every row.
    const input = tf.input({ shape: [2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ name: 'fc', units: 2 }).apply(input) as tf.SymbolicTensor });
    const rows = [[1, 0], [-1, 0], [0, 1], [0, -1], ...Array.from({ length: 12 }, () => [0, 0])];
    const sample = tf.tensor2d(rows);
    const options = { method: 'patches' as const, seed: 3 };
    const error = await rejection(initializeWithinLayers(model, sample, options));
    expect(error).toBeInstanceOf(NumericalError);
    expect(error.message).toMatch(/^layer fc: dead output channels/);
    const logger = createMemoryLogger();
    const report = await initializeWithinLayers(model, sample, { ...options, beta: 0.5, deadChannels: { policy: 'redraw' } }, { logger });
    const fc = report.layers[0];
    expect(fc.deadChannelRedraws).toBeGreaterThanOrEqual(1);
    expect(logger.records.some((r) => r.level === 'warn' && /dead channel\(s\), re-drawing them \(attempt 1\)/.test(r.message))).toBe(true);
    expect(fc.worstMeanDeviation).toBeLessThan(1e-3);
    expect(fc.worstStdDeviation).toBeLessThan(1e-3);
    // Measured again from the written weights, not from the driver's report.
    const { mean, variance } = tf.tidy(() => tf.moments(model.predict(sample) as tf.Tensor, 0));
    const std = Array.from(variance.dataSync(), Math.sqrt);
    expect(Array.from(mean.dataSync()).every((m) => Math.abs(m - 0.5) < 1e-3)).toBe(true);
    expect(std.every((v) => Math.abs(v - 1) < 1e-3)).toBe(true);
    tf.dispose([sample, mean, variance]);
  });

  it("re-drawing replaces exactly the dead channels' filters (every layout)", () => {
    const conv = { role: 'kernel' as const, layout: 'conv' as const, shape: [2, 2, 3, 4], groups: 1 };
    const kernel = tf.zeros(conv.shape);
    const redrawn = redrawOutputChannels(kernel, conv, [1, 3], Rng.fromSeed(1));
    const perChannel = tf.sum(tf.abs(redrawn), [0, 1, 2]).arraySync() as number[];
    expect(perChannel.map((v) => v > 0)).toEqual([false, true, false, true]);
    const transposed = { role: 'kernel' as const, layout: 'transposed' as const, shape: [2, 2, 4, 3], groups: 1 };
    const t = redrawOutputChannels(tf.zeros(transposed.shape), transposed, [2], Rng.fromSeed(1));
    expect((tf.sum(tf.abs(t), [0, 1, 3]).arraySync() as number[]).map((v) => v > 0)).toEqual([false, false, true, false]);
    tf.dispose([kernel, redrawn, t]);
  });

  it('configuration errors name the layer or the option', async () => {
    const model = buildFixtureModel('sequential', 0);
    const sample = smoothImages(24, [10, 10, 3], 1);
    const cases: [unknown, RegExp][] = [
      [{ method: 'zca' }, /^layer conv1: zca needs as many filters as patch elements .*\(expected N = F = 27, got N = 6\)/],
      [
        { layers: [{ match: 'conv9', method: 'pca' }] },
        /^within-layer options layers\[0\]: a layer rule matches no parameter layer \(expected a name, glob or \/regex\/ of one of conv1, conv2, fc1, fc2, got conv9\)/,
      ],
      [{ layers: [{ match: 'dense*' }] }, /matches no parameter layer .*got dense\*/],
      [{ layers: [{ kind: 'depthwise', skip: true }] }, /matches no parameter layer .*got kind depthwise/],
      [{ initializeFrom: 'fc9' }, /^within-layer options initializeFrom: initializeFrom names no parameter layer/],
      [{ method: 'kmeanz' }, /invalid within-layer options/],
      [{ beta: 0, extra: 1 }, /invalid within-layer options[\s\S]*extra/],
      [{ layers: [{ method: 'pca' }] }, /a layer rule needs `match` or `kind`/],
    ];
    for (const [options, message] of cases) {
      const error = await rejection(initializeWithinLayers(model, sample, options as never));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(message);
    }
    sample.dispose();
  });
});
