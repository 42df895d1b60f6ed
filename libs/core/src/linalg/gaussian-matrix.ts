/**
 * Large seeded N(0, 1) draws for the data-free weight sources (docs/method.md#random-sources).
 *
 * `Rng.fillNormal` (53-bit uniforms, Box–Muller, one method call per value) and tfjs's
 * `randomNormal` (seedrandom + Marsaglia in JavaScript, then a copy into the backend) take
 * seconds for CaffeNet's fc6 kernel (9216 × 4096 = 3.8e7 values; docs/RESULTS.md, issue 16).
 * This draws the same distribution in one tight loop: xoshiro128** (state from the caller's
 * Rng, so the draw is still a pure function of the run seed) and the Marsaglia polar method
 * on 32-bit uniforms, two values per accepted pair (acceptance π/4):
 *
 *   u, v ~ U(−1, 1),  s = u² + v²,  accept 0 < s < 1;  z₁ = u·√(−2 ln s / s),  z₂ = v·√(−2 ln s / s).
 *
 * 32-bit uniforms bound |z| by √(2 ln 2⁶²) ≈ 9.3, far beyond any tail a float32 weight matrix samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';

const TWO_TO_MINUS_31 = 1 / 2147483648;

/**
 * Fills `out` with independent N(0, 1) values drawn from a stream seeded by `rng`
 * (four 32-bit draws are taken from it) and returns `out`.
 * @example const g = fillGaussian(new Float32Array(9216 * 4096), rng.derive('fc6')); // ≈ 0.5 s
 */
export function fillGaussian(out: Float32Array, rng: Rng): Float32Array {
  let s0 = rng.nextUint32() | 0;
  let s1 = rng.nextUint32() | 0;
  let s2 = rng.nextUint32() | 0;
  let s3 = rng.nextUint32() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s3 = 1;
  const n = out.length;
  let i = 0;
  while (i < n) {
    // Two xoshiro128** outputs as signed 32-bit integers, scaled to [−1, 1). The step is written out
    // twice on purpose: as a closure over s0…s3 the fc6 fill took 0.85–0.89 s instead of 0.56–0.80 s.
    let r = Math.imul(s1, 5);
    const x = Math.imul((r << 7) | (r >>> 25), 9);
    let t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    r = Math.imul(s1, 5);
    const y = Math.imul((r << 7) | (r >>> 25), 9);
    t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    const u = x * TWO_TO_MINUS_31;
    const v = y * TWO_TO_MINUS_31;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
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
