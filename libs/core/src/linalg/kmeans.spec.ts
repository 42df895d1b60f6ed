import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger, type ProgressEvent } from '../logger';
import { Rng } from '../rng';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { kmeans } from './kmeans';

/** Exact minimum inertia by enumerating every assignment of n rows to k non-empty clusters. */
function bruteForceInertia(rows: number[][], k: number): number {
  const n = rows.length;
  const d = rows[0].length;
  const labels = new Array<number>(n).fill(0);
  let best = Infinity;
  for (let code = 0; code < k ** n; code++) {
    let c = code;
    for (let i = 0; i < n; i++) {
      labels[i] = c % k;
      c = Math.floor(c / k);
    }
    const sums = Array.from({ length: k }, () => new Array<number>(d).fill(0));
    const counts = new Array<number>(k).fill(0);
    rows.forEach((row, i) => {
      counts[labels[i]]++;
      row.forEach((v, j) => (sums[labels[i]][j] += v));
    });
    if (counts.some((m) => m === 0)) continue;
    let inertia = 0;
    rows.forEach((row, i) => row.forEach((v, j) => (inertia += (v - sums[labels[i]][j] / counts[labels[i]]) ** 2)));
    best = Math.min(best, inertia);
  }
  return best;
}

/** Recomputes Σ ‖x_i − c_{a_i}‖² in float64 and checks a_i is a nearest centre. */
function checkResult(rows: Float32Array, d: number, centres: Float32Array, assignments: Int32Array, inertia: number): void {
  const n = rows.length / d;
  const k = centres.length / d;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const dist = (c: number) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (rows[i * d + j] - centres[c * d + j]) ** 2;
      return s;
    };
    const own = dist(assignments[i]);
    for (let c = 0; c < k; c++) expect(own).toBeLessThanOrEqual(dist(c) + 1e-5);
    total += own;
  }
  expect(Math.abs(total - inertia)).toBeLessThanOrEqual(1e-9 * Math.max(1, total));
}

function blobs(perBlob: number, centres: number[][], spread: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  const d = centres[0].length;
  const out = new Float32Array(perBlob * centres.length * d);
  let r = 0;
  for (let i = 0; i < perBlob; i++) {
    for (const centre of centres) {
      for (let j = 0; j < d; j++) out[r * d + j] = centre[j] + spread * rng.normal();
      r++;
    }
  }
  return out;
}

describe('kmeans', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('reaches the brute-force optimum on tiny problems, never below it', async () => {
    const rng = Rng.fromSeed(5);
    for (const [n, k] of [
      [7, 2],
      [8, 3],
    ]) {
      const rows = Array.from({ length: n }, () => [rng.normal() * 3, rng.normal()]);
      const optimum = bruteForceInertia(rows, k);
      const values = Float32Array.from(rows.flat());
      const x = tf.tensor2d(values, [n, 2]);
      const found: number[] = [];
      for (let seed = 0; seed < 5; seed++) {
        const result = await kmeans(x, k, { seed, algorithm: 'lloyd', returnAssignments: true });
        checkResult(values, 2, result.centres.dataSync() as Float32Array, result.assignments as Int32Array, result.inertia);
        result.centres.dispose();
        expect(result.inertia).toBeGreaterThanOrEqual(optimum * (1 - 1e-6));
        found.push(result.inertia);
      }
      x.dispose();
      expect(Math.min(...found)).toBeLessThanOrEqual(optimum * (1 + 1e-6));
    }
  });

  it('recovers well-separated Gaussian blobs with Lloyd and with mini-batches', async () => {
    const truth = [
      [0, 0, 0, 0],
      [10, 0, 0, 0],
      [0, 10, 0, 0],
      [0, 0, 10, 10],
      [-10, -10, 0, 0],
    ];
    const values = blobs(200, truth, 0.5, 1);
    const x = tf.tensor2d(values, [1000, 4]);
    for (const algorithm of ['lloyd', 'minibatch'] as const) {
      const result = await kmeans(x, 5, { seed: 3, algorithm, batchSize: 100, returnAssignments: true });
      expect(result.algorithm).toBe(algorithm);
      const centres = result.centres.dataSync();
      result.centres.dispose();
      // every true centre has a found centre within 0.15
      for (const t of truth) {
        const nearest = Math.min(...[0, 1, 2, 3, 4].map((c) => Math.hypot(...t.map((v, j) => v - centres[c * 4 + j]))));
        expect(nearest).toBeLessThan(0.15);
      }
      // rows of one blob share a label (rows are interleaved: row r belongs to blob r % 5)
      const labels = result.assignments as Int32Array;
      for (let r = 5; r < 1000; r++) expect(labels[r]).toBe(labels[r % 5]);
      expect(result.inertia / 1000).toBeLessThan(4 * 0.25 * 1.1); // ≈ d·σ²
    }
    x.dispose();
  });

  it('reports progress against a total that bounds every pass, mini-batch steps and refinement alike', async () => {
    const values = blobs(
      300,
      [
        [0, 0],
        [3, 0],
        [0, 3],
      ],
      1,
      2,
    );
    const x = tf.tensor2d(values, [900, 2]);
    for (const options of [
      // one epoch of 15 steps (tolerance 0: no early stop), then 3 Lloyd passes
      { algorithm: 'minibatch' as const, batchSize: 64, maxIterations: 1, tolerance: 0, refineIterations: 3 },
      { algorithm: 'lloyd' as const, maxIterations: 50 },
    ]) {
      const events: ProgressEvent[] = [];
      const result = await kmeans(x, 3, { seed: 4, ...options, progress: (e) => events.push(e) });
      result.centres.dispose();
      const total = options.algorithm === 'minibatch' ? 15 + 3 : 50;
      expect(events.map((e) => e.total)).toEqual(events.map(() => total));
      for (const e of events) expect(e.completed).toBeLessThanOrEqual(total);
      expect(events.at(-1)).toMatchObject({ phase: 'end', completed: result.iterations });
      if (options.algorithm === 'minibatch') expect(result.iterations).toBeGreaterThan(15); // the refinement ran past the steps
    }
    x.dispose();
  });

  it('gives identical results for the same seed and backend', async () => {
    const values = blobs(
      300,
      [
        [0, 0],
        [3, 0],
        [0, 3],
      ],
      1,
      2,
    );
    const x = tf.tensor2d(values, [900, 2]);
    const a = await kmeans(x, 3, { seed: 11, algorithm: 'minibatch', batchSize: 64, refineIterations: 1 });
    const b = await kmeans(x, 3, { seed: Rng.fromSeed(11), algorithm: 'minibatch', batchSize: 64, refineIterations: 1 });
    expect(Array.from(b.centres.dataSync())).toEqual(Array.from(a.centres.dataSync()));
    expect(b.inertia).toBe(a.inertia);
    expect(b.iterations).toBe(a.iterations);
    tf.dispose([a.centres, b.centres, x]);
  });

  it('keeps its seeded results bit for bit (Lloyd with a seeding sample, mini-batch with refinement, mini-batch repair)', async () => {
    // Pinned from the implementation before kmeans() was split into named steps: a
    // refactor that reorders a float operation or a random draw changes these numbers.
    const rng = Rng.fromSeed(7);
    const truth = [
      [0, 0],
      [4, 0],
      [0, 4],
    ];
    const values = Float32Array.from({ length: 180 * 2 }, (_, i) => truth[Math.floor(i / 2) % 3][i % 2] + 1.2 * rng.normal());
    const x = tf.tensor2d(values, [180, 2]);
    const init = tf.tensor2d([0, 0, 4, 0, 100, 100, 0, 4], [4, 2]);
    const lloyd = await kmeans(x, 4, { seed: 5, algorithm: 'lloyd', initSize: 50, returnAssignments: true });
    const minibatch = await kmeans(x, 4, { seed: 5, algorithm: 'minibatch', batchSize: 16, initSize: 50 });
    const repaired = await kmeans(x, 4, { seed: 5, algorithm: 'minibatch', batchSize: 16, initialCentres: init, refineIterations: 0 });
    const summary = (r: typeof lloyd) => ({
      centres: Array.from(r.centres.dataSync()),
      inertia: r.inertia,
      iterations: r.iterations,
      repairs: r.emptyClusterRepairs,
      converged: r.converged,
    });
    expect(summary(lloyd)).toEqual({
      centres: [
        0.25085556507110596, 4.189878940582275, 2.274026870727539, -0.6355288624763489, -0.7457003593444824, 0.35928329825401306, 4.576462745666504,
        0.4351963698863983,
      ],
      inertia: 383.2501345051741,
      iterations: 4,
      repairs: 0,
      converged: true,
    });
    expect((lloyd.assignments as Int32Array).reduce((sum, a, i) => sum + (i + 1) * a, 0)).toBe(22666);
    expect(summary(minibatch)).toEqual({
      centres: [
        0.3029250502586365, 4.171390533447266, 1.8509622812271118, -0.3816172182559967, -0.8514407873153687, 0.3402332663536072, 4.511589527130127,
        0.14936864376068115,
      ],
      inertia: 381.74349974856534,
      iterations: 38,
      repairs: 0,
      converged: true,
    });
    expect(summary(repaired)).toEqual({
      centres: [
        -0.10894890874624252, -0.05606834217905998, 4.020251274108887, -0.32971736788749695, -1.718727469444275, 1.7758334875106812, 0.15451295673847198,
        4.271108150482178,
      ],
      inertia: 438.2333405902595,
      iterations: 13,
      repairs: 1,
      converged: true,
    });
    tf.dispose([lloyd.centres, minibatch.centres, repaired.centres, init, x]);
  });

  it('handles k = n: every row its own centre, inertia 0', async () => {
    const values = Float32Array.from([0, 0, 1, 0, 0, 1, 5, 5, 2, 3, -1, 4]);
    const x = tf.tensor2d(values, [6, 2]);
    const result = await kmeans(x, 6, { seed: 1, returnAssignments: true });
    x.dispose();
    expect(result.inertia).toBe(0);
    expect(new Set(result.assignments).size).toBe(6);
    const centres = Array.from(result.centres.dataSync());
    result.centres.dispose();
    const asPairs = (v: number[]) => Array.from({ length: 6 }, (_, i) => `${v[2 * i]},${v[2 * i + 1]}`).sort();
    expect(asPairs(centres)).toEqual(asPairs(Array.from(values)));
  });

  it('handles duplicate rows, also with more clusters than distinct rows (repairs counted, no NaN)', async () => {
    const distinct = [
      [1, 2],
      [-3, 0],
      [4, 4],
    ];
    const values = Float32Array.from(Array.from({ length: 30 }, (_, i) => distinct[i % 3]).flat());
    const x = tf.tensor2d(values, [30, 2]);
    const three = await kmeans(x, 3, { seed: 2, algorithm: 'lloyd' });
    expect(three.inertia).toBe(0);
    expect(three.emptyClusterRepairs).toBe(0);
    const logger = createMemoryLogger();
    const four = await kmeans(x, 4, { seed: 2, algorithm: 'lloyd', logger });
    expect(four.inertia).toBe(0);
    expect(four.emptyClusterRepairs).toBeGreaterThan(0);
    expect(logger.records.some((r) => r.level === 'warn' && /empty clusters/.test(r.message))).toBe(true);
    expect(Array.from(four.centres.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([three.centres, four.centres, x]);
  });

  it('repairs a forced empty cluster from the farthest rows (Lloyd and mini-batch)', async () => {
    const rows = [[0], [0.1], [0.2], [10], [10.1], [10.2], [10.6]];
    const values = Float32Array.from(rows.flat());
    const x = tf.tensor2d(values, [7, 1]);
    const init = tf.tensor2d([0.1, 10.1, 100], [3, 1]);
    const result = await kmeans(x, 3, { seed: 0, algorithm: 'lloyd', initialCentres: init, returnAssignments: true });
    expect(result.emptyClusterRepairs).toBe(1);
    // the far centre moved onto the farthest row (10.6), which is the 3-cluster optimum
    expect(result.inertia).toBeCloseTo(bruteForceInertia(rows, 3), 5);
    expect(Array.from(result.centres.dataSync()).sort((a, b) => a - b)[2]).toBeCloseTo(10.6, 5);
    result.centres.dispose();

    const many = Float32Array.from(blobs(100, [[0], [10]], 0.3, 4));
    const xm = tf.tensor2d(many, [200, 1]);
    const batch = await kmeans(xm, 3, { seed: 1, algorithm: 'minibatch', batchSize: 20, initialCentres: init, refineIterations: 0 });
    expect(batch.emptyClusterRepairs).toBeGreaterThan(0);
    expect(Math.max(...batch.centres.dataSync())).toBeLessThan(12);
    tf.dispose([batch.centres, init, x, xm]);
  });

  it('leaks no tensor and leaves its input alive', async () => {
    const x = tf.tensor2d(
      blobs(
        50,
        [
          [0, 0],
          [5, 5],
        ],
        1,
        3,
      ),
      [100, 2],
    );
    await expectNoLeakedTensors(async () => {
      const lloyd = await kmeans(x, 2, { seed: 1, algorithm: 'lloyd', chunkRows: 16 });
      lloyd.centres.dispose();
      const batch = await kmeans(x, 2, { seed: 1, algorithm: 'minibatch', batchSize: 10, chunkRows: 7 });
      batch.centres.dispose();
    });
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('rejects bad input with errors naming what was expected', async () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    await expect(kmeans(x, 3, { seed: 0, where: 'layer conv1' })).rejects.toThrow(/layer conv1: fewer rows than clusters \(expected at least 3 rows, got 2\)/);
    await expect(kmeans(x, 1, { seed: 0, algorithm: 'elkan' as never })).rejects.toThrow(/expected one of auto, lloyd, minibatch/);
    await expect(kmeans(x, 1, { seed: 0, batchSize: 0 })).rejects.toThrow(/batchSize must be an integer ≥ 1/);
    const init = tf.zeros([1, 3]) as tf.Tensor2D;
    await expect(kmeans(x, 1, { seed: 0, initialCentres: init })).rejects.toThrow(/expected \[1, 2\], got \[1,3\]/);
    const bad = tf.tensor2d([1, NaN], [1, 2]);
    await expect(kmeans(bad, 1, { seed: 0 })).rejects.toThrow(/NaN or Inf/);
    tf.dispose([x, init, bad]);
  });
});
