/**
 * `resnet-small`: a CIFAR-style residual network (He et al. 2016, §4.2) with
 * basic blocks joined by `Add`, with or without batch normalization.
 *
 * stem conv1 3×3 (`baseChannels`) → 3 stages of `blocksPerStage` basic blocks
 * with `baseChannels · [1, 2, 4]` channels (the first block of stages 2 and 3
 * has stride 2) → global average pool → fc (logits).
 *
 * Basic block `s{S}b{B}`: conv1 3×3 → [bn1] → relu1 → conv2 3×3 → [bn2], plus
 * the shortcut: identity when the shape is unchanged, otherwise a projection
 * `proj` (1×1, stride 2) → [proj_bn]; `add([main, shortcut])` → relu2.
 * With batch norm the convolutions have no bias and ReLUs are separate layers;
 * without it, conv1 has a fused ReLU and conv2/proj have biases.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { seededConv, seededDense } from './layer-factory';
import { imageShapeSchema, initialWeightsSchema, numClassesSchema, seedSchema } from './option-schemas';

/** Options of `resnet-small`. */
export const resnetSmallOptionsSchema = z
  .object({
    inputShape: imageShapeSchema.default([32, 32, 3]),
    numClasses: numClassesSchema.default(10),
    seed: seedSchema.default(0),
    initialWeights: initialWeightsSchema,
    batchNorm: z.boolean().default(true),
    /** Basic blocks per stage (2 → 14 weighted layers incl. projections and fc). */
    blocksPerStage: z.int().positive().default(2),
    baseChannels: z.int().positive().default(16),
  })
  .strict();

export type ResnetSmallOptions = z.output<typeof resnetSmallOptionsSchema>;

/** Builds `resnet-small` (see the module doc). */
export function buildResnetSmall(options: ResnetSmallOptions): tf.LayersModel {
  const { seed, batchNorm, initialWeights } = options;
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor => layer.apply(x) as tf.SymbolicTensor;
  const relu = (name: string, x: tf.SymbolicTensor): tf.SymbolicTensor => apply(tf.layers.reLU({ name }), x);
  const bn = (name: string, x: tf.SymbolicTensor): tf.SymbolicTensor => apply(tf.layers.batchNormalization({ name, axis: -1 }), x);

  /** conv (+ bn) (+ relu): relu fused into the conv when there is no batch norm. */
  const convUnit = (
    name: string,
    x: tf.SymbolicTensor,
    filters: number,
    kernelSize: number,
    strides: number,
    withRelu: boolean,
    bnName: string,
    reluName: string,
  ): tf.SymbolicTensor => {
    const conv = seededConv(
      seed,
      name,
      {
        filters,
        kernelSize,
        strides,
        padding: 'same',
        activation: withRelu && !batchNorm ? 'relu' : 'linear',
        useBias: !batchNorm,
      },
      initialWeights,
    );
    let y = apply(conv, x);
    if (batchNorm) {
      y = bn(bnName, y);
      if (withRelu) y = relu(reluName, y);
    }
    return y;
  };

  const [height, width, channels] = options.inputShape;
  const input = tf.input({ shape: [height, width, channels], name: 'data' });
  let x = convUnit('conv1', input, options.baseChannels, 3, 1, true, 'bn1', 'relu1');
  let current = options.baseChannels;
  for (let s = 1; s <= 3; s++) {
    const filters = options.baseChannels * 2 ** (s - 1);
    for (let b = 1; b <= options.blocksPerStage; b++) {
      const prefix = `s${s}b${b}`;
      const strides = s > 1 && b === 1 ? 2 : 1;
      let main = convUnit(`${prefix}_conv1`, x, filters, 3, strides, true, `${prefix}_bn1`, `${prefix}_relu1`);
      main = convUnit(`${prefix}_conv2`, main, filters, 3, 1, false, `${prefix}_bn2`, '');
      const shortcut = strides === 1 && current === filters ? x : convUnit(`${prefix}_proj`, x, filters, 1, strides, false, `${prefix}_proj_bn`, '');
      x = relu(`${prefix}_relu2`, apply(tf.layers.add({ name: `${prefix}_add` }), [main, shortcut]));
      current = filters;
    }
  }
  x = apply(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  x = apply(seededDense(seed, 'fc', options.numClasses, 'linear', initialWeights), x);
  return tf.model({ inputs: input, outputs: x, name: 'resnet-small' });
}
