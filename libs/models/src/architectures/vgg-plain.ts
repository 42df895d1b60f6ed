/**
 * `vgg-plain-<N>` (11 ≤ N ≤ 1000): N 3×3 convolutions with fused ReLU, no batch normalization
 * and no shortcuts — the deep plain networks that train from a data-dependent
 * initialization but not from a Gaussian one (Krähenbühl et al. 2016, §4).
 *
 * Five stages of `baseChannels · [1, 2, 4, 8, 8]` channels. The N convolutions
 * are spread over the stages as evenly as possible, the extra ones going to the
 * last stages (N = 11: 2,2,2,2,3; 16: 3,3,3,3,4; 19: 3,4,4,4,4; 30: 6 each).
 * A 2×2 max-pool follows each stage while the feature map is at least 2×2
 * (32 px: 32 → 16 → 8 → 4 → 2 → 1). Head: flatten → fc1 (`headUnits`, relu) →
 * fc2 (logits). Names: conv{stage}_{i}, pool{stage}, flatten, fc1, fc2.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '@ddinit/core';
import { seededConv, seededDense } from './layer-factory';
import { imageShapeSchema, initialWeightsSchema, numClassesSchema, seedSchema } from './option-schemas';

/** The smallest supported depth. */
export const VGG_PLAIN_MIN_DEPTH = 11;

/**
 * The largest supported depth. Weights grow linearly with N: beyond this a
 * build takes minutes and, long before vgg-plain-99999, exhausts the wasm
 * backend's memory with an engine error instead of a message.
 */
export const VGG_PLAIN_MAX_DEPTH = 1000;

const STAGE_WIDTHS = [1, 2, 4, 8, 8];

/** Options of `vgg-plain-<N>`. */
export const vggPlainOptionsSchema = z
  .object({
    inputShape: imageShapeSchema.default([32, 32, 3]),
    numClasses: numClassesSchema.default(10),
    seed: seedSchema.default(0),
    initialWeights: initialWeightsSchema,
    /** Channels of the first stage (then ×2, ×4, ×8, ×8). */
    baseChannels: z.int().positive().default(16),
    headUnits: z.int().positive().default(128),
  })
  .strict();

export type VggPlainOptions = z.output<typeof vggPlainOptionsSchema>;

/**
 * How many convolutions each of the 5 stages gets for depth `depth`.
 *
 * @throws ConfigError for a depth below {@link VGG_PLAIN_MIN_DEPTH} or not an integer.
 */
export function vggStageDepths(depth: number): number[] {
  if (!Number.isInteger(depth) || depth < VGG_PLAIN_MIN_DEPTH || depth > VGG_PLAIN_MAX_DEPTH) {
    throw new ConfigError('unsupported plain VGG depth', {
      where: 'model vgg-plain-<N>',
      expected: `an integer ${VGG_PLAIN_MIN_DEPTH} ≤ N ≤ ${VGG_PLAIN_MAX_DEPTH}`,
      actual: depth,
    });
  }
  const stages = STAGE_WIDTHS.length;
  const base = Math.floor(depth / stages);
  const extra = depth % stages;
  return STAGE_WIDTHS.map((_, s) => base + (s >= stages - extra ? 1 : 0));
}

/** Builds `vgg-plain-<depth>` (see the module doc). */
export function buildVggPlain(depth: number, options: VggPlainOptions): tf.LayersModel {
  const stageDepths = vggStageDepths(depth);
  const { seed, initialWeights } = options;
  const [height, width, channels] = options.inputShape;
  const input = tf.input({ shape: [height, width, channels], name: 'data' });
  let x: tf.SymbolicTensor = input;
  let size = [height, width];
  stageDepths.forEach((count, s) => {
    for (let i = 1; i <= count; i++) {
      const conv = seededConv(seed, `conv${s + 1}_${i}`, { filters: options.baseChannels * STAGE_WIDTHS[s], kernelSize: 3, padding: 'same' }, initialWeights);
      x = conv.apply(x) as tf.SymbolicTensor;
    }
    if (size[0] >= 2 && size[1] >= 2) {
      x = tf.layers.maxPooling2d({ name: `pool${s + 1}`, poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
      size = size.map((n) => Math.floor(n / 2));
    }
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = seededDense(seed, 'fc1', options.headUnits, 'relu', initialWeights).apply(x) as tf.SymbolicTensor;
  x = seededDense(seed, 'fc2', options.numClasses, 'linear', initialWeights).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: `vgg-plain-${depth}` });
}
