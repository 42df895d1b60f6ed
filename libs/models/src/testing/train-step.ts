/**
 * One supervised training step for specs: mean softmax cross-entropy on logits
 * and plain SGD, through `tf.variableGrads` with the model in training mode
 * (dropout active with its seeded masks, batch norm on batch statistics).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Mean softmax cross-entropy, −mean_n Σ_k labels[n,k]·log softmax(logits)[n,k],
 * written with plain ops (log-sum-exp with the max subtracted).
 *
 * @param logits `[n, k]`; @param labels one-hot `[n, k]`.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    const logProbabilities = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), -1))) as tf.Scalar;
  });
}

/**
 * The loss on `(x, labels)` and its gradient for every trainable weight, keyed
 * by variable name, in training mode unless `training: false`. The caller owns
 * and disposes both.
 */
export function lossAndGradients(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor, options: { training?: boolean } = {}): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const training = options.training ?? true;
  const { value, grads } = tf.variableGrads(() => softmaxCrossEntropy(model.apply(x, { training }) as tf.Tensor, labels), variables);
  return { loss: value, grads };
}

/** One step of `optimizer` on `(x, labels)`; returns the loss before the step. Leaves no tensor behind. */
export function trainStep(model: tf.LayersModel, optimizer: tf.Optimizer, x: tf.Tensor, labels: tf.Tensor): number {
  const { loss, grads } = lossAndGradients(model, x, labels);
  optimizer.applyGradients(grads);
  const value = loss.dataSync()[0];
  tf.dispose([loss, ...Object.values(grads)]);
  return value;
}
