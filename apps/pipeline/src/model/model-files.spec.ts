import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelFromFiles, modelToFiles } from './model-files';

beforeAll(async () => {
  await useBackend('wasm');
});

function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 2] });
  const conv = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) })
    .apply(input) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(conv) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('model files', () => {
  it('round-trips a model with identical predictions', async () => {
    const model = smallModel();
    const files = await modelToFiles(model);
    expect([...files.keys()]).toEqual(['model.json', 'weights.bin']);
    expect(files.get('weights.bin')?.byteLength).toBe((3 * 3 * 2 * 3 + 3 + 6 * 6 * 3 * 4 + 4) * 4);
    const loaded = await modelFromFiles(async (name) => {
      const f = files.get(name);
      if (!f) throw new Error(`missing ${name}`);
      return f;
    }, 'memory');
    const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 3);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('names the problem: not JSON, not a layers model, missing or short weights', async () => {
    const files = await modelToFiles(smallModel());
    const reader = (over: Record<string, Uint8Array | undefined>) => async (name: string) => {
      const f = name in over ? over[name] : files.get(name);
      if (!f) throw new Error(`ENOENT ${name}`);
      return f;
    };
    const enc = (s: string) => new TextEncoder().encode(s);
    await expect(modelFromFiles(reader({ 'model.json': enc('{oops') }), '/m/model.json')).rejects.toThrow(/\/m\/model\.json: model\.json is not valid JSON/);
    await expect(modelFromFiles(reader({ 'model.json': enc('{"a":1}') }), 'm')).rejects.toThrow(/lacks modelTopology or weightsManifest.*got a\)/);
    await expect(modelFromFiles(reader({ 'weights.bin': undefined }), 'm')).rejects.toThrow(
      /weight file named by model\.json cannot be read \(expected weights\.bin\)/,
    );
    await expect(modelFromFiles(reader({ 'weights.bin': new Uint8Array(10) }), 'm')).rejects.toThrow(
      /shorter than model\.json says \(expected 1972 bytes, got 10 bytes\)/,
    );
  });
});
