/**
 * Helpers for the specs of every ddinit project: a backend set up once per test
 * file, leak checks and tolerant comparisons.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName, type BackendSelection } from '../backend';

/**
 * Sets the backend for a spec file (wasm by default, with ddinit's kernels and,
 * when it is built, the native BLAS addon; `nativeBlas: false` keeps the
 * portable kernels, for the specs of those kernels).
 */
export async function useBackend(name: BackendName = 'wasm', options: { nativeBlas?: boolean } = {}): Promise<BackendSelection> {
  tf.env().set('IS_TEST', true);
  return selectBackend(name, options);
}

/**
 * Runs `fn` and asserts that it leaves no tensor behind (tensors it returns are
 * counted as leaks too, so dispose them inside `fn`).
 */
export async function expectNoLeakedTensors(fn: () => unknown): Promise<void> {
  const before = tf.memory().numTensors;
  await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`leaked ${after - before} tensor(s): ${before} before, ${after} after`);
  }
}

/** max |a − b| / max(max |b|, tiny): one relative error for a whole array. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: ${actual.length} vs ${expected.length}`);
  }
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}
