import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend, expectNoLeakedTensors } from '@ddinit/core/testing';
import { GraphExecutor, parameterLayers, type ParameterLayer } from '@ddinit/models';
import { buildFixtureModel } from '@ddinit/models/testing';
import { initializeWithinLayers, type LayerInitStats } from './initialize-within-layers';
import { extraImagesFor, grownLayerInput, type SampleGrowth } from './sample-growth';
import { smoothImages } from './testing/check-invariants';

beforeAll(async () => {
  await useBackend('wasm');
});

/** `images` as a growth source in batches of `batch` (clones: the consumer disposes them). */
function growthOf(images: tf.Tensor4D, batch: number, rowsPerFilter: number): SampleGrowth {
  return {
    rowsPerFilter,
    available: images.shape[0],
    async *batches() {
      for (let start = 0; start < images.shape[0]; start += batch) yield tf.slice(images, start, Math.min(batch, images.shape[0] - start));
    },
  };
}

const OPTIONS = { method: 'kmeans', seed: 3, fallback: { onTooFewRows: 'orthogonal' } } as const;

function layer(stats: LayerInitStats[], name: string): LayerInitStats {
  return stats.find((l) => l.name === name) as LayerInitStats;
}

const weightsOf = (model: tf.LayersModel, name: string): Float32Array[] =>
  model
    .getLayer(name)
    .getWeights()
    .map((w) => w.dataSync() as Float32Array);

// The sequential fixture at 10×10×3: conv1 (8 filters, 100 positions per image) … fc1 (16 units, 1 row per image).
describe('sample growth', () => {
  const sample = smoothImages(8, [10, 10, 3], 1);
  const extra = smoothImages(60, [10, 10, 3], 2);

  it('a layer with fewer rows than rowsPerFilter·N draws from the grown images: fc1 gets 2·16 rows from 8 + 24 images', async () => {
    const model = buildFixtureModel('sequential', 0);
    const report = await initializeWithinLayers(model, sample, OPTIONS, {}, growthOf(extra, 7, 2));
    expect(layer(report.layers, 'fc1')).toMatchObject({ method: 'kmeans', fallback: null, rows: 32, images: 32 });
    // Layers whose sample gives enough rows keep to it.
    expect(layer(report.layers, 'conv1')).toMatchObject({ method: 'kmeans', fallback: null, images: 8 });
    model.dispose();
  });

  it('the layers below the grown one keep the weights the sample alone gives them', async () => {
    const grown = buildFixtureModel('sequential', 0);
    const plain = buildFixtureModel('sequential', 0);
    await initializeWithinLayers(grown, sample, OPTIONS, {}, growthOf(extra, 7, 2));
    const report = await initializeWithinLayers(plain, sample, OPTIONS);
    expect(layer(report.layers, 'fc1')).toMatchObject({ method: 'orthogonal', rows: 0 });
    for (const name of ['conv1', 'conv2']) {
      const [a, b] = [weightsOf(grown, name), weightsOf(plain, name)];
      a.forEach((w, k) => expect(Array.from(w)).toEqual(Array.from(b[k])));
    }
    expect(Array.from(weightsOf(grown, 'fc1')[0])).not.toEqual(Array.from(weightsOf(plain, 'fc1')[0]));
    tf.dispose([grown, plain].flatMap((m) => m.getWeights()));
  });

  it('the grown rows are the layer input on those images, whatever the batching, and nothing leaks', async () => {
    const model = buildFixtureModel('sequential', 0);
    await expectNoLeakedTensors(async () => {
      const base = new GraphExecutor(model, sample);
      const streamed = (await grownLayerInput(model, base.graph, 'fc1', growthOf(extra, 7, 2), 24)) as tf.Tensor;
      base.dispose();
      const head = tf.slice(extra, 0, 24);
      const run = new GraphExecutor(model, head);
      const direct = run.layerInput('fc1');
      try {
        expect(streamed.shape).toEqual([24, direct.shape[1]]);
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(streamed, direct))).dataSync()[0])).toBeLessThan(1e-5);
      } finally {
        run.dispose();
        tf.dispose([streamed, head, direct]);
      }
    });
    model.dispose();
  });

  it('too few images to reach N rows: no image is grown, and the fallback stays, recorded', async () => {
    const model = buildFixtureModel('sequential', 0);
    const few = tf.slice(extra, 0, 4) as tf.Tensor4D;
    const growth = growthOf(few, 3, 2);
    let batches = 0;
    const counted: SampleGrowth = {
      ...growth,
      async *batches() {
        for await (const batch of growth.batches()) {
          batches++;
          yield batch;
        }
      },
    };
    const report = await initializeWithinLayers(model, sample, OPTIONS, {}, counted);
    // 8 + 4 images give 12 rows of the 16 fc1 needs: growing would not avoid the fallback.
    expect(layer(report.layers, 'fc1')).toMatchObject({
      method: 'orthogonal',
      fallback: 'too few patch rows (8 < 16 filters per group) → orthogonal',
      rows: 0,
      images: 0,
    });
    expect(batches).toBe(0);
    tf.dispose([few]);
    model.dispose();
  });

  it('the byte cap decides too: growth the cap keeps under N rows is skipped, growth it allows is taken', () => {
    const model = buildFixtureModel('sequential', 0);
    const fc1 = parameterLayers(model).find((l) => l.name === 'fc1') as ParameterLayer;
    const growth = growthOf(extra, 7, 2);
    const bytesPerImage = 4 * fc1.inputShape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
    expect(extraImagesFor(fc1, 'kmeans', 8, growth, 7 * bytesPerImage)).toBe(0); // 8 + 7 < 16
    expect(extraImagesFor(fc1, 'kmeans', 8, growth, 8 * bytesPerImage)).toBe(8); // 8 + 8 = 16
    expect(extraImagesFor(fc1, 'kmeans', 8, growth, 1 << 30)).toBe(24); // 2 rows per filter: 32 − 8
    expect(extraImagesFor(fc1, 'orthogonal', 8, growth, 1 << 30)).toBe(0);
    model.dispose();
  });
});
