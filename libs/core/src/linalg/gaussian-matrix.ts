/**
 * Large seeded N(0, 1) draws for the data-free weight sources (docs/method.md#random-sources).
 *
 * `Rng.fillNormal` (53-bit uniforms, Box–Muller, one method call per value) and tfjs's
 * `randomNormal` (seedrandom + Marsaglia in JavaScript, then a copy into the backend) take
 * seconds for CaffeNet's fc6 kernel (9216 × 4096 = 3.8e7 values; docs/RESULTS.md, issue 16).
 * This draws the same distribution in one tight loop: xoshiro128** (state from the caller's
 * Rng, so the draw is still a pure function of the run seed) and Doornik's ZIGNOR ziggurat
 * (J. A. Doornik, "An Improved Ziggurat Method to Generate Normal Random Samples", 2005;
 * Marsaglia & Tsang 2000 with independent bits for the block and the value): the density is
 * covered by C = 128 blocks of equal area V, block i spanning |x| < X_i, and one 32-bit output r
 * gives the block i = r mod 128 and u = (r ≫ 7)·2⁻²⁴ ∈ [−1, 1) (the other 25 bits):
 *
 *   |u| < X_{i+1}/X_i:  z = u·X_i                                   (≈ 98.8 % of draws: no log, no exp)
 *   i = 0 (the base):   z = ±(R − a), a = ln U₁ / R, until −2 ln U₂ ≥ a²  (the tail beyond R)
 *   else (a wedge):     z = u·X_i if f(X_{i+1}) + U·(f(X_i) − f(X_{i+1})) < f(u·X_i), f(x) = e^(−x²/2); else draw again
 *
 * with R = 3.442619855899, V = 9.91256303526217e-3, X_0 = V/f(R), X_1 = R,
 * X_i = √(−2 ln(V/X_{i−1} + f(X_{i−1}))), X_128 = 0. Why a ziggurat: the fast path costs one
 * generator step, a comparison and a product, where a polar or Box–Muller pair needs a logarithm
 * and a square root (fc6: 0.28 against 0.54 CPU-s, docs/RESULTS.md "Init speed (issue 16, part 3)").
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { linalgProvider } from './linalg-provider';

const BLOCKS = 128;
const TAIL = 3.442619855899;
const AREA = 9.91256303526217e-3;
const TWO_TO_MINUS_24 = 1 / 16777216;
const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * X_0 … X_128 of the file comment, then X_{i+1}/X_i (the fast path's bound), in one array: the
 * tables a {@link LinalgProvider}'s `fillGaussian` takes, so both draws use the same doubles.
 */
export const ZIGGURAT_TABLES = ((): Float64Array => {
  const x = new Float64Array(BLOCKS + 1);
  let f = Math.exp(-0.5 * TAIL * TAIL);
  x[0] = AREA / f;
  x[1] = TAIL;
  for (let i = 2; i < BLOCKS; i++) {
    x[i] = Math.sqrt(-2 * Math.log(AREA / x[i - 1] + f));
    f = Math.exp(-0.5 * x[i] * x[i]);
  }
  const tables = new Float64Array(2 * BLOCKS + 1);
  tables.set(x);
  for (let i = 0; i < BLOCKS; i++) tables[BLOCKS + 1 + i] = x[i + 1] / x[i];
  return tables;
})();
const EDGES = ZIGGURAT_TABLES.subarray(0, BLOCKS + 1);
const RATIOS = ZIGGURAT_TABLES.subarray(BLOCKS + 1);

/** One xoshiro128** step on `state` (s0…s3 as int32); returns a uniform in (0, 1). */
function uniform(state: Int32Array): number {
  const [s0, s1] = [state[0], state[1]];
  const r = Math.imul(s1, 5);
  const out = Math.imul((r << 7) | (r >>> 25), 9);
  const t = s1 << 9;
  state[2] ^= s0;
  state[3] ^= s1;
  state[1] ^= state[2];
  state[0] ^= state[3];
  state[2] ^= t;
  state[3] = (state[3] << 11) | (state[3] >>> 21);
  return ((out >>> 0) + 0.5) * TWO_TO_MINUS_32;
}

/** The slow paths of block `block` for u (file comment): a value, or NaN when the draw is rejected. */
function outsideBlock(state: Int32Array, block: number, u: number): number {
  if (block === 0) {
    for (;;) {
      const a = Math.log(uniform(state)) / TAIL;
      if (-2 * Math.log(uniform(state)) >= a * a) return u < 0 ? a - TAIL : TAIL - a;
    }
  }
  const x = u * EDGES[block];
  const f0 = Math.exp(-0.5 * (EDGES[block] * EDGES[block] - x * x));
  const f1 = Math.exp(-0.5 * (EDGES[block + 1] * EDGES[block + 1] - x * x));
  return f1 + uniform(state) * (f0 - f1) < 1 ? x : Number.NaN;
}

/**
 * Fills `out` with independent N(0, 1) values drawn from a stream seeded by `rng`
 * (four 32-bit draws are taken from it) and returns `out`: by the registered provider's
 * `fillGaussian` when there is one (the same values, in C), else {@link javascriptGaussian}.
 * @example const g = fillGaussian(new Float32Array(9216 * 4096), rng.derive('fc6'));
 */
export function fillGaussian(out: Float32Array, rng: Rng): Float32Array {
  const state = Int32Array.from({ length: 4 }, () => rng.nextUint32() | 0);
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[3] = 1;
  const provider = linalgProvider();
  if (provider === undefined) return javascriptGaussian(out, state);
  provider.fillGaussian(out, state, ZIGGURAT_TABLES);
  return out;
}

/**
 * {@link fillGaussian}'s loop in JavaScript from the generator state s0 … s3 (int32, not all 0):
 * the reference, and what runs without a provider. Returns `out`.
 */
export function javascriptGaussian(out: Float32Array, start: Int32Array): Float32Array {
  let [s0, s1, s2, s3] = start;
  const state = new Int32Array(4);
  const n = out.length;
  let i = 0;
  while (i < n) {
    // xoshiro128** written out on local variables: the fast path keeps no state in memory.
    const r0 = Math.imul(s1, 5);
    const r = Math.imul((r0 << 7) | (r0 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const block = r & (BLOCKS - 1);
    const u = (r >> 7) * TWO_TO_MINUS_24;
    if (Math.abs(u) < RATIOS[block]) {
      out[i++] = u * EDGES[block];
      continue;
    }
    state[0] = s0;
    state[1] = s1;
    state[2] = s2;
    state[3] = s3;
    const z = outsideBlock(state, block, u);
    [s0, s1, s2, s3] = [state[0], state[1], state[2], state[3]];
    if (!Number.isNaN(z)) out[i++] = z;
  }
  return out;
}

/**
 * A `rows`×`cols` float32 tensor of i.i.d. N(0, 1) values ({@link fillGaussian}); the caller owns it.
 * @example const w = gaussianMatrix(9216, 4096, rng.derive('fc6')); // [9216, 4096]
 */
export function gaussianMatrix(rows: number, cols: number, rng: Rng): tf.Tensor2D {
  return tf.tensor2d(fillGaussian(new Float32Array(rows * cols), rng), [rows, cols]);
}
