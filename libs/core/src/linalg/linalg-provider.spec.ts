import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NumericalError } from '../errors';
import { expectNoLeakedTensors, useBackend } from '../testing';
import { choleskyQrOrthonormalize, orthonormalDraw, orthonormalizeColumns } from './cholesky-qr';
import { linalgProvider, setLinalgProvider, type LinalgProvider } from './linalg-provider';
import { javascriptGaussian } from './gaussian-matrix';
import { denseEigenpairs, javascriptEigenpairs } from './symmetric-eigen';
import { chooseEigenMethod } from './top-eigenpairs';

/** A provider that records its calls and answers from the JavaScript reference (or fails when told to). */
function recordingProvider(options: { qrFails?: boolean; haarFails?: boolean; eigenFails?: boolean } = {}) {
  const calls: string[] = [];
  const provider: LinalgProvider = {
    name: 'recording',
    orthonormalizeColumns(data, rows, cols) {
      calls.push(`qr ${rows}×${cols}`);
      if (options.qrFails) return false;
      const q = tf.tidy(() => choleskyQrOrthonormalize(tf.tensor2d(data, [rows, cols])).dataSync());
      data.set(q);
      return true;
    },
    haarOrthonormal(data, rows, cols) {
      calls.push(`haar ${rows}×${cols}`);
      if (options.haarFails) return false;
      data.set(tf.tidy(() => choleskyQrOrthonormalize(tf.tensor2d(data, [rows, cols])).dataSync()).map((v) => -v));
      return true;
    },
    symmetricEigenpairs(data, size, count) {
      calls.push(`eigen ${size}/${count}`);
      if (options.eigenFails) return undefined;
      const { values, vectors } = javascriptEigenpairs({ size, data }, count);
      for (let i = 0; i < vectors.length; i++) vectors[i] = -vectors[i]; // signs are the caller's job
      return { values, vectors };
    },
    fillGaussian(out, state) {
      calls.push(`gaussian ${out.length}`);
      javascriptGaussian(out, state);
    },
    kmeansPlusPlus: () => {
      throw new Error('k-means is not part of these specs (lapack-provider.spec.ts checks it)');
    },
    nearestCentres: () => {
      throw new Error('k-means is not part of these specs (lapack-provider.spec.ts checks it)');
    },
  };
  return { provider, calls };
}

describe('the linear-algebra provider seam', () => {
  beforeAll(async () => {
    await useBackend('cpu'); // no addon on cpu: only the providers these specs register
  });
  afterEach(() => setLinalgProvider(undefined));

  it('runs the JavaScript algorithms when no provider is registered', () => {
    expect(linalgProvider()).toBeUndefined();
    expect(chooseEigenMethod(2304, 384)).toBe('subspace');
  });

  it('orthonormalizeColumns goes to the registered provider, leaving the input tensor unchanged and no tensor behind', async () => {
    const { provider, calls } = recordingProvider();
    setLinalgProvider(provider);
    const y = tf.randomNormal([40, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const before = y.dataSync().slice();
    await expectNoLeakedTensors(() => orthonormalizeColumns(y).dispose());
    expect(calls).toEqual(['qr 40×6']);
    expect(y.dataSync()).toEqual(before);
    y.dispose();
  });

  it('a matrix the provider finds suspect is decided by CholeskyQR: accepted if it can, else the same NumericalError', () => {
    const { provider, calls } = recordingProvider({ qrFails: true });
    setLinalgProvider(provider);
    const y = tf.randomNormal([30, 4], 0, 1, 'float32', 9) as tf.Tensor2D;
    const q = orthonormalizeColumns(y);
    const reference = choleskyQrOrthonormalize(y);
    expect(q.dataSync()).toEqual(reference.dataSync());
    const dependent = tf.ones([30, 2]) as tf.Tensor2D;
    expect(() => orthonormalizeColumns(dependent, 'layer fc7')).toThrow(/^layer fc7: columns are numerically linearly dependent/);
    expect(calls).toEqual(['qr 30×4', 'qr 30×2']);
    tf.dispose([y, q, reference, dependent]);
  });

  it('orthonormalDraw takes the provider’s draw of the taller orientation, and CholeskyQR of the same Gaussian matrix when it fails', async () => {
    const reference = orthonormalDraw(5, 12, 3).dataSync().slice(); // no provider yet: the JavaScript path
    const { provider, calls } = recordingProvider();
    setLinalgProvider(provider);
    await expectNoLeakedTensors(() => {
      const drawn = orthonormalDraw(5, 12, 3);
      expect(drawn.shape).toEqual([5, 12]);
      expect(Array.from(drawn.dataSync())).toEqual(Array.from(reference, (v) => -v)); // the stand-in negates
      drawn.dispose();
    });
    setLinalgProvider(recordingProvider({ haarFails: true }).provider);
    const fallback = orthonormalDraw(5, 12, 3);
    expect(Array.from(fallback.dataSync())).toEqual(Array.from(reference));
    expect(calls).toEqual(['gaussian 60', 'haar 12×5']);
    fallback.dispose();
  });

  it('denseEigenpairs takes the provider’s pairs with the reference sign rule, and checks the input first', () => {
    const { provider, calls } = recordingProvider();
    setLinalgProvider(provider);
    const a = { size: 3, data: Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2) };
    const got = denseEigenpairs(a, 2);
    const reference = javascriptEigenpairs(a, 2);
    expect(Array.from(got.values)).toEqual(Array.from(reference.values));
    expect(Array.from(got.vectors)).toEqual(Array.from(reference.vectors)); // flipped back by the sign rule
    expect(() => denseEigenpairs({ size: 2, data: Float64Array.of(1, 2, 3, 4) })).toThrow(/not symmetric/);
    expect(() => denseEigenpairs(a, 4)).toThrow(/integer in \[0, 3\]/);
    expect(calls).toEqual(['eigen 3/2']);
    expect(chooseEigenMethod(2304, 384)).toBe('dense');
  });

  it('a failing provider eigensolver is a NumericalError naming where and the provider', () => {
    setLinalgProvider(recordingProvider({ eigenFails: true }).provider);
    expect(() => denseEigenpairs({ size: 1, data: Float64Array.of(2) }, 1, 'layer conv3')).toThrow(NumericalError);
    expect(() => denseEigenpairs({ size: 1, data: Float64Array.of(2) }, 1, 'layer conv3')).toThrow(/^layer conv3: symmetric eigensolver failed.*recording/);
  });
});
