/**
 * The loss and gradients of a supervised batch for specs that check gradients
 * (training steps themselves run on @ddinit/train's Trainer): mean softmax
 * cross-entropy, through `tf.variableGrads`, in training mode unless asked.
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '@ddinit/train';

/**
 * The loss on `(x, labels)` and its gradient for every trainable weight, keyed
 * by variable name, in training mode unless `training: false`. The caller owns
 * and disposes both.
 */
export function lossAndGradients(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
  options: { training?: boolean } = {},
): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const training = options.training ?? true;
  const { value, grads } = tf.variableGrads(() => softmaxCrossEntropy(model.apply(x, { training }) as tf.Tensor, labels), variables);
  return { loss: value, grads };
}
