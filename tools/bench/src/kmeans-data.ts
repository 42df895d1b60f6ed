/**
 * Synthetic inputs of the k-means/eigensolver benchmark, all from a seeded Rng.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';

/**
 * n unit-norm rows in d dimensions drawn around `modes` random unit directions:
 * x = normalize(m_z + σ·g), z uniform, g ~ N(0, I) — the shape of whitened,
 * length-normalized patches that the kmeans initializer clusters.
 */
export function unitRowsAroundModes(n: number, d: number, modes: number, sigma: number, rng: Rng): Float32Array {
  const centres = new Float64Array(modes * d);
  for (let m = 0; m < modes; m++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal();
      centres[m * d + j] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) centres[m * d + j] /= norm;
  }
  const out = new Float32Array(n * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const m = rng.int(modes);
    let norm = 0;
    for (let j = 0; j < d; j++) {
      row[j] = centres[m * d + j] + sigma * rng.normal();
      norm += row[j] * row[j];
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[i * d + j] = row[j] / norm;
  }
  return out;
}

/**
 * n patch-like rows of length F with a power-law covariance spectrum: X = Z·diag(s)·G with
 * Z ~ N(0, 1) [n, F], s_i = (1 + i)^(−decay), G ~ N(0, 1/F) [F, F] (tf ops with seeds from rng).
 */
export function powerLawRows(n: number, f: number, decay: number, rng: Rng): tf.Tensor2D {
  return tf.tidy(() => {
    const z = tf.randomNormal([n, f], 0, 1, 'float32', rng.nextSeed());
    const s = tf.tensor1d(Float32Array.from({ length: f }, (_, i) => (1 + i) ** -decay));
    const g = tf.randomNormal([f, f], 0, 1 / Math.sqrt(f), 'float32', rng.nextSeed());
    return tf.matMul(tf.mul(z, s), g) as tf.Tensor2D;
  });
}
