import * as tf from '@tensorflow/tfjs';
import { ConfigError, Rng, ShapeError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { knnClassify, type KnnMetric, type KnnVote } from './knn-classify';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Rows of Gaussian features around one random centre per class. */
function clusters(sample: Rng, rows: number, d: number, classes: number, spread: number): { x: Float32Array; labels: Int32Array } {
  const centres = Rng.fromSeed(1)
    .derive('centres')
    .fillNormal(new Float32Array(classes * d));
  const noise = sample.derive('noise').fillNormal(new Float32Array(rows * d), 0, spread);
  const rng = sample.derive('labels');
  const labels = Int32Array.from({ length: rows }, () => rng.int(classes));
  const x = noise.map((v, i) => v + centres[labels[Math.floor(i / d)] * d + (i % d)]);
  return { x, labels };
}

/** The definition, in float64 over the whole matrix: sort every reference by similarity, vote over the first k. */
function bruteForce(
  ref: Float32Array,
  labels: Int32Array,
  query: Float32Array,
  d: number,
  k: number,
  classes: number,
  metric: KnnMetric,
  vote: KnnVote,
): Int32Array {
  const n = labels.length;
  const row = (a: Float32Array, i: number) => Array.from(a.subarray(i * d, (i + 1) * d));
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const similarity = (q: number[], r: number[]) =>
    metric === 'cosine' ? q.reduce((s, x, i) => s + x * r[i], 0) / (norm(q) * norm(r)) : -Math.sqrt(q.reduce((s, x, i) => s + (x - r[i]) ** 2, 0));
  return Int32Array.from({ length: query.length / d }, (_, qi) => {
    const q = row(query, qi);
    const ranked = Array.from({ length: n }, (_, j) => ({ j, s: similarity(q, row(ref, j)) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, k);
    const votes = new Array<number>(classes).fill(0);
    for (const { j, s } of ranked) votes[labels[j]] += vote === 'majority' ? 1 : Math.exp((s - ranked[0].s) / 0.07);
    const best = Math.max(...votes);
    // A tie goes to the tied class whose best neighbour ranks first.
    const winner = ranked.find(({ j }) => votes[labels[j]] === best);
    return winner === undefined ? -1 : labels[winner.j];
  });
}

describe('k-nearest-neighbour classification', () => {
  const d = 12;
  const classes = 5;
  const train = clusters(Rng.fromSeed(1), 400, d, classes, 1.2);
  const test = clusters(Rng.fromSeed(2), 150, d, classes, 1.2);
  const testX = test.x;

  for (const [metric, vote, k] of [
    ['cosine', 'majority', 7],
    ['l2', 'majority', 4],
    ['cosine', 'exp-similarity', 20],
    ['l2', 'exp-similarity', 5],
  ] as const) {
    it(`predicts what brute force over the whole matrix predicts (${metric}, ${vote}, k = ${k}), in blocks of a few queries`, async () => {
      const references = tf.tensor2d(train.x, [400, d]);
      const queries = tf.tensor2d(testX, [150, d]);
      await expectNoLeakedTensors(() => {
        const blocked = knnClassify(references, train.labels, queries, { k, metric, vote, classes, blockElements: 400 * 7 });
        const whole = knnClassify(references, train.labels, queries, { k, metric, vote, classes });
        expect(Array.from(blocked.predicted)).toEqual(Array.from(whole.predicted));
        expect(Array.from(blocked.predicted)).toEqual(Array.from(bruteForce(train.x, train.labels, testX, d, k, classes, metric, vote)));
        const accuracy = blocked.predicted.filter((p, i) => p === test.labels[i]).length / 150;
        expect(accuracy).toBeGreaterThan(0.6); // 5 classes: chance 0.2
      });
      tf.dispose([references, queries]);
    });
  }

  it('refuses features of different lengths, labels out of range and a k larger than the references', () => {
    const references = tf.zeros([4, 3]) as tf.Tensor2D;
    const queries = tf.zeros([2, 5]) as tf.Tensor2D;
    const options = { k: 2, metric: 'cosine', vote: 'majority', classes: 2 } as const;
    expect(() => knnClassify(references, [0, 1, 0, 1], queries, options)).toThrow(ShapeError);
    const fit = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => knnClassify(references, [0, 1, 0, 2], fit, options)).toThrow(/reference labels\[3\]: a class index is out of range/);
    expect(() => knnClassify(references, [0, 1, 0, 1], fit, { ...options, k: 5 })).toThrow(ConfigError);
    tf.dispose([references, queries, fit]);
  });
});
