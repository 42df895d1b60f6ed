/**
 * A small fully convolutional trunk for the specs of the dense heads: three blocks
 * of 3×3 convolution (16, 32, 64 channels), batch normalization and ReLU, with 2×2
 * max pooling after the first two, so a 48-px scene gives a 12×12×64 map (`conv3`,
 * each cell seeing 18 px: most of an item). Batch normalization (momentum 0.9, so
 * the inference statistics settle within a short run) is what lets it learn the
 * scenes in the few dozen steps a spec can afford.
 */
import * as tf from '@tensorflow/tfjs';

/** Blocks conv1, conv2, conv3 (each `convN` → `convN_bn` → `convN_relu`), pools pool1, pool2; the output is conv3_relu. */
export function smallConvTrunk(side: number, seed: number): tf.LayersModel {
  const block = (x: tf.SymbolicTensor, name: string, filters: number): tf.SymbolicTensor => {
    const kernelInitializer = tf.initializers.heNormal({ seed: seed * 10 + filters });
    const conv = tf.layers.conv2d({ name, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer }).apply(x) as tf.SymbolicTensor;
    const normalized = tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9 }).apply(conv) as tf.SymbolicTensor;
    return tf.layers.reLU({ name: `${name}_relu` }).apply(normalized) as tf.SymbolicTensor;
  };
  const pool = (x: tf.SymbolicTensor, name: string): tf.SymbolicTensor => tf.layers.maxPooling2d({ name, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [side, side, 1], name: 'image' });
  const x = block(pool(block(pool(block(input, 'conv1', 16), 'pool1'), 'conv2', 32), 'pool2'), 'conv3', 64);
  return tf.model({ inputs: input, outputs: x, name: 'small_conv' });
}
