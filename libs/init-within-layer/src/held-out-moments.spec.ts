import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildFixtureModel } from '@ddinit/models/testing';
import { measureLayerMoments } from './held-out-moments';
import { initializeWithinLayers } from './initialize-within-layers';
import { smoothImages } from './testing/check-invariants';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('measureLayerMoments', () => {
  it('on the sample itself it reproduces the in-sample mean and std of every layer, without leaks', async () => {
    const model = buildFixtureModel('sequential', 0);
    const sample = smoothImages(48, [10, 10, 3], 1);
    const report = await initializeWithinLayers(model, sample, { method: 'kmeans' });
    await expectNoLeakedTensors(() => {
      const measured = measureLayerMoments(model, sample, report.layers);
      expect(measured.map((m) => m.name)).toEqual(report.layers.map((l) => l.name));
      measured.forEach((m, k) => {
        expect(m.std).toBeCloseTo(report.layers[k].outStd as number, 4);
        expect(m.mean).toBeCloseTo(report.layers[k].outMean as number, 4);
      });
    });
    tf.dispose(sample);
    model.dispose();
  });

  it('measures the batch it is given: the first layer std scales with the input', async () => {
    const model = buildFixtureModel('sequential', 0);
    const sample = smoothImages(32, [10, 10, 3], 1);
    const report = await initializeWithinLayers(model, sample, { method: 'pca' });
    const tripled = tf.mul(sample, 3);
    const measured = measureLayerMoments(model, tripled, report.layers);
    // z = W·(3x) + b: the first layer's per-channel std is exactly 3 times the in-sample one.
    expect(measured[0].std / (report.layers[0].outStd as number)).toBeCloseTo(3, 4);
    tf.dispose([sample, tripled]);
    model.dispose();
  });
});
