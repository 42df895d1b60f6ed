/**
 * The supervised objective: mean softmax cross-entropy of the model's logits
 * against one-hot labels, and top-1 accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from './trainer';

/** A labelled batch: inputs `[n, …]` and one-hot labels `[n, k]`. */
export interface LabelledBatch {
  inputs: tf.Tensor;
  labels: tf.Tensor;
}

/**
 * −mean_n Σ_k y_nk · log softmax(z)_nk, with the log-sum-exp of the max-shifted
 * logits (stable for large |z|).
 * @param logits `[n, k]`; @param labels one-hot (or soft) `[n, k]`.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const logProbabilities = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), -1))) as tf.Scalar;
  });
}

/** Share of rows whose largest logit is the label's. */
export function accuracy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), tf.argMax(labels, -1)), 'float32')) as tf.Scalar);
}

/** Cross-entropy with accuracy as its metric, for a model whose output is logits. */
export const classificationObjective: Objective<LabelledBatch> = (model, batch) => {
  const logits = model.apply(batch.inputs, { training: true }) as tf.Tensor;
  return { loss: softmaxCrossEntropy(logits, batch.labels), metrics: { accuracy: accuracy(logits, batch.labels) } };
};
