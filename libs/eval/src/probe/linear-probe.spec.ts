import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import type { LabelledBatch } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { FeatureTaps } from './feature-taps';
import { trainLinearProbes } from './linear-probe';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads
});

function trunk(): tf.LayersModel {
  return tf.sequential({
    name: 'tiny',
    layers: [
      tf.layers.conv2d({
        name: 'conv1',
        inputShape: [16, 16, 1],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tf.layers.conv2d({ name: 'conv2', filters: 12, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ name: 'fc', units: 32, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }),
    ],
  });
}

/** Masks of the four 8×8 quadrants of a 16×16 image: `[4, 16, 16, 1]`. */
const QUADRANTS = Array.from({ length: 4 * 256 }, (_, i) => {
  const [q, y, x] = [Math.floor(i / 256), Math.floor((i % 256) / 16), i % 16];
  return Number(Math.floor(y / 8) === Math.floor(q / 2) && Math.floor(x / 8) === q % 2);
});

/** Noise with one brighter quadrant; the class is the quadrant (4 classes, linearly separable by where the light is). */
function quadrants(n: number, seed: number): LabelledBatch {
  return tf.tidy(() => {
    const labels = tf.randomUniformInt([n], 0, 4, seed);
    const bright = tf.gather(tf.tensor4d(QUADRANTS, [4, 16, 16, 1]), labels);
    return { inputs: tf.add(tf.randomUniform([n, 16, 16, 1], 0, 1, 'float32', seed), tf.mul(bright, 0.5)), labels: tf.oneHot(labels, 4) };
  });
}

async function* batches(from: number): AsyncGenerator<LabelledBatch> {
  for (let step = from; ; step++) yield quadrants(32, step + 1);
}
const release = (b: LabelledBatch) => tf.dispose([b.inputs, b.labels]);
const train = { steps: 80, optimizer: 'momentum', learningRate: 0.02, weightDecay: 0 } as const;

describe('linear probes on a frozen trunk', () => {
  it('reach high accuracy on a separable set at every probed layer, leave the trunk unchanged and leak no tensor', async () => {
    const base = trunk();
    const before = base.getWeights().map((w) => w.dataSync().slice());
    const test = quadrants(256, 99_999);
    await expectNoLeakedTensors(async () => {
      const probes = await trainLinearProbes(base, { layers: ['conv1', 'conv2', 'fc'], classes: 4, seed: 1, train }, { data: batches, release });
      expect(probes.layers.map((l) => [l.layer, l.pooled, l.features])).toEqual([
        ['conv1', [9, 9], 648], // budget round(9000 · 16/227) = 634: side round(√(634/8)) = 9 of the 14×14 map
        ['conv2', [5, 5], 300], // side round(√(634/12)) = 7, capped by the 5×5 map

        ['fc', null, 32],
      ]);
      const results = await probes.evaluate([test]);
      for (const r of results) expect(r.accuracy, r.layer).toBeGreaterThan(0.9); // chance 0.25; measured 1, 1, 1
      expect(probes.training.steps.at(-1)?.metrics['accuracy:conv2']).toBeGreaterThan(0.8);
      probes.dispose();
    });
    base.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i])));
    release(test);
  });

  it('train each probe exactly as if it were trained alone on the same batches', async () => {
    const base = trunk();
    const together = await trainLinearProbes(
      base,
      { layers: ['conv1', 'conv2'], classes: 4, seed: 1, train: { ...train, steps: 10 } },
      { data: batches, release },
    );
    const alone = await trainLinearProbes(base, { layers: ['conv2'], classes: 4, seed: 1, train: { ...train, steps: 10 } }, { data: batches, release });
    const test = quadrants(64, 12345);
    const [conv1Together, conv2Together] = together.predict(test.inputs);
    conv1Together.dispose();
    const [conv2Alone] = alone.predict(test.inputs);
    expect(relativeError(conv2Together.dataSync(), conv2Alone.dataSync())).toBeLessThan(1e-5);
    expect(together.training.steps.map((s) => s.metrics['accuracy:conv2'])).toEqual(alone.training.steps.map((s) => s.metrics['accuracy:conv2']));
    // Evaluation uses the running statistics, not the batch's: one image alone gets the logits it gets in a batch.
    const first = tf.slice(test.inputs, 0, 1);
    const [single] = alone.predict(first);
    expect(relativeError(single.dataSync(), conv2Alone.dataSync().slice(0, 4))).toBeLessThan(1e-5);
    tf.dispose([first, single]);
    tf.dispose([conv2Together, conv2Alone]);
    together.dispose();
    alone.dispose();
    release(test);
  });

  it('resume from a checkpoint to the weights of an uninterrupted run', async () => {
    const base = trunk();
    const options = { layers: ['conv1', 'fc'], classes: 4, seed: 1, train: { ...train, steps: 8, checkpointEvery: 4 } };
    const checkpoints = new Map<number, Uint8Array>();
    const whole = await trainLinearProbes(base, options, { data: batches, release, onCheckpoint: async (bytes, step) => void checkpoints.set(step, bytes) });
    // Another seed: only the checkpoint's weights can make the two agree.
    const resumed = await trainLinearProbes(
      base,
      { ...options, seed: 2 },
      { data: batches, release, resume: { bytes: checkpoints.get(4) as Uint8Array, where: 'step 4' } },
    );
    expect(resumed.training.resumedFrom).toBe(4);
    const test = quadrants(16, 777);
    const [a, b] = [whole.predict(test.inputs), resumed.predict(test.inputs)];
    a.forEach((logits, i) => expect(relativeError(b[i].dataSync(), logits.dataSync())).toBeLessThan(1e-5));
    tf.dispose([...a, ...b]);
    whole.dispose();
    resumed.dispose();
    release(test);
  });

  it('tap a layer of a nested model (a published model behind its input normalization) by its qualified name', async () => {
    const base = trunk();
    const images = tf.input({ shape: [16, 16, 1] });
    const scaled = tf.layers.dense({ name: 'scale', units: 1, useBias: false, kernelInitializer: 'ones' }).apply(images) as tf.SymbolicTensor;
    const wrapped = tf.model({ inputs: images, outputs: base.apply(scaled) as tf.SymbolicTensor, name: 'wrapped' });
    const test = quadrants(8, 5);
    const [[a], [b]] = [new FeatureTaps(wrapped, ['tiny/conv2']).features(test.inputs), new FeatureTaps(base, ['conv2']).features(test.inputs)];
    expect(relativeError(a.dataSync(), b.dataSync())).toBeLessThan(1e-6); // the scale layer is the identity
    tf.dispose([a, b]);
    release(test);
    const options = { layers: ['tiny/conv2'], classes: 4, seed: 1, train: { ...train, steps: 3 } };
    const nested = await trainLinearProbes(wrapped, options, { data: batches, release });
    expect(nested.layers).toEqual([{ layer: 'tiny/conv2', outputShape: [5, 5, 12], pooled: [5, 5], features: 300 }]);
    nested.dispose();
    await expect(trainLinearProbes(wrapped, { ...options, layers: ['tiny/conv7'] }, { data: batches, release })).rejects.toThrow(
      /expected one of input\d*, scale, tiny, tiny\/conv1, tiny\/pool1, tiny\/conv2, tiny\/flat, tiny\/fc, got tiny\/conv7/,
    );
  });

  it("names the trunk's layers when asked for one it does not have, and refuses labels of another class count", async () => {
    const base = trunk();
    const options = { layers: ['conv1', 'conv9'], classes: 4, seed: 1, train };
    await expectNoLeakedTensors(async () => {
      await expect(trainLinearProbes(base, options, { data: batches, release })).rejects.toThrow(ConfigError);
      await expect(trainLinearProbes(base, options, { data: batches, release })).rejects.toThrow(
        /layers: no such layer in the trunk \(expected one of conv1, pool1, conv2, flat, fc, got conv9\)/,
      );
      await expect(trainLinearProbes(base, { ...options, layers: ['conv1', 'conv1'] }, { data: batches, release })).rejects.toThrow(/a layer is named twice/);
      const wrongClasses = trainLinearProbes(base, { ...options, layers: ['conv1'], classes: 5 }, { data: batches, release });
      await expect(wrongClasses).rejects.toThrow(DataError);
    });
  });
});
