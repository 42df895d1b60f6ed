/**
 * Starting points and probes for this library's specs (not exported): a
 * per-channel normalization of every layer on the sample (the within-layer step
 * of docs/method.md#normalization, with β = 0, re-implemented here so the specs do not
 * depend on the within-layer library), seeded batches and pre-activation capture.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
import { GraphExecutor, hasWeight, readKernel, writeBias, writeKernel } from '@ddinit/models';

/**
 * For every conv/dense layer in topological order: zero bias, per-channel μ_i and
 * σ_i of the pre-activation on `x`, then W(:, i) ← W(:, i)/σ_i, b_i ← −μ_i/σ_i.
 * Mutates the model.
 */
export function normalizeChannels(model: tf.LayersModel, x: tf.Tensor): void {
  const run = new GraphExecutor(model, x);
  try {
    for (const p of run.parameterLayers) {
      if (p.kind !== 'conv' && p.kind !== 'dense') continue;
      if (p.hasBias) {
        const zeros = tf.zeros([p.outputChannels]);
        writeBias(p, zeros);
        zeros.dispose();
      }
      run.invalidate(p.name);
      const z = run.preActivation(p.name);
      const kernel = readKernel(p);
      const [scaled, bias] = tf.tidy(() => {
        const axes = Array.from({ length: z.rank - 1 }, (_, i) => i);
        const { mean, variance } = tf.moments(z, axes);
        const std = tf.sqrt(tf.maximum(variance, 1e-12));
        return [tf.div(kernel, std), tf.neg(tf.div(mean, std))];
      });
      writeKernel(p, scaled);
      if (p.hasBias && hasWeight(p, 'bias')) writeBias(p, bias);
      tf.dispose([z, kernel, scaled, bias]);
      run.invalidate(p.name);
      run.commit(p.name);
    }
  } finally {
    run.dispose();
  }
}

/** A seeded N(0, 1) batch `[n, ...shape]`. */
export function seededBatch(shape: number[], seed: number): tf.Tensor {
  const rng = Rng.fromSeed(seed).derive('spec-batch');
  const data = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return tf.tensor(data, shape);
}

/** Pre-activations of every conv/dense layer on `x` (name → values), and the model output. */
export function capturePreActivations(model: tf.LayersModel, x: tf.Tensor): { pre: Map<string, Float32Array>; output: Float32Array; outputShape: number[] } {
  const run = new GraphExecutor(model, x);
  try {
    const pre = new Map<string, Float32Array>();
    for (const p of run.parameterLayers) {
      if (p.kind !== 'conv' && p.kind !== 'dense') continue;
      const z = run.preActivation(p.name);
      pre.set(p.name, z.dataSync() as Float32Array);
      z.dispose();
    }
    const y = run.output() as tf.Tensor;
    const output = y.dataSync() as Float32Array;
    const outputShape = y.shape;
    y.dispose();
    return { pre, output, outputShape };
  } finally {
    run.dispose();
  }
}
