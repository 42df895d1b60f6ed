import * as tf from '@tensorflow/tfjs';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel } from '@ddinit/models';
import type { LabelledBatch } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { fashionMnistSample, type SampleSplit } from '../testing/fashion-mnist-sample';
import { trainLinearProbes } from './linear-probe';

const CLASSES = 10;
const BATCH = 32;

let train: SampleSplit;
let test: SampleSplit;

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads
  [train, test] = await Promise.all([fashionMnistSample('train'), fashionMnistSample('test')]);
});

/** Images `from … from + count` of a split, scaled to [0, 1], with one-hot labels. */
function slice(split: SampleSplit, from: number, count: number): LabelledBatch {
  return tf.tidy(() => ({
    inputs: tf.div(tf.tensor4d(split.images.subarray(from * 784, (from + count) * 784), [count, 28, 28, 1], 'float32'), 255),
    labels: tf.oneHot(tf.tensor1d(split.labels.subarray(from, from + count), 'int32'), CLASSES),
  }));
}

describe('linear probes on the embedded Fashion-MNIST sample', () => {
  it('beat chance (0.1) clearly at every conv layer of a random caffenet-small, in one pass over the data', async () => {
    const trunk = buildModel('caffenet-small', { seed: 1 });
    const perEpoch = Math.floor(train.examples / BATCH);
    async function* batches(from: number): AsyncGenerator<LabelledBatch> {
      for (let step = from; ; step++) yield slice(train, (step % perEpoch) * BATCH, BATCH);
    }
    await expectNoLeakedTensors(async () => {
      const probes = await trainLinearProbes(
        trunk,
        { layers: ['conv1', 'conv2', 'conv3', 'conv4', 'conv5'], classes: CLASSES, seed: 1, train: { steps: 40, learningRate: 0.01 } },
        { data: batches, release: (b) => tf.dispose([b.inputs, b.labels]) },
      );
      const testBatches = Array.from({ length: 2 }, (_, i) => slice(test, i * 250, 250));
      const results = await probes.evaluate(testBatches);
      tf.dispose(testBatches.flatMap((b) => [b.inputs, b.labels]));
      probes.dispose();
      // Measured (wasm, seed 1): conv1 0.644, conv2 0.682, conv3 0.736, conv4 0.728, conv5 0.730 on 500 test images.
      for (const r of results) expect(r.accuracy, r.layer).toBeGreaterThan(0.5);
    });
  });
});
