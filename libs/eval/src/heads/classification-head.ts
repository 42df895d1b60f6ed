/**
 * The classification head: the trunk's feature layer (its output by default),
 * global average pooling when that output is a feature map (4-D), flattened when
 * it has any other rank above 2, then one dense layer with a logit per class
 * (Glorot-uniform kernel, seeded; zero bias). Trained by the mean softmax
 * cross-entropy of the logits against the one-hot labels,
 *
 *   L = −(1/n) Σ_i log softmax(z_i)_{y_i},
 *
 * and scored by top-1 and top-5 accuracy, the confusion matrix and per-class
 * precision and recall over the whole evaluation set (../metrics).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, Rng, ShapeError } from '@ddinit/core';
import { accuracy, softmaxCrossEntropy, type Objective } from '@ddinit/train';
import { addToConfusionMatrix, emptyConfusionMatrix } from '../metrics/confusion-matrix';
import { perClassPrecisionRecall } from '../metrics/precision-recall';
import { topKAccuracy } from '../metrics/top-k-accuracy';
import type { DownstreamHead, HeadBatch, HeadEvaluator, HeadMetrics, HeadOptions } from './downstream-head';

/** The name of the head's dense layer (its pooling layer is `classify_pool`, its flatten `classify_flatten`). */
export const CLASSIFICATION_HEAD_NAME = 'classify_logits';

/**
 * The output of the trunk layer named `featureLayer` (the trunk's output when undefined).
 * @throws ConfigError listing the trunk's layers when it has no layer of that name.
 */
export function featureOutputOf(trunk: tf.LayersModel, featureLayer: string | undefined, head: string): tf.SymbolicTensor {
  if (featureLayer === undefined) return trunk.outputs[0];
  const layer = trunk.layers.find((l) => l.name === featureLayer);
  if (layer === undefined) {
    throw new ConfigError(`no such layer in the trunk for the ${head} head`, {
      where: 'featureLayer',
      expected: `one of ${trunk.layers.map((l) => l.name).join(', ')}`,
      actual: featureLayer,
    });
  }
  return layer.output as tf.SymbolicTensor;
}

/** The class labels of a batch, checked to be one per image. @throws DataError when the dataset has none. */
function labelsOf(batch: HeadBatch): tf.Tensor1D {
  if (batch.labels === undefined) {
    throw new DataError('the classify head needs class labels and this dataset has none', {
      where: 'dataset labels',
      expected: "label kind 'class' (one class per image)",
      actual: batch.multiHot !== undefined ? 'multi-hot labels (use task multilabel)' : 'no class labels',
    });
  }
  return batch.labels;
}

/**
 * Logits `[n, classes]` of a model on a batch, as numbers.
 * @throws ShapeError when the model does not give one logit per class (a head for another class count).
 */
function predictLogits(model: tf.LayersModel, images: tf.Tensor4D, classes: number): Float32Array {
  const logits = tf.tidy(() => model.predict(images) as tf.Tensor);
  try {
    if (logits.rank !== 2 || logits.shape[1] !== classes) {
      throw new ShapeError("the model's head does not give one logit per class of the dataset", {
        where: `model ${model.name}, output`,
        expected: `[${images.shape[0]}, ${classes}]`,
        actual: `[${logits.shape.join(', ')}]`,
      });
    }
    return logits.dataSync() as Float32Array;
  } finally {
    logits.dispose();
  }
}

/** The class a row's scores rank first: the largest score, ties to the higher index (the rule of `topKAccuracy`). */
function rankedFirst(scores: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (scores[row * classes + c] >= scores[row * classes + best]) best = c;
  return best;
}

/** Top-1 (and top-5 for more than 5 classes) accuracy, the confusion matrix and per-class precision/recall, summed over batches. */
export function classificationEvaluator(classes: number): HeadEvaluator {
  const confusion = emptyConfusionMatrix(classes);
  const topFive = Math.min(5, classes);
  let examples = 0;
  let hitsFive = 0;
  return {
    add(model, batch) {
      const truth = labelsOf(batch).dataSync();
      const scores = predictLogits(model, batch.images, classes);
      const predicted = Int32Array.from(truth, (_, i) => rankedFirst(scores, i, classes));
      addToConfusionMatrix(confusion, truth, predicted);
      // Exact counts (top-k accuracy × n is an integer up to rounding).
      if (truth.length > 0) hitsFive += Math.round(topKAccuracy(scores, truth, classes, topFive) * truth.length);
      examples += truth.length;
    },
    result(): HeadMetrics {
      if (examples === 0) throw new DataError('there was nothing to evaluate', { where: 'evaluation batches', expected: 'at least one example', actual: 0 });
      let correct = 0;
      for (let c = 0; c < classes; c++) correct += confusion.counts[c * classes + c];
      const top1 = correct / examples;
      const { precision, recall } = perClassPrecisionRecall(confusion);
      const excluded = [
        { metric: 'recall', classes: indicesOfNull(recall), reason: 'no examples of the class in the evaluation set' },
        { metric: 'precision', classes: indicesOfNull(precision), reason: 'the class was never predicted' },
      ].filter((e) => e.classes.length > 0);
      return {
        primary: { name: 'top1', value: top1 },
        scalars: { top1, ...(classes > 5 ? { top5: hitsFive / examples } : {}), examples },
        perClass: { precision, recall },
        excluded,
        confusion,
      };
    },
  };
}

const indicesOfNull = (values: (number | null)[]): number[] => values.flatMap((v, i) => (v === null ? [i] : []));

/**
 * The classification head for `options.classes` classes on `options.featureLayer`.
 * @example
 * const head = classificationHead({ classes: 10, seed: 1 });
 * const model = head.model(trunk); // trunk → pool → dense(10)
 * await trainModel(model, head.objective, { steps: 100 }, { data });
 */
export function classificationHead(options: HeadOptions): DownstreamHead {
  const { classes } = options;
  const objective: Objective<HeadBatch> = (model, batch) => {
    const logits = model.apply(batch.images, { training: true }) as tf.Tensor;
    const oneHot = tf.oneHot(labelsOf(batch), classes);
    return { loss: softmaxCrossEntropy(logits, oneHot), metrics: { accuracy: accuracy(logits, oneHot) } };
  };
  return {
    task: 'classify',
    needs: 'class',
    model(trunk) {
      const feature = featureOutputOf(trunk, options.featureLayer, 'classify');
      let x = feature;
      if (feature.shape.length === 4) x = tf.layers.globalAveragePooling2d({ name: 'classify_pool' }).apply(x) as tf.SymbolicTensor;
      else if (feature.shape.length !== 2) x = tf.layers.flatten({ name: 'classify_flatten' }).apply(x) as tf.SymbolicTensor;
      const seed = Rng.fromSeed(options.seed).derive('classification-head').nextSeed();
      const logits = tf.layers
        .dense({ name: CLASSIFICATION_HEAD_NAME, units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed }) })
        .apply(x) as tf.SymbolicTensor;
      return tf.model({ inputs: trunk.inputs, outputs: logits, name: `${trunk.name}_classify` });
    },
    objective,
    evaluator: () => classificationEvaluator(classes),
  };
}
