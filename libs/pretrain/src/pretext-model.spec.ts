import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { classificationObjective, trainModel, type LabelledBatch } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { trunkOf, withPretextHead } from './pretext-model';
import { ROTATION_CLASSES, rotationBatch } from './rotation';

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
        inputShape: [12, 12, 1],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
      }),
      tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tf.layers.conv2d({ name: 'conv2', filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }),
      tf.layers.flatten({ name: 'flat' }),
      tf.layers.dense({ name: 'classifier', units: 10, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
    ],
  });
}

/** Noise images with a brighter top-left corner: which way up they are shows in where the corner went. */
function images(n: number, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    const noise = tf.randomUniform([n, 12, 12, 1], 0, 1, 'float32', seed);
    const corner = tf.pad(tf.ones([1, 5, 5, 1]), [
      [0, 0],
      [0, 7],
      [0, 7],
      [0, 0],
    ]);
    return tf.add(noise, tf.mul(corner, 0.8)) as tf.Tensor4D;
  });
}

describe('a pretext model', () => {
  it('learns rotation well above chance (0.25) on images it has not seen, training the shared trunk', async () => {
    const base = trunk();
    const model = withPretextHead(base, { featureLayer: 'conv2', classes: ROTATION_CLASSES, seed: 1 });
    const before = base.getLayer('conv1').getWeights()[0].dataSync().slice();
    async function* data(from: number): AsyncGenerator<LabelledBatch> {
      for (let step = from; ; step++) {
        const x = images(16, step + 1);
        yield rotationBatch(x);
        x.dispose();
      }
    }
    await trainModel(
      model,
      classificationObjective,
      { steps: 60, optimizer: 'momentum', learningRate: 0.05, weightDecay: 0 },
      { data, release: (b) => tf.dispose([b.inputs, b.labels]) },
    );
    const heldOut = images(32, 9999);
    const test = rotationBatch(heldOut);
    const accuracy = tf.tidy(
      () => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(test.inputs) as tf.Tensor, 1), tf.argMax(test.labels, 1)), 'float32')).dataSync()[0],
    );
    expect(accuracy).toBeGreaterThan(0.8);
    // The trunk was trained through the head, and trunkOf returns it without the head.
    expect(Array.from(base.getLayer('conv1').getWeights()[0].dataSync())).not.toEqual(Array.from(before));
    const features = trunkOf(base, 'conv2');
    expect(features.outputs[0].shape).toEqual([null, 3, 3, 8]);
    expect(features.layers.some((l) => l.name === 'pretext_logits')).toBe(false);
    tf.dispose([heldOut, test.inputs, test.labels]);
    expect(() => withPretextHead(base, { featureLayer: 'conv9', classes: 4, seed: 1 })).toThrow(ConfigError);
    expect(() => withPretextHead(base, { featureLayer: 'conv9', classes: 4, seed: 1 })).toThrow(
      /featureLayer: no such layer in the trunk for the pretext head \(expected one of conv1, pool1, conv2, flat, classifier, got conv9\)/,
    );
  });
});
