import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { byteChannelMoments, disposeInitSample, GROWTH_BATCH, growthImages, loadInitSample, openInitData } from './init-sample';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('loadInitSample', () => {
  it('reads a seeded, standardized sample of the embedded dataset', async () => {
    const before = tf.memory().numTensors;
    const a = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 1 });
    expect(a.images.shape).toEqual([64, 28, 28, 1]);
    expect(a.inputShape).toEqual([28, 28, 1]);
    expect(a.classes).toBe(10);
    const moments = tf.moments(a.images);
    expect(Math.abs(moments.mean.dataSync()[0])).toBeLessThan(1e-4);
    expect(Math.abs(Math.sqrt(moments.variance.dataSync()[0]) - 1)).toBeLessThan(1e-3);
    tf.dispose([moments.mean, moments.variance]);
    const again = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 1 });
    const other = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 2 });
    expect(Array.from(again.images.dataSync())).toEqual(Array.from(a.images.dataSync()));
    expect(Array.from(other.images.dataSync())).not.toEqual(Array.from(a.images.dataSync()));
    tf.dispose([a.images, again.images, other.images]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('records the exact float64 mean and std of the sample bytes ×1/255, and standardizes every value by them', async () => {
    const before = tf.memory().numTensors;
    const sample = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 1 });
    const data = await openInitData({ data: 'embedded', split: 'train' });
    const stream = data.dataset.batches('train', { batchSize: 64, seed: 1, epoch: 0, shuffle: true });
    const bytes = (await stream.next()).value?.images.slice() as Uint8Array;
    await stream.return(undefined);
    // Two passes in float64 over the scaled values: the oracle.
    let sum = 0;
    for (const b of bytes) sum += b / 255;
    const mean = sum / bytes.length;
    let squares = 0;
    for (const b of bytes) squares += (b / 255 - mean) ** 2;
    const std = Math.sqrt(squares / bytes.length);
    expect(Math.abs(sample.normalization.mean[0] - mean)).toBeLessThan(1e-12);
    expect(Math.abs(sample.normalization.std[0] - std)).toBeLessThan(1e-12);
    const values = sample.images.dataSync();
    let worst = 0;
    bytes.forEach((b, i) => (worst = Math.max(worst, Math.abs(values[i] - (b / 255 - mean) / std))));
    expect(worst).toBeLessThan(1e-5);
    disposeInitSample(sample);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('byteChannelMoments matches two float64 passes per channel on random bytes of 3 channels', () => {
    const count = 3 * 5000;
    const bytes = Uint8Array.from({ length: count + 30 }, (_, i) => ((i * 2654435761) % 251) ^ ((i % 3) * 40));
    const got = byteChannelMoments(bytes, 3, count, 1 / 255);
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let i = c; i < count; i += 3) values.push(bytes[i] / 255);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      expect(Math.abs(got.mean[c] - mean)).toBeLessThan(1e-12);
      expect(Math.abs(got.std[c] - std)).toBeLessThan(1e-12);
    }
  });

  it('the held-out images follow the sample in the same seeded order, standardized with the sample statistics', async () => {
    const before = tf.memory().numTensors;
    const alone = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 3 });
    const withHeldOut = await loadInitSample({ data: 'embedded', split: 'train', size: 64, seed: 3, heldOut: 100 });
    const longer = await loadInitSample({ data: 'embedded', split: 'train', size: 164, seed: 3 });
    // Asking for held-out images changes neither the sample nor its normalization.
    expect(alone.heldOut).toBeNull();
    expect(Array.from(withHeldOut.images.dataSync())).toEqual(Array.from(alone.images.dataSync()));
    expect(withHeldOut.normalization).toEqual(alone.normalization);
    const heldOut = withHeldOut.heldOut;
    if (heldOut === null) throw new Error('expected a held-out batch');
    expect(heldOut.images.shape).toEqual([100, 28, 28, 1]);
    expect(heldOut.labels?.shape).toEqual([100]);
    // They are images 64…163 of the same epoch: compare in bytes, through each run's own normalization.
    const {
      mean: [m1],
      std: [s1],
    } = withHeldOut.normalization;
    const {
      mean: [m2],
      std: [s2],
    } = longer.normalization;
    const bytes = (t: tf.Tensor, m: number, s: number) => tf.tidy(() => tf.round(tf.mul(tf.add(tf.mul(t, s), m), 255)).dataSync());
    const tail = tf.slice(longer.images, 64);
    expect(Array.from(bytes(heldOut.images, m1, s1))).toEqual(Array.from(bytes(tail, m2, s2)));
    tail.dispose();
    [alone, withHeldOut, longer].forEach(disposeInitSample);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the growth images follow the sample and the held-out batch in the same seeded order, standardized with the sample statistics, in batches', async () => {
    const before = tf.memory().numTensors;
    const sample = await loadInitSample({ data: 'embedded', split: 'train', size: 40, seed: 3, heldOut: 30 });
    const longer = await loadInitSample({ data: 'embedded', split: 'train', size: 40 + 30 + 100, seed: 3 });
    const data = await openInitData({ data: 'embedded', split: 'train' });
    const growth = growthImages(data, { skip: 70, count: 100, seed: 3, normalization: sample.normalization });
    const batches: tf.Tensor4D[] = [];
    for await (const batch of growth.batches()) batches.push(batch);
    // 100 images from the stream's batches of GROWTH_BATCH: the first lies in the skipped part, the second starts inside it.
    expect(growth.available).toBe(100);
    expect(batches.map((b) => b.shape[0])).toEqual([2 * GROWTH_BATCH - 70, 100 - (2 * GROWTH_BATCH - 70)]);
    const grown = tf.concat(batches);
    const { mean, std } = sample.normalization;
    const { mean: m2, std: s2 } = longer.normalization;
    const bytes = (t: tf.Tensor, m: number, s: number) => tf.tidy(() => tf.round(tf.mul(tf.add(tf.mul(t, s), m), 255)).dataSync());
    const tail = tf.slice(longer.images, 70);
    expect(Array.from(bytes(grown, mean[0], std[0]))).toEqual(Array.from(bytes(tail, m2[0], s2[0])));
    tf.dispose([...batches, grown, tail]);
    [sample, longer].forEach(disposeInitSample);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the dataset and the counts when the split is too small', async () => {
    await expect(loadInitSample({ data: 'embedded', split: 'test', size: 1_000_000, seed: 0 })).rejects.toThrow(
      /split test: the split has fewer examples than the init sample needs \(expected at least 1000000 examples, got \d+\)/,
    );
    await expect(loadInitSample({ data: 'embedded', split: 'nope', size: 4, seed: 0 })).rejects.toThrow(/nope/);
  });
});
