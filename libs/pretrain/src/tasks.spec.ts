import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { withPretextHead } from './pretext-model';
import type { PretextTaskName } from './pretext-task';
import { rotationBatch } from './rotation';
import { PRETEXT_TASKS, createPretextTask, type PretextTaskConfig } from './tasks';
import { blobScenes } from './testing/scenes';
import { smallConvTrunk } from './testing/trunks';

beforeAll(async () => {
  await useBackend('wasm');
});

const SETUP = { imageShape: [32, 32, 3] as const, seed: 4 };

describe('the pretext tasks by name', () => {
  it('gives every task one shape: classes, trunk input, inputs and examples per image matching its batches', () => {
    const expected: Record<PretextTaskName, { classes: number; inputShape: number[]; inputs: number; examples: number }> = {
      rotation: { classes: 4, inputShape: [32, 32, 3], inputs: 4, examples: 4 },
      context: { classes: 8, inputShape: [7, 7, 3], inputs: 9, examples: 8 },
      jigsaw: { classes: 100, inputShape: [8, 8, 3], inputs: 9, examples: 1 },
    };
    const images = blobScenes(3, 32, 3, 1);
    for (const name of Object.keys(PRETEXT_TASKS) as PretextTaskName[]) {
      const task = createPretextTask({ name }, SETUP);
      const want = expected[name];
      expect([task.name, task.classes, [...task.inputShape], task.inputsPerImage, task.examplesPerImage]).toEqual([
        name,
        want.classes,
        want.inputShape,
        want.inputs,
        want.examples,
      ]);
      const batch = task.buildBatch(images, 0);
      expect(batch.inputs.shape).toEqual([3 * want.inputs, ...want.inputShape]);
      expect(batch.labels.shape).toEqual([3 * want.examples, want.classes]);
      const model = task.model(smallConvTrunk(task.inputShape, 1));
      const logits = model.apply(batch.inputs) as tf.Tensor;
      expect(logits.shape).toEqual(batch.labels.shape);
      tf.dispose([batch.inputs, batch.labels, logits]);
    }
    expect(createPretextTask({ name: 'context', options: { geometry: { patch: 6 } } }, SETUP).inputShape).toEqual([6, 6, 3]);
    // Optional fields a configuration parser leaves undefined keep their defaults.
    expect(createPretextTask({ name: 'context', options: { geometry: { patch: undefined }, colour: undefined } }, SETUP).inputShape).toEqual([7, 7, 3]);
    images.dispose();
  });

  it('keeps rotation’s numbers: the same batch as rotationBatch and the same head as withPretextHead', () => {
    const images = blobScenes(2, 32, 3, 2);
    const task = PRETEXT_TASKS.rotation(SETUP);
    const ours = task.buildBatch(images, 17);
    const reference = rotationBatch(images);
    expect(Array.from(ours.inputs.dataSync())).toEqual(Array.from(reference.inputs.dataSync()));
    expect(Array.from(ours.labels.dataSync())).toEqual(Array.from(reference.labels.dataSync()));
    const head = (model: tf.LayersModel) => Array.from(model.getLayer('pretext_logits').getWeights()[0].dataSync());
    expect(head(task.model(smallConvTrunk([32, 32, 3], 1)))).toEqual(head(withPretextHead(smallConvTrunk([32, 32, 3], 1), { classes: 4, seed: SETUP.seed })));
    expect(() => PRETEXT_TASKS.rotation({ imageShape: [32, 30, 3], seed: 1 })).toThrow(/rotation task: rotation prediction needs square images .*got 32×30/);
    expect(() => task.model(smallConvTrunk([28, 28, 3], 1))).toThrow(ShapeError);
    tf.dispose([images, ours.inputs, ours.labels, reference.inputs, reference.labels]);
  });

  it('builds the same batch for the same step with every default defence on, another one for another step', () => {
    const images = blobScenes(2, 32, 3, 5);
    for (const name of ['rotation', 'context', 'jigsaw'] as const) {
      const task = createPretextTask(name === 'jigsaw' ? { name, options: { permutations: 10 } } : { name }, SETUP);
      const [a, b, c] = [3, 3, 4].map((step) => task.buildBatch(images, step));
      expect(Array.from(b.inputs.dataSync())).toEqual(Array.from(a.inputs.dataSync()));
      expect(Array.from(b.labels.dataSync())).toEqual(Array.from(a.labels.dataSync()));
      if (name !== 'rotation') expect(Array.from(c.inputs.dataSync())).not.toEqual(Array.from(a.inputs.dataSync()));
      tf.dispose([a, b, c].flatMap((batch) => [batch.inputs, batch.labels]));
    }
    images.dispose();
  });

  it('leaks no tensor over many batches of any task', async () => {
    const images = blobScenes(4, 32, 3, 3);
    const configs: PretextTaskConfig[] = [{ name: 'rotation' }, { name: 'context' }, { name: 'jigsaw', options: { permutations: 10 } }];
    for (const config of configs) {
      const task = createPretextTask(config, SETUP);
      await expectNoLeakedTensors(() => {
        for (let step = 0; step < 25; step++) {
          const batch = task.buildBatch(images, step);
          tf.dispose([batch.inputs, batch.labels]);
        }
      });
    }
    images.dispose();
  });
});
