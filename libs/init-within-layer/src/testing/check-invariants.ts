/**
 * Spec support (not exported): smooth, image-like seeded samples and a fresh-forward
 * check of the within-layer invariants.
 */
import * as tf from '@tensorflow/tfjs';
import { GraphExecutor } from '@ddinit/models';
import { channelMoments } from '../channel-moments';
import type { WithinLayerReport } from '../initialize-within-layers';

/**
 * `[n, h, w, c]` images: low-resolution uniform noise upsampled bilinearly (spatially
 * correlated, like photos) plus a little pixel noise, values ≈ [0, 1].
 */
export function smoothImages(n: number, shape: readonly [number, number, number], seed: number): tf.Tensor4D {
  const [h, w, c] = shape;
  return tf.tidy(() => {
    const coarse = tf.randomUniform([n, Math.max(2, Math.ceil(h / 4)), Math.max(2, Math.ceil(w / 4)), c], 0, 1, 'float32', seed);
    const up = tf.image.resizeBilinear(coarse as tf.Tensor4D, [h, w], true);
    return tf.add(up, tf.randomNormal([n, h, w, c], 0, 0.05, 'float32', seed + 1)) as tf.Tensor4D;
  });
}

export interface InvariantDeviation {
  layer: string;
  mean: number;
  std: number;
}

/**
 * Re-runs the model on `sample` and returns, per initialized layer, the worst
 * |μ_i − β| (layers with a bias; batchnorm: of its output vs 0) and |σ_i − 1|.
 */
export function measureInvariants(model: tf.LayersModel, sample: tf.Tensor, report: WithinLayerReport): InvariantDeviation[] {
  const run = new GraphExecutor(model, sample);
  try {
    return report.layers
      .filter((s) => s.method !== 'kept' && s.residualScale === null)
      .map((s) => {
        const z = s.kind === 'batchnorm' ? run.layerOutput(s.name) : run.preActivation(s.name);
        try {
          const m = channelMoments(z, s.name);
          let mean = 0;
          let std = 0;
          m.mean.forEach((v, i) => {
            if (s.hasBias) mean = Math.max(mean, Math.abs(v - s.beta));
            std = Math.max(std, Math.abs(m.std[i] - 1));
          });
          return { layer: s.name, mean, std };
        } finally {
          z.dispose();
        }
      });
  } finally {
    run.dispose();
  }
}
