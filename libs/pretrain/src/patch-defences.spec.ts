import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDefences, defendPatches, type PatchDefences } from './patch-defences';

beforeAll(async () => {
  await useBackend('wasm');
});

const NONE: PatchDefences = { colour: 'none', resampleShare: 0, normalize: false };
/** 60 patches of 16×16×3, each channel with its own offset and scale. */
const patches = () => tf.tidy(() => tf.add(tf.mul(tf.randomNormal([60, 16, 16, 3], 0, 1, 'float32', 11), [1, 2, 3]), [5, -1, 2]) as tf.Tensor4D);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

/** Channel `c` of patch `i` of an [m, 16, 16, 3] array. */
function channel(values: ArrayLike<number>, i: number, c: number): number[] {
  return Array.from({ length: 256 }, (_, p) => values[(i * 256 + p) * 3 + c]);
}

describe('patch defences', () => {
  it('colour dropping keeps one random channel per patch, mean-subtracted, and puts noise of its spread in the others', async () => {
    const x = patches();
    const original = x.dataSync();
    const dropped = defendPatches(x, { ...NONE, colour: 'drop' }, Rng.fromSeed(1));
    const values = dropped.dataSync();
    const keptCount = [0, 0, 0];
    for (let i = 0; i < 60; i++) {
      const kept = [0, 1, 2].filter((c) => {
        const source = channel(original, i, c);
        const m = mean(source);
        return channel(values, i, c).every((v, p) => Math.abs(v - (source[p] - m)) < 1e-4);
      });
      expect(kept).toHaveLength(1);
      keptCount[kept[0]]++;
      const spread = std(channel(values, i, kept[0]));
      for (const c of [0, 1, 2].filter((k) => k !== kept[0])) {
        expect(Math.abs(mean(channel(values, i, c)))).toBeLessThan(0.3 * spread); // 256 draws: σ/16 standard error
        expect(std(channel(values, i, c)) / spread).toBeCloseTo(1, 0);
      }
    }
    expect(Math.min(...keptCount)).toBeGreaterThan(8); // every channel gets kept (≈ 20 each)
    await expectNoLeakedTensors(() => defendPatches(x, { ...NONE, colour: 'drop' }, Rng.fromSeed(1)).dispose());
    tf.dispose([x, dropped]);
  });

  it('colour projection removes the green–magenta component and nothing orthogonal to it', () => {
    const x = patches();
    const projected = defendPatches(x, { ...NONE, colour: 'project' }, Rng.fromSeed(1));
    const [along, across] = tf.tidy(() => {
      const axis = tf.tensor1d([-1, 2, -1]).div(Math.sqrt(6));
      const grey = tf.tensor1d([1, 1, 1]).div(Math.sqrt(3));
      return [
        tf.max(tf.abs(tf.sum(tf.mul(projected, axis), 3))).dataSync()[0],
        tf.max(tf.abs(tf.sub(tf.sum(tf.mul(projected, grey), 3), tf.sum(tf.mul(x, grey), 3)))).dataSync()[0],
      ];
    });
    expect(along).toBeLessThan(1e-4);
    expect(across).toBeLessThan(1e-4);
    tf.dispose([x, projected]);
  });

  it('normalization gives every patch zero mean and unit standard deviation', () => {
    const x = patches();
    const normalized = defendPatches(x, { ...NONE, normalize: true }, Rng.fromSeed(1));
    const { mean: m, variance } = tf.moments(normalized, [1, 2, 3]);
    for (const v of m.dataSync()) expect(Math.abs(v)).toBeLessThan(1e-4);
    for (const v of variance.dataSync()) expect(v).toBeCloseTo(1, 3);
    tf.dispose([x, normalized, m, variance]);
  });

  it('resampling blurs exactly round(share · patches) patches and leaves the others as they were', () => {
    const x = patches();
    const original = x.dataSync();
    const resampled = defendPatches(x, { ...NONE, resampleShare: 1 / 3 }, Rng.fromSeed(2));
    const values = resampled.dataSync();
    const changed = Array.from({ length: 60 }, (_, i) => channel(values, i, 0).some((v, p) => Math.abs(v - channel(original, i, 0)[p]) > 1e-4));
    expect(changed.filter(Boolean)).toHaveLength(20);
    // Shrinking and enlarging is a low-pass filter: the resampled patches lose spread, the kept ones keep it exactly.
    changed.forEach((blurred, i) => {
      const ratio = std(channel(values, i, 0)) / std(channel(original, i, 0));
      if (blurred) expect(ratio).toBeLessThan(0.95);
      else expect(ratio).toBe(1);
    });
    const again = defendPatches(x, { ...NONE, resampleShare: 1 / 3 }, Rng.fromSeed(2));
    expect(Array.from(again.dataSync())).toEqual(Array.from(values));
    tf.dispose([x, resampled, again]);
  });

  it('refuses an unknown colour defence and a share outside [0, 1], naming the option', () => {
    expect(() => checkDefences({ ...NONE, colour: 'grey' as 'none' }, 'context')).toThrow(
      'context.colour: unknown colour defence (expected drop, project or none, got grey)',
    );
    expect(() => checkDefences({ ...NONE, resampleShare: -0.1 }, 'jigsaw')).toThrow(/jigsaw.resampleShare: the resampled share is a fraction/);
  });
});
