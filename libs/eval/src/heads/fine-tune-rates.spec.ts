import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel } from '@ddinit/models';
import { trainModel } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationHead } from './classification-head';
import type { HeadBatch } from './downstream-head';
import { fineTuneRates, layersInOrder } from './fine-tune-rates';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads
});

describe('fine-tune rates', () => {
  it('freeze every layer with weights before trainFrom, in topological order, ahead of the caller’s own rates', () => {
    const model = buildModel('caffenet-small', { seed: 1 });
    expect(fineTuneRates(model, { trainFrom: 'fc6', layerRates: [{ match: 'fc*', multiplier: 10 }] })).toEqual([
      ...['conv1', 'conv2', 'conv3', 'conv4', 'conv5'].map((match) => ({ match, multiplier: 0 })),
      { match: 'fc*', multiplier: 10 },
    ]);
    expect(fineTuneRates(model, { trainFrom: 'conv1' })).toEqual([]);
    expect(fineTuneRates(model, { trainFrom: null, layerRates: [{ match: 'conv1', multiplier: 0.1 }] })).toEqual([{ match: 'conv1', multiplier: 0.1 }]);
    // A layer without weights may start the trained part: pool5 freezes conv1…conv5 as fc6 does.
    expect(fineTuneRates(model, { trainFrom: 'pool5' })).toEqual(fineTuneRates(model, { trainFrom: 'fc6' }));
    model.dispose();
  });

  it('name the qualified layers of a nested model as @ddinit/train does', () => {
    const inner = tf.sequential({
      name: 'inner',
      layers: [tf.layers.dense({ name: 'a', units: 2, inputShape: [3] }), tf.layers.dense({ name: 'b', units: 2 })],
    });
    const outer = tf.sequential({ name: 'outer', layers: [inner, tf.layers.dense({ name: 'c', units: 1 })] });
    expect(layersInOrder(outer).map((l) => l.name)).toEqual(['inner/a', 'inner/b', 'c']);
    expect(fineTuneRates(outer, { trainFrom: 'inner/b' })).toEqual([{ match: 'inner/a', multiplier: 0 }]);
    outer.dispose();
  });

  it('refuse a layer the model does not have, listing its layers', () => {
    const model = buildModel('caffenet-small', { seed: 1 });
    expect(() => fineTuneRates(model, { trainFrom: 'fc9' })).toThrow(ConfigError);
    expect(() => fineTuneRates(model, { trainFrom: 'fc9' })).toThrow(/trainFrom: no such layer to train from \(expected one of data, conv1, .*fc8, got fc9\)/);
    model.dispose();
  });

  it('leave the frozen layers exactly as they were while the others train', async () => {
    await expectNoLeakedTensors(async () => {
      const trunk = buildModel('caffenet-small', { seed: 1 });
      const head = classificationHead({ classes: 10, seed: 1 });
      const model = head.model(trunk);
      const before = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync().slice()]));
      async function* batches(): AsyncGenerator<HeadBatch> {
        for (let step = 0; ; step++) {
          yield tf.tidy(() => ({
            images: tf.randomNormal([8, 28, 28, 1], 0, 1, 'float32', step + 1) as tf.Tensor4D,
            labels: tf.tensor1d(
              Array.from({ length: 8 }, (_, i) => (i + step) % 10),
              'int32',
            ),
          }));
        }
      }
      const layerRates = fineTuneRates(model, { trainFrom: 'fc7' });
      await trainModel(
        model,
        head.objective,
        { steps: 3, learningRate: 0.05, layerRates, checkpointEvery: 0 },
        { data: batches, release: (b) => tf.dispose([b.images, b.labels as tf.Tensor]) },
      );
      for (const w of model.weights) {
        const moved = w
          .read()
          .dataSync()
          .some((v, i) => v !== before.get(w.originalName)?.[i]);
        const layer = w.originalName.split('/')[0];
        expect(moved, w.originalName).toBe(['fc7', 'fc8', 'classify_logits'].includes(layer));
      }
      model.dispose();
    });
  });
});
