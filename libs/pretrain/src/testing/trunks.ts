/** Small trunks and an accuracy probe for the pretext specs. */
import * as tf from '@tensorflow/tfjs';
import type { PretextTask } from '../pretext-task';

/** conv1 (3×3, 16 filters, ReLU) → conv2 (3×3, 16, ReLU) for inputs of `inputShape`, seeded. */
export function smallConvTrunk(inputShape: readonly [number, number, number], seed: number): tf.LayersModel {
  return tf.sequential({
    name: 'small',
    layers: [
      tf.layers.conv2d({
        name: 'conv1',
        inputShape: [...inputShape],
        filters: 16,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed }),
      }),
      tf.layers.conv2d({ name: 'conv2', filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
    ],
  });
}

/**
 * Top-1 accuracy of `model` on the task's batch of `images` (step 1 000 000: no training step draws it); disposes `images`.
 * `apply`, not `predict`: predict would cut the batch into 32s, splitting the 9 patches of an image.
 */
export function heldOutAccuracy(model: tf.LayersModel, task: PretextTask, images: tf.Tensor4D): number {
  const batch = task.buildBatch(images, 1_000_000);
  const accuracy = tf.tidy(
    () => tf.mean(tf.cast(tf.equal(tf.argMax(model.apply(batch.inputs) as tf.Tensor, 1), tf.argMax(batch.labels, 1)), 'float32')).dataSync()[0],
  );
  tf.dispose([images, batch.inputs, batch.labels]);
  return accuracy;
}
