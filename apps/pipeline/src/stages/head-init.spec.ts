import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { createHead } from '@ddinit/eval';
import { firstHeadLayer, initializeHeadFromData, priorBiasRules } from './head-init';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A trunk whose features are ~100× too large for a head drawn for unit inputs (as after calibration). */
function loudTrunk(): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = tf.layers.conv2d({
    name: 'conv',
    filters: 6,
    kernelSize: 3,
    activation: 'relu',
    kernelInitializer: tf.initializers.randomNormal({ stddev: 300, seed: 3 }),
  });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv.apply(input)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: pooled, name: 'trunk' });
}

function withHead(trunk: tf.LayersModel): tf.LayersModel {
  const hidden = tf.layers.dense({ name: 'head_fc', units: 5, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 4 }) });
  const logits = tf.layers.dense({ name: 'head_logits', units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) });
  return tf.model({ inputs: trunk.inputs, outputs: logits.apply(hidden.apply(trunk.outputs[0])) as tf.SymbolicTensor });
}

describe('a head initialized from data', () => {
  it('starts every logit at mean 0 and std 1 on the batch, and leaves the trunk as it was', async () => {
    const trunk = loudTrunk();
    const model = withHead(trunk);
    const batch = tf.randomUniform([64, 8, 8, 3], 0, 1, 'float32', 7);
    const trunkBefore = trunk.getWeights().map((w) => w.dataSync().slice());
    const before = tf.tidy(() => tf.moments(model.predict(batch) as tf.Tensor, 0));
    expect(Math.sqrt(Math.max(...before.variance.dataSync()))).toBeGreaterThan(10);
    tf.dispose([before.mean, before.variance]);

    await expectNoLeakedTensors(async () => {
      expect(firstHeadLayer(model, trunk)).toBe('head_fc');
      expect(await initializeHeadFromData(model, trunk, batch, 1)).toEqual(['head_fc', 'head_logits']);
    });

    const after = tf.tidy(() => tf.moments(model.predict(batch) as tf.Tensor, 0));
    for (const std of after.variance.dataSync()) expect(Math.sqrt(std)).toBeCloseTo(1, 3);
    for (const mean of after.mean.dataSync()) expect(Math.abs(mean)).toBeLessThan(1e-3);
    trunk.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(trunkBefore[i])));
    tf.dispose([after.mean, after.variance, batch]);
    model.dispose();
  });

  it("keeps a prior drawn into a bias as that unit's mean: the detection head's objectness starts at ln(π/(1 − π)), π = 0.01, with std 1", async () => {
    const trunk = loudTrunk();
    const model = createHead('detect', { classes: 3, seed: 2, featureLayer: 'conv' }).model(trunk);
    const prior = Math.log(0.01 / 0.99);
    expect(priorBiasRules(model, trunk)).toEqual([{ match: 'detect_objectness', beta: expect.closeTo(prior, 5) }]);
    const batch = tf.randomUniform([32, 8, 8, 3], 0, 1, 'float32', 8);
    await expectNoLeakedTensors(async () => {
      expect(await initializeHeadFromData(model, trunk, batch, 1)).toEqual(['detect_hidden', 'detect_objectness', 'detect_box', 'detect_class']);
    });
    // Output channels per cell: objectness, 4 box values, 3 class logits; moments over images and cells.
    const { mean, variance } = tf.tidy(() => tf.moments(model.predict(batch) as tf.Tensor, [0, 1, 2]));
    const means = mean.dataSync();
    const stds = Array.from(variance.dataSync(), Math.sqrt);
    expect(means[0]).toBeCloseTo(prior, 3);
    for (let c = 1; c < means.length; c++) expect(Math.abs(means[c]), `channel ${c}`).toBeLessThan(1e-3);
    for (const std of stds) expect(std).toBeCloseTo(1, 3);
    tf.dispose([mean, variance, batch]);
    model.dispose();
  });
});
