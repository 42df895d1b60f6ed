import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NumericalError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { buildModel } from '@ddinit/models';
import { NEAR_CONSTANT_RATIO, initializeWithinLayers } from './initialize-within-layers';

beforeAll(async () => {
  await useBackend('wasm');
});

/** `n` copies of one 28×28 image that is 0 but for one pixel, standardized per channel as the pipeline does. */
function onePixelImages(n: number): tf.Tensor4D {
  return tf.tidy(() => {
    const image = tf.buffer([1, 28, 28, 1]);
    image.set(1, 0, 13, 13, 0);
    const batch = tf.tile(image.toTensor(), [n, 1, 1, 1]);
    const { mean, variance } = tf.moments(batch, [0, 1, 2]);
    return tf.div(tf.sub(batch, mean), tf.sqrt(variance)) as tf.Tensor4D;
  });
}

/** input [4] → dense `fc` (8). */
function denseModel(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  return tf.model({ inputs: input, outputs: tf.layers.dense({ name: 'fc', units: 8 }).apply(input) as tf.SymbolicTensor });
}

describe('near-constant channels', () => {
  it('a channel whose σ is float32 rounding noise of its mean is refused, naming the layer and the ratio', async () => {
    // Rows 1000 + 1e-4·u: float32 spacing at 1000 is 6.1e-5, so the rows differ by an ulp or two.
    const rows = tf.tidy(() => tf.add(tf.fill([64, 4], 1000), tf.mul(tf.randomUniform([64, 4], 0, 1, 'float32', 3), 1e-4)));
    const model = denseModel();
    await expectNoLeakedTensors(async () => {
      const error = await initializeWithinLayers(model, rows, { method: 'gaussian' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NumericalError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^layer fc: output channels constant to float32 precision .*\\(expected σ_i > ${NEAR_CONSTANT_RATIO} × \\|μ_i\\| for every channel, got channels 0, 1, .* \\(8 of 8\\)\\)`,
        ),
      );
    });
    // Well-conditioned rows of the same magnitude pass: the guard is relative to |μ_i|, not absolute.
    const spread = tf.tidy(() => tf.add(tf.fill([64, 4], 1000), tf.randomNormal([64, 4], 0, 1, 'float32', 4)));
    const report = await initializeWithinLayers(model, spread, { method: 'gaussian' });
    expect(report.layers[0].outStd).toBeCloseTo(1, 3);
    tf.dispose([rows, spread]);
    model.dispose();
  });

  it('copies of one one-pixel image: fc6 is refused whether its σ comes out 0 or rounding noise', async () => {
    const sample = onePixelImages(64);
    const model = buildModel('caffenet-small', { inputShape: [28, 28, 1], numClasses: 10 });
    let caught: unknown;
    await expectNoLeakedTensors(async () => {
      try {
        const report = await initializeWithinLayers(model, sample, { method: 'gaussian' });
        const biases = model.weights.filter((w) => w.originalName.endsWith('bias')).map((w) => tf.tidy(() => tf.max(tf.abs(w.read())).dataSync()[0]));
        caught = new Error(`initialized: max |bias| ${Math.max(...biases)}, fc6 std ${report.layers.find((l) => l.name === 'fc6')?.outStd}`);
      } catch (error) {
        caught = error;
      }
    });
    expect(caught).toBeInstanceOf(NumericalError);
    expect((caught as Error).message).toMatch(/^layer fc6: .*σ/);
    model.dispose();
    sample.dispose();
  });
});
