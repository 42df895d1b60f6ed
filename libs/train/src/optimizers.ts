/**
 * tfjs's optimizers, made by name, and the one place their learning rate is
 * changed between steps (tfjs has no schedule hook: SGD and momentum take
 * `setLearningRate`, Adam reads a field on every step).
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainOptions } from './train-options';

export function createOptimizer(options: TrainOptions, learningRate: number): tf.Optimizer {
  switch (options.optimizer) {
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, options.momentum, false);
    case 'nesterov':
      return tf.train.momentum(learningRate, options.momentum, true);
    case 'adam':
      return tf.train.adam(learningRate, options.beta1, options.beta2, options.epsilon);
  }
}

export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const settable = optimizer as unknown as { setLearningRate?: (rate: number) => void; learningRate: number };
  if (typeof settable.setLearningRate === 'function') settable.setLearningRate(learningRate);
  else settable.learningRate = learningRate;
}

/**
 * Frees an optimizer's tensors. tfjs's MomentumOptimizer.dispose does not free
 * the learning-rate scalar it inherits from SGDOptimizer (one tensor per
 * optimizer, measured by the loop's leak spec); it is freed here.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  const scalarRate = (optimizer as unknown as { c?: tf.Tensor }).c;
  optimizer.dispose();
  if (optimizer instanceof tf.MomentumOptimizer && scalarRate !== undefined && !scalarRate.isDisposed) scalarRate.dispose();
}
