import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { trainModel, type LabelledBatch } from '@ddinit/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { jigsawTask } from './jigsaw';
import { trunkOf } from './pretext-model';
import { blobScenes, coordinateImages, decodeCoordinate } from './testing/scenes';
import { heldOutAccuracy, smallConvTrunk } from './testing/trunks';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().set('IS_TEST', false); // tfjs's kernel-leak check misreports fused ops under variableGrads
});

describe('jigsaw', () => {
  it('shows tile p[i] in slot i for the labelled permutation p, features concatenated in slot order (read back from a coordinate image)', () => {
    const [side, patch, gap, jitter] = [40, 5, 3, 2];
    const task = jigsawTask(
      { imageShape: [side, side, 1], seed: 3 },
      { geometry: { patch, gap, jitter }, permutations: 10, colour: 'none', resampleShare: 0, normalize: false, hiddenUnits: [4] },
    );
    const images = coordinateImages(4, side, side);
    const batch = task.buildBatch(images, 0);
    expect(batch.inputs.shape).toEqual([36, patch, patch, 1]);
    expect(batch.labels.shape).toEqual([4, 10]);
    const model = task.model(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [patch, patch, 1] })] }));
    const grouped = tf.model({ inputs: model.inputs, outputs: model.getLayer('pretext_groups').output as tf.SymbolicTensor });
    const features = grouped.predict(batch.inputs, { batchSize: 36 }) as tf.Tensor;
    const labels = Array.from(tf.argMax(batch.labels, 1).dataSync());
    (features.arraySync() as number[][]).forEach((row, b) => {
      const origins = Array.from({ length: 9 }, (_, slot) => {
        const at = slot * patch * patch;
        for (let i = 0; i < patch * patch; i++) expect(row[at + i]).toBe(row[at] + Math.floor(i / patch) * side + (i % patch)); // an exact window
        return decodeCoordinate(row[at], side, side);
      });
      expect(origins.every((o) => o.image === b)).toBe(true);
      // The grid cell of each tile: its offset from the mean of the 9 tiles, in steps of P + G (the jitter is < (P + G) / 4).
      const [meanY, meanX] = [origins.reduce((a, o) => a + o.y, 0) / 9, origins.reduce((a, o) => a + o.x, 0) / 9];
      const cells = origins.map((o) => (Math.round((o.y - meanY) / (patch + gap)) + 1) * 3 + Math.round((o.x - meanX) / (patch + gap)) + 1);
      expect(cells).toEqual(Array.from(task.permutations[labels[b]]));
    });
    expect(new Set(labels).size).toBeGreaterThan(1);
    tf.dispose([images, batch.inputs, batch.labels, features]);
  });

  it('refuses a grid that does not fit and more permutations than candidates, naming the option; fewer candidates lower the default N', () => {
    expect(() => jigsawTask({ imageShape: [28, 28, 1], seed: 1 }, { geometry: { patch: 9 } })).toThrow(ConfigError);
    expect(() => jigsawTask({ imageShape: [28, 28, 1], seed: 1 }, { geometry: { patch: 9 } })).toThrow(
      'jigsaw: the patch grid does not fit the images (expected 3·patch + 2·gap + 2·jitter = 3·9 + 2·1 + 2·1 = 31 px ≤ the image side, got 28×28 images)',
    );
    expect(() => jigsawTask({ imageShape: [28, 28, 1], seed: 1 }, { permutations: 30, candidates: 20 })).toThrow(
      /jigsaw.permutations: .*expected an integer in \[2, 20\], got 30/,
    );
    expect(jigsawTask({ imageShape: [28, 28, 1], seed: 1 }, { candidates: 40 }).classes).toBe(40); // N defaults to min(100, candidates)
    expect(() => jigsawTask({ imageShape: [28, 28, 1], seed: 1 }, { hiddenUnits: [0] })).toThrow(
      /jigsaw.hiddenUnits: the fused layers’ widths are positive integers/,
    );
  });

  it('learns the permutation well above chance in a short run, training the shared trunk, leaking no tensor', async () => {
    const task = jigsawTask({ imageShape: [32, 32, 3], seed: 6 }, { permutations: 20, hiddenUnits: [64] });
    expect(task.inputShape).toEqual([8, 8, 3]);
    const trunk = smallConvTrunk(task.inputShape, 3);
    const model = task.model(trunk);
    const before = trunk.getLayer('conv1').getWeights()[0].dataSync().slice();
    const tensors = tf.memory().numTensors;
    async function* data(from: number): AsyncGenerator<LabelledBatch> {
      for (let step = from; ; step++) {
        const images = blobScenes(16, 32, 3, 100 + step);
        try {
          yield task.buildBatch(images, step);
        } finally {
          images.dispose();
        }
      }
    }
    const run = await trainModel(
      model,
      task.objective,
      { steps: 60, optimizer: 'adam', learningRate: 0.003, weightDecay: 0 },
      { data, release: (b) => tf.dispose([b.inputs, b.labels]) },
    );
    expect(tf.memory().numTensors).toBe(tensors);
    const accuracy = heldOutAccuracy(model, task, blobScenes(64, 32, 3, 9999));
    expect(accuracy).toBeGreaterThan(0.4); // 0.88 measured after 60 steps; chance 0.05
    expect(run.steps[run.steps.length - 1].loss).toBeLessThan(run.steps[0].loss);
    expect(Array.from(trunk.getLayer('conv1').getWeights()[0].dataSync())).not.toEqual(Array.from(before));
    const exported = trunkOf(trunk);
    expect(exported.layers.filter((l) => l.name.startsWith('pretext'))).toEqual([]);
    expect(exported.inputs[0].shape).toEqual([null, 8, 8, 3]);
  }, 30_000);
});
