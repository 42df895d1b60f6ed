import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { seedKMeansPlusPlus } from './kmeans-plus-plus';

/** m rows of length d around `clusters` well-separated centres (seeded), with their squared norms. */
function clustered(m: number, d: number, clusters: number, seed: number): { data: Float32Array; norms: Float64Array } {
  const rng = Rng.fromSeed(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => 10 * rng.normal()));
  const data = new Float32Array(m * d);
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const centre = centres[i % clusters];
    for (let j = 0; j < d; j++) {
      const v = centre[j] + rng.normal();
      data[i * d + j] = v;
      norms[i] += Math.fround(v) ** 2;
    }
  }
  return { data, norms };
}

describe('seedKMeansPlusPlus', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('the Gram-matrix route picks the seeds of the per-step products, one per cluster, no tensor left', async () => {
    const [m, d, k] = [600, 24, 12];
    const { data, norms } = clustered(m, d, k, 3);
    await expectNoLeakedTensors(async () => {
      const gram = await seedKMeansPlusPlus(data, norms, m, d, k, Rng.fromSeed(9));
      const steps = await seedKMeansPlusPlus(data, norms, m, d, k, Rng.fromSeed(9), undefined, 0);
      expect(Array.from(gram)).toEqual(Array.from(steps));
      expect(new Set(Array.from(gram, (row) => row % k)).size).toBe(k);
    });
  });
});
