/**
 * The segmentation head (PASCAL VOC segmentation, FCN-style: Long et al. 2015): on
 * a spatial feature map of the trunk, optionally one 3×3 convolution with ReLU
 * (context from the neighbouring cells, at `hidden` channels), then a 1×1
 * convolution to a logit per class and cell, bilinearly upsampled to the input
 * size (./bilinear-upsampling), trained with the per-pixel softmax cross-entropy
 * of {@link pixelSoftmaxCrossEntropy} and scored by the mIoU of one confusion
 * matrix summed over the evaluation set. Background is a class like any other
 * (the composed scenes' class 0); pixels labelled 255 are ignored.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, Rng } from '@ddinit/core';
import type { Objective } from '@ddinit/train';
import { addToConfusionMatrix, emptyConfusionMatrix, type ConfusionMatrix } from '../metrics/confusion-matrix';
import { meanIoU, SEGMENTATION_IGNORE } from '../metrics/mean-iou';
import type { DownstreamHead, HeadBatch, HeadEvaluator, HeadMetrics, HeadOptions } from './downstream-head';
import { checkHeadClasses, checkHeadOutput, headFeature, spatialLayerNames } from './head-feature';
import { BilinearUpsampling } from './segmentation-head-upsampling';

/** Names of the layers the head adds (the 3×3 convolution only with `hidden`). */
export const SEGMENTATION_HEAD_LAYERS = { hidden: 'segment_conv3x3', logits: 'segment_logits', upsample: 'segment_upsample' } as const;

export interface SegmentationHeadOptions extends HeadOptions {
  /**
   * Channels of a 3×3 convolution (ReLU) before the 1×1 classifier, or null for the
   * 1×1 classifier alone (FCN-32s's score layer). Default 128: a 1×1 convolution
   * sees one cell, and a cell of a small trunk's last map covers only part of an
   * item; the 3×3 layer lets each cell's class depend on its neighbours (on the
   * composed scenes, 80 steps of the specs' small trunk at 48 px: mIoU 0.163 with it,
   * 0.149 without).
   */
  hidden?: number | null;
}

export const SEGMENTATION_HIDDEN_DEFAULT = 128;

/**
 * Mean softmax cross-entropy over the pixels that are not ignored:
 *
 *   L = −Σ_{p ∈ S} log softmax(z_p)[t_p] / max(|S|, 1),   S = {p : t_p ≠ 255}
 *
 * with log softmax(z) = z − max z − log Σ_k e^{z_k − max z}. Ignored pixels weigh 0,
 * so neither their logits nor their labels change the loss or its gradient.
 * @param logits `[N, H, W, K]`; @param masks int32 `[N, H, W]`: a class in [0, K) or 255.
 */
export function pixelSoftmaxCrossEntropy(logits: tf.Tensor, masks: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1] as number;
    const z = tf.reshape(logits, [-1, classes]);
    const truth = tf.reshape(masks, [-1]);
    const kept = tf.notEqual(truth, SEGMENTATION_IGNORE);
    const weights = tf.cast(kept, 'float32');
    const targets = tf.oneHot(tf.where(kept, truth, tf.zerosLike(truth)) as tf.Tensor1D, classes);
    const shifted = tf.sub(z, tf.max(z, -1, true));
    const logProbabilities = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
    const perPixel = tf.neg(tf.sum(tf.mul(targets, logProbabilities), -1));
    return tf.div(tf.sum(tf.mul(perPixel, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}

/** The batch's masks, checked to be `[N, H, W]` at the images' size and to hold classes of [0, K) or 255 only. */
function masksOf(batch: HeadBatch, classes: number): tf.Tensor3D {
  const { masks } = batch;
  if (masks === undefined) {
    throw new DataError('the segmentation head needs per-pixel masks and the batch has none', {
      where: 'batch',
      expected: 'masks [N, H, W] (a dataset with masks)',
      actual: `fields ${Object.keys(batch).join(', ')}`,
    });
  }
  const [n, h, w] = batch.images.shape;
  if (masks.shape.join() !== [n, h, w].join())
    throw new DataError('the masks do not match the images', { where: 'masks', expected: [n, h, w], actual: masks.shape });
  const bad = tf.tidy(() => {
    const outside = tf.logicalAnd(tf.notEqual(masks, SEGMENTATION_IGNORE), tf.logicalOr(tf.less(masks, 0), tf.greaterEqual(masks, classes)));
    return tf.any(outside).dataSync()[0];
  });
  if (bad) throw new DataError('a mask holds a value that is neither a class nor the ignore label', { where: 'masks', expected: `0…${classes - 1} or 255` });
  return masks;
}

/** Sums one confusion matrix over every batch; mIoU and pixel accuracy from it. */
class SegmentationEvaluator implements HeadEvaluator {
  private readonly matrix: ConfusionMatrix;

  constructor(private readonly classes: number) {
    this.matrix = emptyConfusionMatrix(classes);
  }

  add(model: tf.LayersModel, batch: HeadBatch): void {
    const masks = masksOf(batch, this.classes);
    const predicted = tf.tidy(() => {
      const logits = model.predict(batch.images) as tf.Tensor;
      checkHeadOutput(logits, [...masks.shape, this.classes], 'a logit per class and pixel');
      return tf.argMax(logits, -1);
    });
    try {
      addToConfusionMatrix(this.matrix, masks.dataSync(), predicted.dataSync(), { ignore: SEGMENTATION_IGNORE });
    } finally {
      predicted.dispose();
    }
  }

  result(): HeadMetrics {
    const iou = meanIoU(this.matrix);
    if (iou.mean === null || iou.pixelAccuracy === null) {
      throw new DataError('nothing to evaluate: no pixel outside the ignore label was added', { where: 'segmentation evaluation' });
    }
    return {
      primary: { name: 'mIoU', value: iou.mean },
      scalars: { mIoU: iou.mean, pixelAccuracy: iou.pixelAccuracy },
      perClass: { iou: iou.perClass },
      excluded: iou.absent.length > 0 ? [{ metric: 'mIoU', classes: iou.absent, reason: 'absent from both prediction and ground truth' }] : [],
      confusion: { classes: this.classes, counts: Float64Array.from(this.matrix.counts) },
    };
  }
}

/** The 3×3 (optional), 1×1 and upsampling layers on `feature`, to the input's `height × width`. */
function headLayers(feature: tf.SymbolicTensor, options: SegmentationHeadOptions, height: number, width: number): tf.SymbolicTensor {
  const rng = Rng.fromSeed(options.seed).derive('segmentation-head');
  const hidden = options.hidden === undefined ? SEGMENTATION_HIDDEN_DEFAULT : options.hidden;
  let x = feature;
  if (hidden !== null) {
    if (!Number.isInteger(hidden) || hidden < 1)
      throw new ConfigError('hidden channels must be a positive integer or null', { where: 'hidden', actual: hidden });
    const kernelInitializer = tf.initializers.heNormal({ seed: rng.derive('hidden').nextSeed() });
    x = tf.layers
      .conv2d({ name: SEGMENTATION_HEAD_LAYERS.hidden, filters: hidden, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer })
      .apply(x) as tf.SymbolicTensor;
  }
  const kernelInitializer = tf.initializers.glorotUniform({ seed: rng.derive('logits').nextSeed() });
  x = tf.layers.conv2d({ name: SEGMENTATION_HEAD_LAYERS.logits, filters: options.classes, kernelSize: 1, kernelInitializer }).apply(x) as tf.SymbolicTensor;
  return new BilinearUpsampling({ name: SEGMENTATION_HEAD_LAYERS.upsample, height, width }).apply(x) as tf.SymbolicTensor;
}

/**
 * The segmentation head: task `segment`, needs `mask`.
 * @throws ConfigError when the feature layer's output is not a feature map (naming the layers that are).
 * @example
 * const head = segmentationHead({ classes: 11, featureLayer: 'conv5', seed: 1 });
 * const model = head.model(trunk); // trunk → conv5 → 3×3 conv → 1×1 conv → upsampled logits [N, H, W, 11]
 */
export function segmentationHead(options: SegmentationHeadOptions): DownstreamHead {
  const { classes, featureLayer } = options;
  checkHeadClasses(classes);
  const objective: Objective<HeadBatch> = (model, batch) => {
    const masks = masksOf(batch, classes);
    const logits = model.apply(batch.images, { training: true }) as tf.Tensor;
    checkHeadOutput(logits, [...masks.shape, classes], 'a logit per class and pixel');
    return { loss: pixelSoftmaxCrossEntropy(logits, masks) };
  };
  return {
    task: 'segment',
    needs: 'mask',
    model(trunk: tf.LayersModel): tf.LayersModel {
      // By default the last layer with a feature map, as the detection head.
      const feature = headFeature(trunk, featureLayer ?? spatialLayerNames(trunk).at(-1), 'segmentation head');
      const [, height, width] = trunk.inputs[0].shape;
      if (feature.shape.length !== 4 || height === null || width === null || height === undefined || width === undefined) {
        const maps = trunk.layers.filter((l) => (l.output as tf.SymbolicTensor).shape?.length === 4).map((l) => l.name);
        throw new ConfigError('the segmentation head needs a feature map of an input of fixed size', {
          where: 'featureLayer',
          expected: `a layer with [height, width, channels] output: one of ${maps.join(', ')}`,
          actual: `${featureLayer ?? 'no layer with a feature map'} of shape [${feature.shape.slice(1).join(', ')}]`,
        });
      }
      const logits = headLayers(feature, options, height, width);
      return tf.model({ inputs: trunk.inputs, outputs: logits, name: `${trunk.name}_segment` });
    },
    objective,
    evaluator: () => new SegmentationEvaluator(classes),
  };
}
