import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { initializeWithinLayers } from './initialize-within-layers';
import { measureInvariants, smoothImages } from './testing/check-invariants';

beforeAll(async () => {
  await useBackend('wasm');
});

/** strided conv → dilated conv → depthwise (×2) → separable → transposed (stride 2) → 1×1 conv. */
function kindsModel(): tf.LayersModel {
  const input = tf.input({ shape: [12, 12, 3] });
  let x = tf.layers.conv2d({ name: 'strided', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ name: 'dilated', filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ name: 'depthwise', kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ name: 'separable', filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2dTranspose({ name: 'transposed', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
    .apply(x) as tf.SymbolicTensor;
  const out = tf.layers.conv2d({ name: 'head', filters: 4, kernelSize: 1 }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('layer kinds: strided and dilated conv, depthwise, separable, transposed', () => {
  for (const method of ['gaussian', 'orthogonal', 'pca', 'kmeans', 'patches'] as const) {
    it(`${method}: unit pre-activations (transposed: gaussian by rule)`, async () => {
      const model = kindsModel();
      const sample = smoothImages(16, [12, 12, 3], 3);
      const report = await initializeWithinLayers(model, sample, { method, layers: [{ kind: 'transposed', method: 'gaussian' }] });
      expect(report.layers.map((l) => l.method)).toEqual([method, method, method, method, 'gaussian', method]);
      for (const d of measureInvariants(model, sample, report)) {
        expect(d.mean, d.layer).toBeLessThan(1e-3);
        expect(d.std, d.layer).toBeLessThan(1e-3);
      }
      sample.dispose();
    });
  }

  it('a data-dependent source on a transposed convolution is a ConfigError naming the layer', async () => {
    const model = kindsModel();
    const sample = smoothImages(4, [12, 12, 3], 3);
    await expect(initializeWithinLayers(model, sample, { method: 'kmeans' })).rejects.toThrow(ConfigError);
    await expect(initializeWithinLayers(model, sample, { method: 'kmeans' })).rejects.toThrow(
      /^layer transposed: a transposed convolution supports only data-free sources/,
    );
    sample.dispose();
  });
});
