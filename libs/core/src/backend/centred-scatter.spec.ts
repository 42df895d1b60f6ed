import * as tf from '@tensorflow/tfjs';
import { loadNativeBlas } from '@ddinit/native-blas';
import { afterAll, describe, expect, it } from 'vitest';
import { computeCovariance } from '../linalg/covariance';
import { useBackend } from '../testing';
import { expectNoLeaks, normalData } from '../testing/backend-comparison';
import { CENTRED_SCATTER, centredScatter } from './centred-scatter';

const native = loadNativeBlas().ok;

/** The covariance of the rows (population), by two float64 passes: the oracle. */
function covarianceOracle(x: Float32Array, n: number, f: number): Float64Array {
  const mean = new Float64Array(f);
  for (let r = 0; r < n; r++) for (let j = 0; j < f; j++) mean[j] += x[r * f + j] / n;
  const c = new Float64Array(f * f);
  for (let r = 0; r < n; r++) for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) c[a * f + b] += ((x[r * f + a] - mean[a]) * (x[r * f + b] - mean[b])) / n;
  return c;
}

describe.skipIf(!native)('the DdinitCentredScatter kernel (OpenBLAS addon built)', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('is registered on wasm with the addon only, and centredScatter says undefined without it', async () => {
    await useBackend('wasm', { nativeBlas: false });
    const x = tf.ones([4, 3]) as tf.Tensor2D;
    const s = tf.zeros([3]) as tf.Tensor1D;
    expect(tf.getKernel(CENTRED_SCATTER, 'wasm')).toBeUndefined();
    expect(centredScatter(x, s)).toBeUndefined();
    await useBackend('wasm', { nativeBlas: true });
    expect(tf.getKernel(CENTRED_SCATTER, 'wasm')).toBeDefined();
    tf.dispose([x, s]);
  });

  it('computeCovariance through it: the float64 oracle to float32 rounding, as the tfjs route gives, one block or several, nothing left behind', async () => {
    const [n, f] = [700, 24];
    const values = normalData([n, f], 3).map((v, k) => 50 + (k % f) + (1 + (k % 5)) * v); // means far from 0
    const oracle = covarianceOracle(values, n, f);
    const scale = Math.max(...oracle.map(Math.abs));
    const results: Float64Array[] = [];
    for (const nativeBlas of [true, false]) {
      await useBackend('wasm', { nativeBlas });
      const x = tf.tensor2d(values, [n, f]);
      for (const blockRows of [8192, 256]) {
        const { covariance } = computeCovariance(x, { blockRows });
        covariance.data.forEach((v, k) => expect(Math.abs(v - oracle[k])).toBeLessThan(2e-6 * scale));
        results.push(covariance.data);
      }
      await expectNoLeaks(() => computeCovariance(x, { blockRows: 256 }));
      x.dispose();
    }
    results[0].forEach((v, k) => expect(Math.abs(v - results[2][k])).toBeLessThan(2e-6 * scale)); // native ≈ tfjs ops
  });
});
