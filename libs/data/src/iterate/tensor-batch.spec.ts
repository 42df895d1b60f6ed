import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { openDefaultDataset } from '../embedded/default-dataset';
import { augmentBatch, augmentRng, centerCropBatch } from './augment';
import { batchImages, patchesToTensor, samplePatches } from './patch-sampler';
import { normalizeBytes, tensorBatches, toTensorBatch } from './tensor-batch';
import type { UintBatch } from './uint-batch';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Two 3×4 RGB images; pixel (n, y, x, c) = 100n + 10y + x + c·? (distinct per position). */
function tinyBatch(): UintBatch {
  const N = 2,
    H = 3,
    W = 4,
    C = 3;
  const images = new Uint8Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) images[((n * H + y) * W + x) * C + c] = 100 * n + 10 * y + x + 4 * c;
  const masks = new Uint8Array(N * H * W).map((_, i) => i);
  return { size: N, height: H, width: W, channels: C, images, labels: Int32Array.of(3, 7), classes: 10, masks, ids: ['a', 'b'] };
}

describe('byte batches to tensors', () => {
  it('normalizes per channel into float32 NHWC without leaking tensors', async () => {
    const batch = tinyBatch();
    await expectNoLeakedTensors(() => {
      const t = toTensorBatch(batch, { mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
      expect(t.images.shape).toEqual([2, 3, 4, 3]);
      expect(t.images.dtype).toBe('float32');
      expect(t.labels?.dtype).toBe('int32');
      expect(Array.from(t.labels?.dataSync() ?? [])).toEqual([3, 7]);
      expect(t.masks?.shape).toEqual([2, 3, 4]);
      const values = t.images.dataSync();
      // pixel (1, 2, 3, c): byte 100+20+3+4c.
      const at = (n: number, y: number, x: number, c: number) => values[((n * 3 + y) * 4 + x) * 3 + c];
      expect(at(1, 2, 3, 0)).toBeCloseTo((123 / 255 - 0.5) / 0.5, 6);
      expect(at(1, 2, 3, 1)).toBeCloseTo((127 / 255 - 0.25) / 0.25, 6);
      expect(at(1, 2, 3, 2)).toBeCloseTo(131 / 255 / 2, 6);
      tf.dispose([t.images, t.labels, t.masks]);
    });
    expect(() => normalizeBytes(batch, { mean: [1, 2] })).toThrow(ConfigError);
    expect(() => normalizeBytes(batch, { std: 0 })).toThrow('std must be finite and non-zero');
  });

  it('crops and flips deterministically, masks with their images, inputs untouched', () => {
    const batch = tinyBatch();
    const copy = batch.images.slice();
    const a = augmentBatch(batch, { crop: { height: 2, width: 2, padding: 1 }, flip: true }, Rng.fromSeed(1));
    const b = augmentBatch(batch, { crop: { height: 2, width: 2, padding: 1 }, flip: true }, Rng.fromSeed(1));
    expect(a.images).toEqual(b.images);
    expect(batch.images).toEqual(copy);
    expect(a.height).toBe(2);
    expect(a.images.length).toBe(2 * 2 * 2 * 3);
    // Every output pixel is padding (0) or a pixel of the same example, and its mask follows it.
    const masks = a.masks ?? new Uint8Array(0);
    expect(masks.length).toBe(2 * 4);
    for (let n = 0; n < 2; n++) {
      for (let p = 0; p < 4; p++) {
        const r = a.images[(n * 4 + p) * 3];
        const m = masks[n * 4 + p];
        if (m === 255) expect(r).toBe(0);
        else {
          const y = Math.floor((m - n * 12) / 4),
            x = (m - n * 12) % 4;
          expect(r).toBe(100 * n + 10 * y + x);
        }
      }
    }
    // A flip without crop mirrors each row exactly.
    let flipped: UintBatch | undefined;
    for (let seed = 0; seed < 20 && flipped === undefined; seed++) {
      const out = augmentBatch(batch, { flip: true }, Rng.fromSeed(seed));
      if (out.images[0] !== batch.images[0]) flipped = out;
    }
    expect(flipped).toBeDefined();
    expect(flipped?.images[0]).toBe(batch.images[3 * 3]);
    const centre = centerCropBatch(batch, 1, 2);
    expect(Array.from(centre.images.subarray(0, 6))).toEqual([11, 15, 19, 12, 16, 20]);
    expect(() => augmentBatch(batch, { crop: { height: 9, width: 2 } }, Rng.fromSeed(0))).toThrow(
      /crop does not fit in the padded image \(expected 1…3 × 1…4, got 9 × 2\)/,
    );
  });

  it('samples seeded patches from real positions, weighting images by their positions', async () => {
    const batch = tinyBatch();
    const images = batchImages(batch);
    const sample = samplePatches(images, { count: 200, size: 2, rng: 4 });
    expect(samplePatches(images, { count: 200, size: 2, rng: 4 }).patches).toEqual(sample.patches);
    for (let k = 0; k < sample.count; k++) {
      const [img, top, left] = sample.origins.subarray(3 * k, 3 * k + 3);
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 2; x++)
          for (let c = 0; c < 3; c++) {
            expect(sample.patches[((k * 2 + y) * 2 + x) * 3 + c]).toBe(100 * img + 10 * (top + y) + left + x + 4 * c);
          }
    }
    const fromFirst = Array.from({ length: 200 }, (_, k) => sample.origins[3 * k]).filter((i) => i === 0).length;
    expect(fromFirst).toBeGreaterThan(70);
    expect(fromFirst).toBeLessThan(130);
    await expectNoLeakedTensors(() => {
      const t = patchesToTensor(sample);
      expect(t.shape).toEqual([200, 2, 2, 3]);
      t.dispose();
    });
    expect(() => samplePatches(images, { count: 1, size: 5, rng: 0 })).toThrow('no image is large enough for a patch');
  });

  it('streams tensor batches from the embedded dataset with seeded augmentation', async () => {
    const dataset = await openDefaultDataset();
    let count = 0;
    await expectNoLeakedTensors(async () => {
      for await (const batch of tensorBatches(dataset, 'test', { batchSize: 128, seed: 3, augment: { crop: { height: 24, width: 24 }, flip: true } })) {
        expect(batch.images.shape.slice(1)).toEqual([24, 24, 1]);
        const [min, max] = tf.tidy(() => [batch.images.min().dataSync()[0], batch.images.max().dataSync()[0]]);
        expect(min).toBeGreaterThanOrEqual(0);
        expect(max).toBeLessThanOrEqual(1);
        expect(max).toBeGreaterThan(0.5);
        tf.dispose([batch.images, batch.labels]);
        count += batch.ids.length;
      }
    });
    expect(count).toBe(1000);

    // Tensors own their data: a later batch (reusing byte buffers) does not change an earlier one,
    // also on backends (cpu) that keep a reference to the array a tensor is made from.
    await tf.setBackend('cpu');
    const kept: tf.Tensor[] = [];
    const expected: number[][] = [];
    for await (const bytes of dataset.batches('test', { batchSize: 300, seed: 9, reuseBuffers: true })) {
      const batch = toTensorBatch(bytes, { scale: 1 });
      if (batch.labels === undefined || bytes.labels === undefined) throw new Error('the test split has class labels');
      kept.push(batch.labels, batch.images);
      expected.push([...Array.from(bytes.labels), ...Array.from(bytes.images.subarray(0, 50))]);
    }
    expect(expected.length).toBe(4);
    for (let k = 0; k < expected.length; k++) {
      expect([...Array.from(kept[2 * k].dataSync()), ...Array.from(kept[2 * k + 1].dataSync().subarray(0, 50))]).toEqual(expected[k]);
    }
    tf.dispose(kept);
    await useBackend('wasm');
    expect(augmentRng(1, 2, 3).nextUint32()).toBe(augmentRng(1, 2, 3).nextUint32());
  });
});
