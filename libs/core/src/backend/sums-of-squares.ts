/**
 * Σ x² of many tensors in one kernel call and one read back: the gradient norm and the
 * per-layer update norms of @ddinit/train's divergence guard. With one tf.sum(tf.square(g))
 * per weight a caffenet-small step spent 22 Sum calls (and as many Squares) on them
 * (docs/RESULTS.md, "Training step (issue 13)").
 *
 * The kernel is registered on wasm by {@link registerWasmTrainingKernels}; on a backend
 * without it {@link sumsOfSquares} returns undefined and the caller keeps its own ops.
 * This module imports only tfjs, so libraries use it without choosing a backend.
 */
import * as tf from '@tensorflow/tfjs';

/** The kernel's name: inputs `x0 … x{n−1}`, output float32 `[n]` with output[i] = Σ xᵢ². */
export const SUMS_OF_SQUARES = 'DdinitSumsOfSquares';

/**
 * [Σ t₀², Σ t₁², …] (float32 tensors; each sum accumulated in float64), or undefined when the
 * active backend has no such kernel. No tensor is left behind.
 */
export function sumsOfSquares(tensors: readonly tf.Tensor[]): Float32Array | undefined {
  if (tf.getKernel(SUMS_OF_SQUARES, tf.getBackend()) === undefined) return undefined;
  if (tensors.length === 0) return new Float32Array(0);
  const inputs = Object.fromEntries(tensors.map((t, i) => [`x${i}`, t]));
  const out = tf.engine().runKernel(SUMS_OF_SQUARES, inputs, { count: tensors.length }) as tf.Tensor;
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}
