import * as tf from '@tensorflow/tfjs';
import { DataError, NumericalError, createMemoryLogger } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { classificationObjective, type LabelledBatch } from './classification';
import { trainModel, type TrainLoop } from './train-loop';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // see trainer.spec.ts
});

function smallConvNet(seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }),
    ],
  });
}

/** The batch of step s: the same for every run, whatever step it starts from. */
function batchAt(step: number, poison = false): LabelledBatch {
  return tf.tidy(() => ({
    inputs: poison ? tf.fill([6, 8, 8, 1], Number.NaN) : tf.randomNormal([6, 8, 8, 1], 0, 1, 'float32', 1000 + step),
    labels: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 6 }, (_, i) => (i + step) % 3),
        'int32',
      ),
      3,
    ),
  }));
}

async function* batches(from: number, options: { delayMs?: number; until?: number; poisonAt?: number } = {}): AsyncGenerator<LabelledBatch> {
  for (let step = from; step < (options.until ?? Infinity); step++) {
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    yield batchAt(step, step === options.poisonAt);
  }
}

const release = (b: LabelledBatch) => tf.dispose([b.inputs, b.labels]);
const OPTIONS = { steps: 8, optimizer: 'momentum', learningRate: 0.05, checkpointEvery: 4, schedule: { kind: 'step', every: 3, gamma: 0.5 } } as const;

describe('trainModel', () => {
  it('interrupted after 4 steps and resumed from its checkpoint, ends with the weights of a straight run', async () => {
    const straight = smallConvNet(1);
    const full = await trainModel(straight, classificationObjective, OPTIONS, { data: (from) => batches(from), release });
    expect(full.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(full.steps.map((s) => s.learningRate)).toEqual([0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125]);

    const stopped = smallConvNet(1);
    const abort = new AbortController();
    const saved: { step: number; bytes: Uint8Array }[] = [];
    const loop: TrainLoop<LabelledBatch> = {
      data: (from) => batches(from),
      release: (b) => {
        release(b);
        if (saved.length === 0 && stopped.getWeights().length > 0 && abortAfter()) abort.abort();
      },
      onCheckpoint: async (bytes, step) => void saved.push({ step, bytes }),
      signal: abort.signal,
    };
    let seen = 0;
    const abortAfter = () => ++seen === 3;
    const first = await trainModel(stopped, classificationObjective, OPTIONS, loop);
    expect(first.interrupted).toBe(true);
    expect(saved.map((s) => s.step)).toEqual([3]);

    const resumed = smallConvNet(9);
    const logger = createMemoryLogger();
    const second = await trainModel(
      resumed,
      classificationObjective,
      OPTIONS,
      { data: (from) => batches(from), release, resume: { bytes: saved[0].bytes, where: 'ckpt-3' } },
      { logger },
    );
    expect(second.resumedFrom).toBe(3);
    expect(second.steps.map((s) => s.step)).toEqual([3, 4, 5, 6, 7]);
    expect(logger.records.some((r) => r.message === 'resumed from a checkpoint')).toBe(true);
    const a = straight.getWeights().map((w) => Array.from(w.dataSync()));
    expect(resumed.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(a);
    [straight, stopped, resumed].forEach((m) => m.dispose());
  });

  it('hands the caller a checkpoint of the last good state, then stops, when the loss diverges', async () => {
    const model = smallConvNet(2);
    const saved: number[] = [];
    const run = trainModel(
      model,
      classificationObjective,
      { ...OPTIONS, checkpointEvery: 0 },
      { data: (from) => batches(from, { poisonAt: 5 }), release, onCheckpoint: async (_, step) => void saved.push(step) },
    );
    await expect(run).rejects.toThrow(NumericalError);
    await expect(trainModel(smallConvNet(2), classificationObjective, OPTIONS, { data: (from) => batches(from, { poisonAt: 5 }), release })).rejects.toThrow(
      /^step 5: the loss is not finite/,
    );
    expect(saved).toEqual([5]);
    model.dispose();
  });

  it('says when the data ends before the last step', async () => {
    const model = smallConvNet(3);
    await expect(trainModel(model, classificationObjective, OPTIONS, { data: (from) => batches(from, { until: 5 }), release })).rejects.toThrow(DataError);
    model.dispose();
  });

  it('measures the time spent waiting for data, and leaks no tensor', async () => {
    const model = smallConvNet(4);
    await trainModel(model, classificationObjective, { ...OPTIONS, steps: 2 }, { data: (from) => batches(from), release });
    await expectNoLeakedTensors(async () => {
      const slow = await trainModel(model, classificationObjective, OPTIONS, {
        data: (from) => batches(from, { delayMs: 40 }),
        release,
        onCheckpoint: async () => undefined,
      });
      const waited = slow.steps.reduce((s, x) => s + x.waitMs, 0);
      expect(waited).toBeGreaterThan(8 * 40 * 0.5);
      expect(slow.dataWaitShare).toBeGreaterThan(0);
      expect(slow.dataWaitShare).toBeLessThanOrEqual(1);
    });
    model.dispose();
  });
});
