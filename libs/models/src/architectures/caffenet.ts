/**
 * CaffeNet (BVLC's single-GPU AlexNet variant: pooling before LRN), the network
 * of Krähenbühl et al. 2016's experiments, and a small-input variant of the same
 * shape for 28–32 px images.
 *
 * Layout (both): conv1 → pool1 → norm1 → conv2 (2 groups) → pool2 → norm2 →
 * conv3 → conv4 (2 groups) → conv5 (2 groups) → pool5 → flatten → fc6 → drop6 →
 * fc7 → drop7 → fc8. ReLU is fused into every conv and fc6/fc7 (Caffe's in-place
 * relu layers); pools are max 3×3 stride 2 (valid); norm is Caffe's LRN
 * (local_size 5, α 1e-4, β 0.75, k 1: see {@link CAFFENET_LRN}); fc8 outputs
 * logits (no softmax). Caffe's explicit pad 2 (5×5) and pad 1 (3×3) at stride 1
 * equal TensorFlow's `same`. Flatten order is tfjs's (h, w, c), not Caffe's (c, h, w).
 *
 * At 227×227×3 the spatial sizes are Caffe's: conv1 55, pool1 27, pool2 13, pool5 6.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '@ddinit/core';
import { convOutputLength, type PaddingMode } from '../layers/conv-geometry';
import { CAFFENET_LRN, LocalResponseNormalization } from '../layers/local-response-normalization';
import { seededConv, seededDense, seededDropout } from './layer-factory';
import { imageShapeSchema, initialWeightsSchema, numClassesSchema, seedSchema } from './option-schemas';

interface ConvLayout {
  filters: number;
  kernelSize: number;
  strides: number;
  padding: PaddingMode;
  groups: number;
}

/** The sizes that differ between CaffeNet and its small variant. */
export interface CaffenetLayout {
  conv: [ConvLayout, ConvLayout, ConvLayout, ConvLayout, ConvLayout];
  fc: [number, number];
}

/** BVLC CaffeNet (deploy.prototxt). */
export const CAFFENET_LAYOUT: CaffenetLayout = {
  conv: [
    { filters: 96, kernelSize: 11, strides: 4, padding: 'valid', groups: 1 },
    { filters: 256, kernelSize: 5, strides: 1, padding: 'same', groups: 2 },
    { filters: 384, kernelSize: 3, strides: 1, padding: 'same', groups: 1 },
    { filters: 384, kernelSize: 3, strides: 1, padding: 'same', groups: 2 },
    { filters: 256, kernelSize: 3, strides: 1, padding: 'same', groups: 2 },
  ],
  fc: [4096, 4096],
};

/** The small variant: the same layer types, ~1/8 of the channels, 5×5 stride-1 conv1. */
export const CAFFENET_SMALL_LAYOUT: CaffenetLayout = {
  conv: [
    { filters: 32, kernelSize: 5, strides: 1, padding: 'same', groups: 1 },
    { filters: 64, kernelSize: 5, strides: 1, padding: 'same', groups: 2 },
    { filters: 96, kernelSize: 3, strides: 1, padding: 'same', groups: 1 },
    { filters: 96, kernelSize: 3, strides: 1, padding: 'same', groups: 2 },
    { filters: 64, kernelSize: 3, strides: 1, padding: 'same', groups: 2 },
  ],
  fc: [256, 256],
};

const dropoutSchema = z.number().min(0).lt(1);

/** Options of `caffenet`. */
export const caffenetOptionsSchema = z
  .object({
    inputShape: imageShapeSchema.default([227, 227, 3]),
    numClasses: numClassesSchema.default(1000),
    seed: seedSchema.default(0),
    initialWeights: initialWeightsSchema,
    /** Dropout rate of drop6 and drop7 (Caffe 0.5). */
    dropout: dropoutSchema.default(0.5),
  })
  .strict();

/** Options of `caffenet-small`: 24–64 px (designed for 28–32), 1 or 3 channels; Fashion-MNIST (28×28×1, 10 classes) by default. */
export const caffenetSmallOptionsSchema = z
  .object({
    inputShape: z.tuple([z.int().min(24).max(64), z.int().min(24).max(64), z.union([z.literal(1), z.literal(3)])]).default([28, 28, 1]),
    numClasses: numClassesSchema.default(10),
    seed: seedSchema.default(0),
    initialWeights: initialWeightsSchema,
    dropout: dropoutSchema.default(0.5),
  })
  .strict();

export type CaffenetOptions = z.output<typeof caffenetOptionsSchema>;

const POOL = { poolSize: 3, strides: 2, padding: 'valid' as const };

/** Spatial size after each conv and pool of the layout, checked to stay ≥ 1. */
function spatialSizes(layout: CaffenetLayout, height: number, width: number): Record<string, [number, number]> {
  const sizes: Record<string, [number, number]> = {};
  let size: [number, number] = [height, width];
  const step = (name: string, k: number, s: number, p: PaddingMode): void => {
    size = [convOutputLength(size[0], k, s, p), convOutputLength(size[1], k, s, p)];
    if (size[0] < 1 || size[1] < 1) {
      throw new ConfigError('input is too small for the network', {
        where: `layer ${name}`,
        expected: 'a positive spatial size after every conv and pool',
        actual: `input ${height}×${width} → ${size[0]}×${size[1]}`,
      });
    }
    sizes[name] = size;
  };
  const c = layout.conv;
  step('conv1', c[0].kernelSize, c[0].strides, c[0].padding);
  step('pool1', POOL.poolSize, POOL.strides, POOL.padding);
  step('conv2', c[1].kernelSize, c[1].strides, c[1].padding);
  step('pool2', POOL.poolSize, POOL.strides, POOL.padding);
  for (const [i, name] of ['conv3', 'conv4', 'conv5'].entries()) step(name, c[i + 2].kernelSize, c[i + 2].strides, c[i + 2].padding);
  step('pool5', POOL.poolSize, POOL.strides, POOL.padding);
  return sizes;
}

/**
 * Builds a CaffeNet-shaped model from a layout (see the module doc for the layer
 * sequence and names). Layer seeds derive from `options.seed` and the layer names.
 *
 * @throws ConfigError when the input is too small for the pools.
 */
export function buildCaffenetLayout(layout: CaffenetLayout, options: CaffenetOptions, name: string): tf.LayersModel {
  const [height, width, channels] = options.inputShape;
  spatialSizes(layout, height, width);
  const { seed, initialWeights } = options;
  const c = layout.conv;
  const conv = (i: number): tf.layers.Layer => seededConv(seed, `conv${i + 1}`, { ...c[i], activation: 'relu' }, initialWeights);
  const pool = (n: number): tf.layers.Layer => tf.layers.maxPooling2d({ name: `pool${n}`, ...POOL });
  const norm = (n: number): tf.layers.Layer => new LocalResponseNormalization({ name: `norm${n}`, ...CAFFENET_LRN });
  const sequence: tf.layers.Layer[] = [
    conv(0),
    pool(1),
    norm(1),
    conv(1),
    pool(2),
    norm(2),
    conv(2),
    conv(3),
    conv(4),
    pool(5),
    tf.layers.flatten({ name: 'flatten' }),
    seededDense(seed, 'fc6', layout.fc[0], 'relu', initialWeights),
    seededDropout(seed, 'drop6', options.dropout),
    seededDense(seed, 'fc7', layout.fc[1], 'relu', initialWeights),
    seededDropout(seed, 'drop7', options.dropout),
    seededDense(seed, 'fc8', options.numClasses, 'linear', initialWeights),
  ];
  const input = tf.input({ shape: [height, width, channels], name: 'data' });
  let x: tf.SymbolicTensor = input;
  for (const layer of sequence) x = layer.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name });
}

/** `caffenet`: BVLC CaffeNet, 227×227×3 → 1000 logits by default. */
export function buildCaffenet(options: CaffenetOptions): tf.LayersModel {
  return buildCaffenetLayout(CAFFENET_LAYOUT, options, 'caffenet');
}

/** `caffenet-small`: the same layer sequence for 28–32 px images, 28×28×1 → 10 logits by default. */
export function buildCaffenetSmall(options: CaffenetOptions): tf.LayersModel {
  return buildCaffenetLayout(CAFFENET_SMALL_LAYOUT, options, 'caffenet-small');
}
