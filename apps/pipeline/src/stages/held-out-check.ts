/**
 * The held-out check of the init stage: every layer measured on images that were not
 * in the init sample, next to its in-sample statistics, and the initialized model's
 * loss on them. The within-layer normalization makes every layer's std exactly 1 on
 * the sample; a held-out std far from it means the sample was too small for the
 * layer (docs/RESULTS.md, "Init sample size").
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '@ddinit/train';
import type { Logger } from '@ddinit/core';
import { measureLayerMoments, type LayerInitStats, type LayerMoments } from '@ddinit/init-within-layer';
import type { HeldOutBatch } from './init-sample';

/**
 * A layer strays when its held-out std is more than STD_RATIO_LIMIT times, or less
 * than 1/STD_RATIO_LIMIT of, its in-sample std, or its held-out mean moved by more
 * than MEAN_SHIFT_LIMIT in-sample stds. Measured on vgg-plain-11 and caffenet-small
 * (docs/RESULTS.md, "Init sample size"): with ≥ 5 sampled rows per filter every layer
 * stays within ×1.26 and 0.04 std; with ≤ 2.5 rows per filter the deep layers reach
 * ×1.43 to ×5.4 and 0.6 std. The limits sit between the two, far above the noise of
 * 256 held-out images (a channel's std to ≈ 4 %, its mean to ≈ 0.06 std).
 */
export const STD_RATIO_LIMIT = 1.4;
export const MEAN_SHIFT_LIMIT = 0.25;

/** One layer's held-out statistics and whether they stray from the in-sample ones. */
export interface HeldOutLayer extends LayerMoments {
  strays: boolean;
}

/** What the check reads of a layer: where to measure it, how it was initialized, and its in-sample moments. */
export type CheckedLayer = Pick<LayerInitStats, 'name' | 'kind' | 'outMean' | 'outStd'> & { method: string };

/** Whether held-out moments stray from the in-sample ones (rule: see {@link STD_RATIO_LIMIT}). */
export function strays(inSample: { mean: number; std: number }, heldOut: { mean: number; std: number }): boolean {
  if (!(inSample.std > 0)) return false;
  const ratio = heldOut.std / inSample.std;
  return !(ratio <= STD_RATIO_LIMIT && ratio >= 1 / STD_RATIO_LIMIT) || !(Math.abs(heldOut.mean - inSample.mean) / inSample.std <= MEAN_SHIFT_LIMIT);
}

/**
 * Measures every initialized layer on the held-out images (call right after the
 * within-layer init, on the same weights the in-sample numbers describe) and warns,
 * once, naming the layers that stray. Kept layers are measured but never flagged.
 */
export function checkHeldOutLayers(model: tf.LayersModel, heldOut: HeldOutBatch, layers: readonly CheckedLayer[], logger: Logger): HeldOutLayer[] {
  const measured = measureLayerMoments(model, heldOut.images, layers);
  const result = measured.map((m, k) => {
    const l = layers[k];
    return { ...m, strays: l.method !== 'kept' && l.outMean !== null && l.outStd !== null && strays({ mean: l.outMean, std: l.outStd }, m) };
  });
  const flagged: Record<string, { sampleMean: number | null; heldOutMean: number; sampleStd: number | null; heldOutStd: number }> = {};
  result.forEach((r, k) => {
    if (r.strays) flagged[r.name] = { sampleMean: layers[k].outMean, heldOutMean: r.mean, sampleStd: layers[k].outStd, heldOutStd: r.std };
  });
  const count = Object.keys(flagged).length;
  if (count > 0) {
    logger.warn(
      `held-out check: ${count} layer(s) behave differently on ${heldOut.images.shape[0]} images outside the sample: the sample is too small for them (raise --sample)`,
      { layers: flagged },
    );
  }
  return result;
}

/**
 * Mean softmax cross-entropy of the model's logits on the held-out images against their
 * labels, or null when the dataset has no single-class labels or the model's output is
 * not one logit per class. A fresh classifier should score about ln(classes).
 */
export function heldOutLoss(model: tf.LayersModel, heldOut: HeldOutBatch, classes: number): number | null {
  const labels = heldOut.labels;
  if (labels === null || classes < 2) return null;
  const logits = model.predict(heldOut.images) as tf.Tensor;
  try {
    if (logits.rank !== 2 || logits.shape[1] !== classes) return null;
    return tf.tidy(() => softmaxCrossEntropy(logits, tf.oneHot(labels, classes)).dataSync()[0]);
  } finally {
    logits.dispose();
  }
}
