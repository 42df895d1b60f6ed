import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { trainModel, type LabelledBatch } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTEXT_CLASSES, contextTask } from './context-prediction';
import { trunkOf } from './pretext-model';
import { blobScenes, coordinateImages, decodeCoordinate } from './testing/scenes';
import { heldOutAccuracy, smallConvTrunk } from './testing/trunks';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads
});

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];

describe('context prediction', () => {
  it('pairs the centre patch with each neighbour, labelled 0…7 by where the neighbour was (read back from a coordinate image)', () => {
    const [side, patch, gap, jitter] = [40, 5, 3, 2];
    const task = contextTask(
      { imageShape: [side, side, 1], seed: 3 },
      { geometry: { patch, gap, jitter }, colour: 'none', resampleShare: 0, normalize: false, hiddenUnits: [4] },
    );
    const images = coordinateImages(3, side, side);
    const batch = task.buildBatch(images, 0);
    expect(batch.inputs.shape).toEqual([27, patch, patch, 1]);
    expect(batch.labels.shape).toEqual([24, CONTEXT_CLASSES]);
    // A trunk that passes the pixels through: the pair layer's rows are then [centre patch, neighbour patch].
    const model = task.model(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [patch, patch, 1] })] }));
    const pairs = tf.model({ inputs: model.inputs, outputs: model.getLayer('pretext_groups').output as tf.SymbolicTensor });
    const features = pairs.predict(batch.inputs) as tf.Tensor;
    const labels = rows(tf.oneHot(tf.argMax(batch.labels, 1), CONTEXT_CLASSES)).map((r) => r.indexOf(1));
    rows(features).forEach((row, r) => {
      const [centre, neighbour] = [0, patch * patch].map((at) => {
        const origin = decodeCoordinate(row[at], side, side);
        for (let i = 0; i < patch * patch; i++) expect(row[at + i]).toBe(row[at] + Math.floor(i / patch) * side + (i % patch)); // an exact window
        return origin;
      });
      expect([centre.image, neighbour.image]).toEqual([Math.floor(r / 8), Math.floor(r / 8)]);
      const dy = Math.round((neighbour.y - centre.y) / (patch + gap));
      const dx = Math.round((neighbour.x - centre.x) / (patch + gap));
      expect(Math.abs(neighbour.y - centre.y - dy * (patch + gap))).toBeLessThanOrEqual(2 * jitter);
      expect(Math.abs(neighbour.x - centre.x - dx * (patch + gap))).toBeLessThanOrEqual(2 * jitter);
      const position = (dy + 1) * 3 + (dx + 1); // reading order in the 3×3 grid, 4 = the centre itself
      expect(position).not.toBe(4);
      expect(labels[r]).toBe(position < 4 ? position : position - 1);
    });
    // predict's default batches of 32 would split an image's 9 patches: the model says how to call it instead.
    const four = coordinateImages(4, side, side);
    const split = task.buildBatch(four, 0);
    expect(() => model.predict(split.inputs)).toThrow(/pretext_groups: a patch model takes whole images, 9 patches each .*got 32 patches/);
    tf.dispose([four, split.inputs, split.labels, model.predict(split.inputs, { batchSize: 36 }) as tf.Tensor]);
    // The batch of a step is the same whenever it is built; another step draws other patches.
    const again = task.buildBatch(images, 0);
    const next = task.buildBatch(images, 1);
    expect(Array.from(again.inputs.dataSync())).toEqual(Array.from(batch.inputs.dataSync()));
    expect(Array.from(next.inputs.dataSync())).not.toEqual(Array.from(batch.inputs.dataSync()));
    tf.dispose([images, batch.inputs, batch.labels, again.inputs, again.labels, next.inputs, next.labels, features]);
  });

  it('refuses a grid that does not fit the images, images of another shape and a trunk for other inputs', () => {
    expect(() => contextTask({ imageShape: [32, 32, 3], seed: 1 }, { geometry: { patch: 10 } })).toThrow(ConfigError);
    expect(() => contextTask({ imageShape: [32, 32, 3], seed: 1 }, { geometry: { patch: 10 } })).toThrow(
      'context prediction: the patch grid does not fit the images (expected 3·patch + 2·gap + 2·jitter = 3·10 + 2·4 + 2·1 = 40 px ≤ the image side, got 32×32 images)',
    );
    expect(() => contextTask({ imageShape: [32, 32, 3], seed: 1 }, { resampleShare: 1.5 })).toThrow(/context.resampleShare: the resampled share is a fraction/);
    const task = contextTask({ imageShape: [32, 32, 3], seed: 1 });
    expect(task.inputShape).toEqual([7, 7, 3]);
    const wrong = tf.zeros([2, 28, 28, 3]) as tf.Tensor4D;
    expect(() => task.buildBatch(wrong, 0)).toThrow(ShapeError);
    expect(() => task.buildBatch(wrong, 0)).toThrow(
      'context batch: the images are not of the shape the pretext task was set up for (expected 32×32×3, got 28×28×3)',
    );
    wrong.dispose();
    expect(() => task.model(smallConvTrunk([32, 32, 3], 1))).toThrow(
      /context model: the trunk does not take the inputs of the pretext task .*expected one input of 7×7×3, got 32×32×3/,
    );
  });

  it('learns where a neighbour was well above chance (1/8) in a short run, training the shared trunk, leaking no tensor', async () => {
    const task = contextTask({ imageShape: [32, 32, 3], seed: 5 }, { hiddenUnits: [64] }); // default defences: colour dropping, resampling, normalization
    const trunk = smallConvTrunk(task.inputShape, 2);
    const model = task.model(trunk);
    const before = trunk.getLayer('conv1').getWeights()[0].dataSync().slice();
    const tensors = tf.memory().numTensors;
    async function* data(from: number): AsyncGenerator<LabelledBatch> {
      for (let step = from; ; step++) {
        const images = blobScenes(8, 32, 3, 100 + step);
        try {
          yield task.buildBatch(images, step);
        } finally {
          images.dispose(); // also when the loop stops the generator at its last batch
        }
      }
    }
    const run = await trainModel(
      model,
      task.objective,
      { steps: 40, optimizer: 'adam', learningRate: 0.003, weightDecay: 0 },
      { data, release: (b) => tf.dispose([b.inputs, b.labels]) },
    );
    expect(tf.memory().numTensors).toBe(tensors);
    const accuracy = heldOutAccuracy(model, task, blobScenes(32, 32, 3, 9999));
    expect(accuracy).toBeGreaterThan(0.4); // 0.63 measured after 40 steps; chance 0.125
    expect(run.steps[run.steps.length - 1].loss).toBeLessThan(run.steps[0].loss);
    // The trunk was trained through the siamese head, and comes back without it.
    expect(Array.from(trunk.getLayer('conv1').getWeights()[0].dataSync())).not.toEqual(Array.from(before));
    const exported = trunkOf(trunk);
    expect(exported.layers.filter((l) => l.name.startsWith('pretext'))).toEqual([]);
    expect(exported.getWeights().map((w) => w.shape)).toEqual(trunk.getWeights().map((w) => w.shape));
    expect(exported.outputs[0].shape).toEqual(trunk.outputs[0].shape);
    expect(exported.inputs[0].shape).toEqual([null, 7, 7, 3]);
  }, 30_000);
});
