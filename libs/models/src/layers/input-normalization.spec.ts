import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { InputNormalization } from './input-normalization';

beforeAll(async () => {
  await useBackend('wasm');
});

const RGB = { scale: 1 / 255, mean: [0.5, 0.25, 0.75], std: [0.2, 0.1, 0.4] };

describe('InputNormalization', () => {
  it('computes (x·scale − mean[c]) / std[c] per channel on raw 0–255 pixels, without leaking', async () => {
    const layer = new InputNormalization({ ...RGB, name: 'norm' });
    const pixels = [0, 255, 128, 64, 32, 200];
    const x = tf.tensor4d(pixels, [1, 1, 2, 3], 'int32');
    await expectNoLeakedTensors(() => {
      const y = layer.apply(x) as tf.Tensor;
      const got = Array.from(y.dataSync());
      y.dispose();
      const want = pixels.map((p, i) => (p / 255 - (RGB.mean[i % 3] ?? NaN)) / (RGB.std[i % 3] ?? NaN));
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i] ?? NaN, 5));
    });
    x.dispose();
  });

  it('survives a model.json round trip with its statistics and adds no weights', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const model = tf.model({ inputs: input, outputs: new InputNormalization({ ...RGB, name: 'norm' }).apply(input) as tf.SymbolicTensor });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    if (!saved) throw new Error('tfjs saved nothing');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const layer = loaded.layers[1] as InputNormalization;
    expect(layer.getClassName()).toBe('InputNormalization');
    expect({ scale: layer.scale, mean: layer.mean, std: layer.std }).toEqual(RGB);
    expect(loaded.weights).toHaveLength(0);
    model.dispose();
    loaded.dispose();
  });

  it('refuses a non-positive std, mismatched lengths and a channel count the input lacks, naming the layer', () => {
    expect(() => new InputNormalization({ ...RGB, std: [0.2, 0, 0.4], name: 'n1' })).toThrow(/layer n1, channel 1/);
    expect(() => new InputNormalization({ ...RGB, mean: [0.5], name: 'n2' })).toThrow(ConfigError);
    const layer = new InputNormalization({ ...RGB, name: 'n3' });
    expect(() => layer.apply(tf.input({ shape: [4, 4, 1] }))).toThrow(/layer n3.*expected 3, got 1/);
  });
});
