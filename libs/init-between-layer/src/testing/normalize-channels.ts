/**
 * A starting point for this library's specs: a per-channel normalization of every
 * layer on the sample (the within-layer step of docs/method.md#normalization, with β = 0),
 * re-implemented here so the specs do not depend on the within-layer library.
 */
import * as tf from '@tensorflow/tfjs';
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
