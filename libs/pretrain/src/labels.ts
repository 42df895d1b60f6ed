import * as tf from '@tensorflow/tfjs';

/** One-hot rows [labels.length, classes] for integer labels. */
export function oneHotRows(labels: readonly number[], classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(labels as number[], 'int32'), classes) as tf.Tensor2D);
}
