/**
 * BatchNormalization after an initialized layer (docs/method.md#batch-norm, where
 * the paper is silent): rather than fighting it, set its moving mean/variance to the per-channel
 * mean μ_i and the population variance of its input on the sample, γ = 1, β = 0.
 * The moving variance is σ_i² − ε_bn (ε_bn the layer's epsilon), so that in inference
 * mode it outputs exactly (x − μ_i)/σ_i: mean 0, std 1 on the sample. A channel with
 * σ_i² ≤ 2·ε_bn keeps σ_i² (its output std is then √(σ_i²/(σ_i² + ε_bn)) < 1).
 */
import * as tf from '@tensorflow/tfjs';
import { hasWeight, writeWeight, type ParameterLayer } from '@ddinit/models';
import { channelMoments, type ChannelMoments } from './channel-moments';

/**
 * Writes the moving statistics of `layer` (a batchnorm) from its input `x` (not disposed)
 * and returns the input moments.
 *
 * @throws ShapeError (from the weight writes) when the layer's axis is not the last one.
 */
export function calibrateBatchNorm(layer: ParameterLayer, x: tf.Tensor): ChannelMoments {
  const moments = channelMoments(x, `layer ${layer.name}`);
  const c = moments.mean.length;
  const epsilon = Number(layer.layer.getConfig()['epsilon'] ?? 1e-3);
  const values: [Parameters<typeof writeWeight>[1], Float32Array][] = [
    ['movingMean', Float32Array.from(moments.mean)],
    ['movingVariance', Float32Array.from(moments.std, (s) => (s * s > 2 * epsilon ? s * s - epsilon : s * s))],
    ['gamma', new Float32Array(c).fill(1)],
    ['beta', new Float32Array(c)],
  ];
  for (const [role, data] of values) {
    if (!hasWeight(layer, role)) continue;
    const t = tf.tensor1d(data);
    try {
      writeWeight(layer, role, t);
    } finally {
      t.dispose();
    }
  }
  return moments;
}
