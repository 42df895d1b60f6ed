import type * as tf from '@tensorflow/tfjs';
import { GraphExecutor } from '@ddinit/models';

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
