import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { choleskyBlocking, choleskyQrOrthonormalize as orthonormalizeColumns, orthonormalDraw } from './cholesky-qr';
import { linalgProvider, setLinalgProvider } from './linalg-provider';

/** max |QᵀQ − I| and max |Q·(QᵀY) − Y| / max |Y|: orthonormal columns spanning Y's. */
function check(y: tf.Tensor2D, q: tf.Tensor2D): { orthogonality: number; span: number } {
  return tf.tidy(() => {
    const b = q.shape[1];
    const orthogonality = tf.max(tf.abs(tf.sub(tf.matMul(q, q, true, false), tf.eye(b)))).dataSync()[0];
    const projected = tf.matMul(q, tf.matMul(q, y, true, false));
    const span = tf.max(tf.abs(tf.sub(projected, y))).dataSync()[0] / tf.max(tf.abs(y)).dataSync()[0];
    return { orthogonality, span };
  });
}

// The JavaScript reference itself: with the OpenBLAS addon built, useBackend('wasm') registers
// LAPACK behind orthonormalizeColumns (specs: backend/lapack-provider.spec.ts).
describe('choleskyQrOrthonormalize', () => {
  const defaults = { ...choleskyBlocking };
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterEach(() => Object.assign(choleskyBlocking, defaults));

  it('gives orthonormal columns spanning y, unblocked and blocked alike', async () => {
    // Columns with very different scales (condition number ≈ 1e3) make the Gram matrix hard.
    const y = tf.tidy(() => tf.mul(tf.randomNormal([700, 150], 0, 1, 'float32', 7), tf.pow(10, tf.linspace(-1.5, 1.5, 150))) as tf.Tensor2D);
    const plain = orthonormalizeColumns(y);
    Object.assign(choleskyBlocking, { block: 32, threshold: 64 }); // 5 blocks, the last one partial (150 = 4·32 + 22)
    const blocked = orthonormalizeColumns(y);
    for (const q of [plain, blocked]) {
      const { orthogonality, span } = check(y, q);
      expect(orthogonality).toBeLessThan(2e-5);
      expect(span).toBeLessThan(1e-4);
    }
    // Both are Y·R⁻¹ with R upper triangular and a positive diagonal: the same Q up to rounding.
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(plain, blocked))).dataSync()[0])).toBeLessThan(1e-4);
    tf.dispose([y, plain, blocked]);
  });

  it('blocked: leaves no tensor behind and rejects a NaN in a late block, naming where', async () => {
    Object.assign(choleskyBlocking, { block: 16, threshold: 32 });
    const y = tf.randomNormal([200, 48], 0, 1, 'float32', 3) as tf.Tensor2D;
    await expectNoLeakedTensors(() => orthonormalizeColumns(y).dispose());
    const values = y.dataSync().slice();
    values[5 * 48 + 40] = Number.NaN; // column 40: the third block of 16
    const broken = tf.tensor2d(values, [200, 48]);
    expect(() => orthonormalizeColumns(broken, 'layer fc6')).toThrow(/^layer fc6: columns are numerically linearly dependent/);
    tf.dispose([y, broken]);
  });
});

describe('orthonormalDraw', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  /** max |A·Aᵀ − I| over the shorter side of a. */
  const gramError = (a: tf.Tensor2D): number =>
    tf.tidy(() => {
      const [r, c] = a.shape;
      const gram = r <= c ? tf.matMul(a, a, false, true) : tf.matMul(a, a, true, false);
      return tf.max(tf.abs(tf.sub(gram, tf.eye(Math.min(r, c))))).dataSync()[0];
    });

  it('has orthonormal rows when wide and orthonormal columns when tall, the same for the same seed, and leaks nothing', async () => {
    await expectNoLeakedTensors(() => {
      const wide = orthonormalDraw(12, 40, 3);
      const tall = orthonormalDraw(40, 12, 3);
      const again = orthonormalDraw(12, 40, 3);
      try {
        expect(wide.shape).toEqual([12, 40]);
        expect(tall.shape).toEqual([40, 12]);
        expect(gramError(wide)).toBeLessThan(1e-5);
        expect(gramError(tall)).toBeLessThan(1e-5);
        expect(Array.from(again.dataSync())).toEqual(Array.from(wide.dataSync()));
      } finally {
        tf.dispose([wide, tall, again]);
      }
    });
  });

  it('draws from the same (Haar) distribution with and without a LinalgProvider, wide and tall: E[q] = 0, E[q²] = 1/max(rows, cols)', async () => {
    // With the LAPACK provider an 8×3 (or 3×8) draw is one Cholesky QR pass and a 5×3 one Stewart's
    // reflector product, without it CholeskyQR2 of the Gaussian matrix: one distribution (cholesky-qr.ts).
    const provider = linalgProvider();
    const draws = 600;
    await expectNoLeakedTensors(() => {
      for (const [rows, cols] of [
        [8, 3],
        [3, 8],
        [5, 3],
      ]) {
        for (const registered of [provider, undefined]) {
          setLinalgProvider(registered);
          const sum = new Float64Array(rows * cols);
          const square = new Float64Array(rows * cols);
          for (let seed = 1; seed <= draws; seed++) {
            const q = orthonormalDraw(rows, cols, seed);
            if (seed === 1) expect(gramError(q)).toBeLessThan(1e-5);
            q.dataSync().forEach((v, k) => {
              sum[k] += v;
              square[k] += v * v;
            });
            q.dispose();
          }
          setLinalgProvider(provider);
          const m = Math.max(rows, cols);
          const [m2, m4] = [1 / m, 3 / (m * (m + 2))];
          const label = registered?.name ?? 'reference';
          for (let k = 0; k < rows * cols; k++) {
            expect(Math.abs(sum[k] / draws), `${label}: mean of entry ${k}`).toBeLessThan(5 * Math.sqrt(m2 / draws));
            expect(Math.abs(square[k] / draws - m2), `${label}: E[q²] of entry ${k}`).toBeLessThan(5 * Math.sqrt((m4 - m2 * m2) / draws));
          }
        }
      }
    });
  });
});
