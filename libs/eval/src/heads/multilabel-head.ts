/**
 * The multi-label classification head (PASCAL VOC classification: which of K
 * classes an image shows, any number at once): the trunk's feature layer, global
 * max (or average) pooling when it is a feature map, one dense layer with a logit per class.
 * Each class is its own binary problem — a sigmoid per logit, not a softmax over
 * classes — trained with the sigmoid cross-entropy of {@link maskedSigmoidCrossEntropy}
 * and scored by mean average precision (docs of `meanAveragePrecision`).
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, Rng } from '@ddinit/core';
import type { Objective } from '@ddinit/train';
import { meanAveragePrecision } from '../metrics/mean-average-precision';
import type { PoolingMode } from '../probe/adaptive-pool';
import { IGNORE } from '../metrics/precision-recall-curve';
import type { DownstreamHead, HeadBatch, HeadEvaluator, HeadMetrics, HeadOptions } from './downstream-head';
import { checkHeadClasses, checkHeadOutput, headFeature } from './head-feature';

/** Names of the layers the head adds (the pool only when the feature is a map). */
export const MULTILABEL_HEAD_LAYERS = { pool: 'multilabel_pool', flatten: 'multilabel_flatten', logits: 'multilabel_logits' } as const;

/**
 * Mean sigmoid cross-entropy over the entries that are not ignored:
 *
 *   ℓ(z, y) = −y·log σ(z) − (1 − y)·log(1 − σ(z)) = max(z, 0) − z·y + log(1 + e^−|z|)
 *   L = Σ_{(n,k) ∈ S} ℓ(z_nk, y_nk) / max(|S|, 1),   S = {(n, k) : y_nk ≥ 0}
 *
 * (the right-hand form never exponentiates a positive number, so it is finite for
 * any finite z). Its gradient is (σ(z_nk) − y_nk) / |S| on S and exactly 0 off it.
 * At z = 0, where max and |·| have kinks (a dead feature vector with a zero bias puts
 * every logit there), tfjs's subgradients (relu′(0) = 0, |·|′(0) = −1) add up to the
 * true derivative σ(0) − y = ½ − y; the spec checks it.
 *
 * @param logits `[N, K]`; @param multiHot `[N, K]`: 1 present, 0 absent, < 0 ignored.
 */
export function maskedSigmoidCrossEntropy(logits: tf.Tensor, multiHot: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const kept = tf.cast(tf.greaterEqual(multiHot, 0), 'float32');
    const targets = tf.mul(multiHot, kept);
    const perEntry = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.div(tf.sum(tf.mul(perEntry, kept)), tf.maximum(tf.sum(kept), 1)) as tf.Scalar;
  });
}

/** The batch's multi-hot labels, checked to be `[N, classes]` for N images. */
function multiHotOf(batch: HeadBatch, classes: number): tf.Tensor2D {
  const { multiHot } = batch;
  if (multiHot === undefined) {
    throw new DataError('the multi-label head needs multi-hot labels and the batch has none', {
      where: 'batch',
      expected: 'multiHot [N, K] (a dataset with label kind multi)',
      actual: `fields ${Object.keys(batch).join(', ')}`,
    });
  }
  const [n] = batch.images.shape;
  if (multiHot.shape.length !== 2 || multiHot.shape[0] !== n || multiHot.shape[1] !== classes) {
    throw new DataError('the multi-hot labels do not match the head', { where: 'multiHot', expected: `[${n}, ${classes}]`, actual: multiHot.shape });
  }
  return multiHot;
}

/** Scores every batch and gives mAP over all of them, non-interpolated (the headline) and VOC07 11-point. */
class MultilabelEvaluator implements HeadEvaluator {
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];

  constructor(private readonly classes: number) {}

  add(model: tf.LayersModel, batch: HeadBatch): void {
    const multiHot = multiHotOf(batch, this.classes);
    const logits = tf.tidy(() => model.predict(batch.images) as tf.Tensor);
    try {
      checkHeadOutput(logits, multiHot.shape, 'a logit per class');
      // Logits rank as their sigmoids do, and keep apart the scores that float32 sigmoids round to 1.
      for (const v of logits.dataSync()) this.scores.push(v);
    } finally {
      logits.dispose();
    }
    for (const v of multiHot.dataSync()) this.labels.push(v < 0 ? IGNORE : v);
  }

  result(): HeadMetrics {
    if (this.labels.length === 0) throw new DataError('nothing to evaluate: no batch was added', { where: 'multi-label evaluation' });
    const plain = meanAveragePrecision(this.scores, this.labels, this.classes, 'non-interpolated');
    const voc07 = meanAveragePrecision(this.scores, this.labels, this.classes, 'voc07-11point');
    if (plain.mean === null || voc07.mean === null) {
      throw new DataError('no class has a positive label in the evaluation set, so mAP is undefined', {
        where: 'multi-label evaluation',
        expected: 'at least one image with a class present',
        actual: `${this.labels.length / this.classes} images without one`,
      });
    }
    return {
      primary: { name: 'mAP', value: plain.mean },
      scalars: { mAP: plain.mean, mAP_voc07: voc07.mean },
      perClass: { ap: plain.perClass.map((c) => c.ap), ap_voc07: voc07.perClass.map((c) => c.ap), positives: plain.perClass.map((c) => c.positives) },
      excluded:
        plain.withoutPositives.length > 0
          ? [{ metric: 'mAP', classes: plain.withoutPositives, reason: 'no positive label in the evaluation set (AP undefined)' }]
          : [],
    };
  }
}

export interface MultilabelHeadOptions extends HeadOptions {
  /**
   * How a feature map is pooled to a vector: `max` (default: a class is present where its best cell says so,
   * as in weakly supervised localization, Oquab et al. 2015) or `average`. On the composed scenes max pooling
   * learned faster (80 steps of the specs' small trunk at 48 px: mAP 0.51 against 0.33, chance 0.12). A dense
   * feature layer (`fc7`, the paper's VOC protocol) is used as it is.
   */
  pooling?: PoolingMode;
}

/**
 * The multi-label head: task `multilabel`, needs `multi` (multi-hot labels).
 * @example
 * const head = multilabelHead({ classes: 11, featureLayer: 'fc7', seed: 1 });
 * const model = head.model(trunk); // trunk → fc7 → dense 11 logits
 * await trainModel(model, head.objective, { steps: 100 }, { data });
 */
export function multilabelHead(options: MultilabelHeadOptions): DownstreamHead {
  const { classes, featureLayer } = options;
  checkHeadClasses(classes);
  const objective: Objective<HeadBatch> = (model, batch) => {
    const multiHot = multiHotOf(batch, classes);
    const logits = model.apply(batch.images, { training: true }) as tf.Tensor;
    checkHeadOutput(logits, multiHot.shape, 'a logit per class');
    return { loss: maskedSigmoidCrossEntropy(logits, multiHot) };
  };
  return {
    task: 'multilabel',
    needs: 'multi',
    model(trunk: tf.LayersModel): tf.LayersModel {
      let x = headFeature(trunk, featureLayer, 'multi-label head');
      if (x.shape.length === 4) {
        const pool = options.pooling === 'average' ? tf.layers.globalAveragePooling2d : tf.layers.globalMaxPooling2d;
        x = pool({ name: MULTILABEL_HEAD_LAYERS.pool }).apply(x) as tf.SymbolicTensor;
      } else if (x.shape.length !== 2) x = tf.layers.flatten({ name: MULTILABEL_HEAD_LAYERS.flatten }).apply(x) as tf.SymbolicTensor;
      const seed = Rng.fromSeed(options.seed).derive('multilabel-head').nextSeed();
      const dense = tf.layers.dense({ name: MULTILABEL_HEAD_LAYERS.logits, units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed }) });
      return tf.model({ inputs: trunk.inputs, outputs: dense.apply(x) as tf.SymbolicTensor, name: `${trunk.name}_multilabel` });
    },
    objective,
    evaluator: () => new MultilabelEvaluator(classes),
  };
}
