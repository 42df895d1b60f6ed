import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, principalComponents, projectWhitened } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { whitenedFilters, type WhitenedFilterOptions } from './whitened-filters';

const OPTIONS: WhitenedFilterOptions = { epsilon: 1e-3, minEigenvalue: 1e-6, kmeans: { algorithm: 'lloyd', maxIterations: 50, batchSize: 256 }, where: 'test' };

/** Correlated rows: x = g·A with a fixed mixing matrix (covariance AᵀA, well spread spectrum). */
function correlatedRows(n: number, f: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.add(tf.randomNormal([f, f], 0, 1, 'float32', seed), tf.mul(tf.eye(f), 3));
    return tf.add(tf.matMul(tf.randomNormal([n, f], 0, 1, 'float32', seed + 1), a), 2) as tf.Tensor2D;
  });
}

/**
 * Rows ±(a·d_k + noise) along three fixed directions d_k, with a contrast a in [0.2, 5]:
 * six clusters of direction, each spread over a 25× range of length. Every row comes with
 * its negative, so the mean is exactly zero and centring moves no row off its direction.
 */
function directionalRows(perGroup: number): { x: tf.Tensor2D; group: number[] } {
  const rng = Rng.fromSeed(11);
  const directions = [
    [1, 0.4, -0.2],
    [-0.3, 1, 0.5],
    [0.2, -0.6, 1],
  ];
  const rows: number[][] = [];
  const group: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < perGroup; i++) {
      const a = 0.2 + 4.8 * rng.uniform();
      const row = directions[k].map((v) => a * v + 0.002 * rng.normal());
      rows.push(
        row,
        row.map((v) => -v),
      );
      group.push(k, k + 3);
    }
  }
  return { x: tf.tensor2d(rows), group };
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('kmeans filters (whiten → unit length → cluster → map back)', () => {
  it('cluster patches by direction, not by contrast: each direction has one filter, responding like a unit centre', async () => {
    const { x, group } = directionalRows(100);
    const r = await whitenedFilters('kmeans', x, 6, Rng.fromSeed(3), OPTIONS);
    if (!r.ok) throw new Error('degenerate');
    const { mean, eigen } = principalComponents(x, 3);
    const responses = tf.tidy(() => tf.matMul(tf.sub(x, tf.tensor1d(Float32Array.from(mean))), r.filters, false, true).arraySync() as number[][]);
    // ‖ỹ_i‖, the length of each whitened patch: a unit-length centre c on the patch's direction gives c·ỹ_i = ‖ỹ_i‖.
    const lengths = tf.tidy(
      () =>
        tf.norm(projectWhitened(x, eigen, { epsilon: OPTIONS.epsilon, minEigenvalue: OPTIONS.minEigenvalue, mean }), 'euclidean', 1).arraySync() as number[],
    );
    const winners = new Set<number>();
    for (let g = 0; g < 6; g++) {
      const members = group.flatMap((h, i) => (h === g ? [i] : []));
      const strongest = members.map((i) => responses[i].indexOf(Math.max(...responses[i])));
      const winner = strongest[0];
      expect(strongest.filter((k) => k === winner).length / members.length).toBeGreaterThanOrEqual(0.99);
      winners.add(winner);
      for (const i of members) expect(Math.abs(responses[i][winner] / lengths[i] - 1)).toBeLessThan(0.02);
    }
    expect(winners.size).toBe(6);
    tf.dispose([x, r.filters]);
  });

  it('kmeans and patches give N filters, deterministically, without leaks', async () => {
    const x = correlatedRows(600, 9, 3);
    for (const method of ['kmeans', 'patches'] as const) {
      const a = await whitenedFilters(method, x, 7, Rng.fromSeed(5), OPTIONS);
      const b = await whitenedFilters(method, x, 7, Rng.fromSeed(5), OPTIONS);
      if (!a.ok || !b.ok) throw new Error('degenerate');
      expect(a.filters.shape).toEqual([7, 9]);
      expect(Array.from(a.filters.dataSync())).toEqual(Array.from(b.filters.dataSync()));
      tf.dispose([a.filters, b.filters]);
      await expectNoLeakedTensors(async () => {
        const c = await whitenedFilters(method, x, 7, Rng.fromSeed(6), OPTIONS);
        if (c.ok) c.filters.dispose();
      });
    }
    x.dispose();
  });
});
