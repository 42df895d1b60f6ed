import * as tf from '@tensorflow/tfjs';
import { NumericalError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationObjective, type LabelledBatch } from './classification';
import { Trainer, type StepRecord } from './trainer';
import { trainOptionsSchema, type TrainOptionsInput } from './train-options';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads; tensors are counted instead
});

/** dense(4→3, relu) → dense(3→2): small enough for hand-checked updates. */
function tinyModel(seed = 1): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        name: 'hidden',
        inputShape: [4],
        units: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotNormal({ seed }),
        biasInitializer: tf.initializers.constant({ value: 0.1 }),
      }),
      tf.layers.dense({ name: 'out', units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }),
    ],
  });
}

function batch(seed: number, n = 8): LabelledBatch {
  return tf.tidy(() => {
    const inputs = tf.randomNormal([n, 4], 0, 1, 'float32', seed);
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: n }, (_, i) => (i + seed) % 2),
        'int32',
      ),
      2,
    );
    return { inputs, labels };
  });
}

const options = (over: Partial<TrainOptionsInput> = {}) => trainOptionsSchema.parse({ steps: 10, weightDecay: 0, ...over });
const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

/** Gradients of the classification loss, by weight index, computed by tfjs directly (the oracle). */
function oracleGradients(model: tf.LayersModel, b: LabelledBatch): Float32Array[] {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => classificationObjective(model, b).loss, variables);
  const out = variables.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('Trainer', () => {
  it('plain SGD: w ← w − η·g, L2 decay adds λ·w to g, decoupled decay equals it, frozen layers stay', () => {
    for (const mode of ['l2', 'decoupled'] as const) {
      const model = tinyModel();
      const b = batch(3);
      const before = weightsOf(model);
      const grads = oracleGradients(model, b);
      const trainer = new Trainer(model, classificationObjective, options({ optimizer: 'sgd', learningRate: 0.5, weightDecay: 0.1, weightDecayMode: mode }));
      trainer.runStep(b);
      const after = weightsOf(model);
      // Kernels are weights 0 and 2 (decayed); biases 1 and 3 (not).
      after.forEach((values, i) => {
        const decay = i % 2 === 0 ? 0.1 : 0;
        values.forEach((v, j) => expect(v).toBeCloseTo(before[i][j] - 0.5 * (grads[i][j] + decay * before[i][j]), 5));
      });
      trainer.dispose();
      tf.dispose([b.inputs, b.labels]);
      model.dispose();
    }
  });

  it("a layer multiplier scales that layer's update; multiplier 0 freezes it", () => {
    const model = tinyModel();
    const b = batch(4);
    const before = weightsOf(model);
    const grads = oracleGradients(model, b);
    const trainer = new Trainer(
      model,
      classificationObjective,
      options({
        optimizer: 'sgd',
        learningRate: 0.2,
        layerRates: [
          { match: 'hid*', multiplier: 0 },
          { match: 'out', multiplier: 0.5 },
        ],
      }),
    );
    trainer.runStep(b);
    const after = weightsOf(model);
    expect(after[0]).toEqual(before[0]);
    expect(after[1]).toEqual(before[1]);
    after[2].forEach((v, j) => expect(v).toBeCloseTo(before[2][j] - 0.1 * grads[2][j], 6));
    trainer.dispose();
    tf.dispose([b.inputs, b.labels]);
    model.dispose();
    expect(() => new Trainer(tinyModel(), classificationObjective, options({ layerRates: [{ match: 'hiden', multiplier: 0 }] }))).toThrow(
      /layerRates match 'hiden': a layer learning rate matches no trainable layer \(expected one of hidden, out/,
    );
  });

  it('clips the global gradient norm to the limit', () => {
    const model = tinyModel();
    const b = batch(5);
    const before = weightsOf(model);
    const grads = oracleGradients(model, b);
    const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
    const trainer = new Trainer(model, classificationObjective, options({ optimizer: 'sgd', learningRate: 1, clipGradientNorm: norm / 4 }));
    const record = trainer.runStep(b);
    expect(record.clipped).toBe(true);
    expect(record.gradientNorm).toBeCloseTo(norm, 4);
    const after = weightsOf(model);
    after.forEach((values, i) => values.forEach((v, j) => expect(v).toBeCloseTo(before[i][j] - grads[i][j] / 4, 5)));
    trainer.dispose();
    tf.dispose([b.inputs, b.labels]);
    model.dispose();
  });

  it('takes the squares of the gradients for the norm and the guard in one kernel on wasm, not one Sum and Square per weight', async () => {
    const model = tinyModel();
    const b = batch(6);
    const grads = oracleGradients(model, b);
    const norm = Math.sqrt(grads.reduce((s, g) => s + g.reduce((a, v) => a + v * v, 0), 0));
    const trainer = new Trainer(model, classificationObjective, options({ optimizer: 'sgd', weightDecay: 0 }));
    let record: StepRecord | undefined;
    const profile = await tf.profile(() => {
      record = trainer.runStep(b);
    });
    const calls = (name: string) => profile.kernels.filter((k) => k.name === name).length;
    expect(calls('DdinitSumsOfSquares')).toBe(1);
    expect(calls('Square')).toBe(0);
    expect(record?.gradientNorm).toBeCloseTo(norm, 5);
    trainer.dispose();
    tf.dispose([b.inputs, b.labels]);
    model.dispose();
  });

  it('stops on a non-finite loss or an exploding update, naming the step (and layer), weights untouched', () => {
    const model = tinyModel();
    const trainer = new Trainer(model, classificationObjective, options({ optimizer: 'sgd', learningRate: 0.01 }));
    for (let s = 0; s < 6; s++) {
      const b = batch(10 + s);
      trainer.runStep(b);
      tf.dispose([b.inputs, b.labels]);
    }
    const good = weightsOf(model);
    const nan = { inputs: tf.fill([8, 4], Number.NaN), labels: tf.oneHot(tf.zeros([8], 'int32'), 2) };
    expect(() => trainer.runStep(nan)).toThrow(NumericalError);
    expect(() => trainer.runStep(nan)).toThrow(/^step 6: the loss is not finite/);
    const huge = { inputs: tf.mul(tf.randomNormal([8, 4], 0, 1, 'float32', 99), 1e6), labels: nan.labels };
    expect(() => trainer.runStep(huge)).toThrow(/^step 6, layer (hidden|out): the update diverges/);
    expect(weightsOf(model)).toEqual(good);
    tf.dispose([nan.inputs, nan.labels, huge.inputs]);
    trainer.dispose();
    model.dispose();
  });

  for (const optimizer of ['momentum', 'nesterov', 'adam'] as const) {
    it(`${optimizer}: 6 steps straight equal 3 steps, a checkpoint into a new model and trainer, and 3 more`, async () => {
      const straight = tinyModel();
      const run = new Trainer(
        straight,
        classificationObjective,
        options({ optimizer, learningRate: 0.05, weightDecay: 1e-3, schedule: { kind: 'cosine' }, steps: 6 }),
      );
      const first = tinyModel();
      const half = new Trainer(
        first,
        classificationObjective,
        options({ optimizer, learningRate: 0.05, weightDecay: 1e-3, schedule: { kind: 'cosine' }, steps: 6 }),
      );
      for (let s = 0; s < 6; s++) {
        const b = batch(20 + s);
        run.runStep(b);
        if (s < 3) half.runStep(b);
        tf.dispose([b.inputs, b.labels]);
      }
      const bytes = await half.saveState({ epoch: 0, offset: 3 });
      const resumed = tinyModel(7); // other initial weights: all of them come from the checkpoint
      const second = new Trainer(
        resumed,
        classificationObjective,
        options({ optimizer, learningRate: 0.05, weightDecay: 1e-3, schedule: { kind: 'cosine' }, steps: 6 }),
      );
      expect(await second.restoreState(bytes, 'checkpoint')).toEqual({ step: 3, cursor: { epoch: 0, offset: 3 } });
      for (let s = 3; s < 6; s++) {
        const b = batch(20 + s);
        second.runStep(b);
        tf.dispose([b.inputs, b.labels]);
      }
      expect(weightsOf(resumed)).toEqual(weightsOf(straight));
      [run, half, second].forEach((t) => t.dispose());
      [straight, first, resumed].forEach((m) => m.dispose());
    });
  }

  it('leaks no tensor over many steps and checkpoint saves and restores', async () => {
    const model = tinyModel();
    const b = batch(30);
    const trainer = new Trainer(model, classificationObjective, options({ optimizer: 'adam', steps: 50 }));
    trainer.runStep(b); // creates the optimizer slots
    await expectNoLeakedTensors(async () => {
      for (let s = 0; s < 20; s++) {
        trainer.runStep(b);
        const bytes = await trainer.saveState();
        if (s % 5 === 0) await trainer.restoreState(bytes, 'checkpoint');
      }
    });
    trainer.dispose();
    tf.dispose([b.inputs, b.labels]);
    model.dispose();
  });
});
