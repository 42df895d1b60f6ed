/**
 * The detection head (task `detect`): single-stage, on the grid of a spatial
 * feature map of the trunk (YOLO-v1 / FCOS-like, the simplest that gives a
 * meaningful box mAP at IoU 0.5). On the map: a 3×3 conv (ReLU, `hidden`
 * filters), then per cell, by 1×1 convs, an objectness logit, 4 box values and
 * a logit per class (layout: detection-decode.ts; targets: detection-targets.ts).
 *
 * Loss over a batch with P positive cells (box centres), normalized by max(1, P)
 * as RetinaNet/FCOS do, so an image without any box still gives a finite loss:
 *
 *   L = ( w_obj Σ_cells BCE(o, t_obj) + w_cls Σ_pos CE(z, class) + w_box Σ_pos Σ_k smoothL1_β(b̂_k − t_k) ) / max(1, P),
 *
 * BCE(o, t) = max(o, 0) − o·t + ln(1 + e^−|o|) over the cells that are not ignored (difficult);
 * b̂ = (σ(t̂_x), σ(t̂_y), t̂_w, t̂_h); smoothL1_β(d) = d²/(2β) for |d| < β, else |d| − β/2, β = 1/9
 * (Fast R-CNN's σ = 3). The objectness bias starts at −ln((1 − π)/π), π = 0.01 (RetinaNet's prior),
 * so the many background cells do not swamp the first steps.
 *
 * Evaluation: decoding (σ(o)·softmax(z)_c, threshold, per-class NMS, top-k per image) and box mAP at
 * IoU 0.5 (box-average-precision.ts; VOC07 11-point by default).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, Rng, ShapeError } from '@ddinit/core';
import type { ObjectiveOutput } from '@ddinit/train';
import type { AveragePrecisionMethod } from '../metrics/average-precision';
import { boxMeanAveragePrecision, type LabelledBox, type ScoredBox } from '../metrics/box-average-precision';
import { tapOutput } from '../probe/feature-taps';
import { decodeDetections, detectionChannels, type DecodeOptions } from './detection-decode';
import { assignDetectionTargets, type DetectionGrid, type DetectionTargets } from './detection-targets';
import type { DownstreamHead, HeadBatch, HeadBox, HeadEvaluator, HeadMetrics, HeadOptions } from './downstream-head';
import { spatialLayerNames } from './head-feature';

export interface DetectionLossWeights {
  objectness: number;
  class: number;
  box: number;
}

export interface DetectionHeadOptions extends HeadOptions {
  /** Filters of the 3×3 conv on the feature map. Default 128. */
  hidden?: number;
  /** Loss weights w_obj, w_cls, w_box. Default 1 each. */
  weights?: Partial<DetectionLossWeights>;
  /** Decoding for evaluation (score threshold 0.05, NMS IoU 0.5, 100 per image). */
  decode?: DecodeOptions;
  /** Least IoU of a true positive. Default 0.5. */
  iouThreshold?: number;
  /** AP method of the evaluator. Default `voc07-11point` (the VOC2007 detection protocol). */
  method?: AveragePrecisionMethod;
}

export const DETECTION_HEAD_DEFAULTS = {
  hidden: 128,
  weights: { objectness: 1, class: 1, box: 1 },
  iouThreshold: 0.5,
  method: 'voc07-11point',
  priorProbability: 0.01,
  smoothL1Beta: 1 / 9,
} as const;

/** The head's layers are named `detect_*`. */
export const DETECTION_LAYER_PREFIX = 'detect_';

/**
 * The trunk's feature map the head reads: `featureLayer` (`outer/inner` inside a nested model),
 * or by default the last layer with a spatial (rank-4) output.
 * @throws ConfigError naming the trunk's layers when the layer does not exist or its output is not a feature map.
 */
export function detectionFeatureMap(trunk: tf.LayersModel, featureLayer: string | undefined): tf.SymbolicTensor {
  const maps = spatialLayerNames(trunk);
  const name = featureLayer ?? maps.at(-1);
  const output = name === undefined ? undefined : tapOutput(trunk, name.split('/'));
  if (output === undefined || output.shape.length !== 4) {
    throw new ConfigError('the detection head needs a layer whose output is a spatial feature map', {
      where: 'featureLayer',
      expected: maps.length > 0 ? `one of ${maps.join(', ')}` : 'a trunk with a convolutional layer',
      actual:
        name === undefined ? 'no spatial layer' : output === undefined ? `${name} (not in the trunk)` : `${name} (output ${JSON.stringify(output.shape)})`,
    });
  }
  return output;
}

/** The loss of the head's output `[n, rows, cols, 5 + classes]` against the batch's targets (see the module doc). */
export function detectionLoss(output: tf.Tensor4D, targets: DetectionTargets, weights: DetectionLossWeights): ObjectiveOutput {
  return tf.tidy(() => {
    const [n, rows, cols, channels] = output.shape;
    const flat = tf.reshape(output, [n * rows * cols, channels]);
    const o = tf.squeeze(tf.slice(flat, [0, 0], [-1, 1]), [1]);
    const boxRaw = tf.slice(flat, [0, 1], [-1, 4]);
    const logits = tf.slice(flat, [0, 5], [-1, channels - 5]);
    const objectnessTarget = tf.tensor1d(targets.objectness);
    const counted = tf.cast(tf.greaterEqual(objectnessTarget, 0), 'float32');
    const positive = tf.cast(tf.equal(objectnessTarget, 1), 'float32');
    const t = tf.relu(objectnessTarget);
    const bce = tf.add(tf.sub(tf.relu(o), tf.mul(o, t)), tf.log1p(tf.exp(tf.neg(tf.abs(o)))));
    const objectness = tf.sum(tf.mul(bce, counted));
    const classIndex = tf.tensor1d(
      Int32Array.from(targets.classes, (c) => Math.max(c, 0)),
      'int32',
    ); // −1 (no box) masked below
    const oneHot = tf.oneHot(classIndex, channels - 5);
    const crossEntropy = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1));
    const classLoss = tf.sum(tf.mul(crossEntropy, positive));
    const predicted = tf.concat([tf.sigmoid(tf.slice(boxRaw, [0, 0], [-1, 2])), tf.slice(boxRaw, [0, 2], [-1, 2])], 1);
    const d = tf.abs(tf.sub(predicted, tf.tensor2d(targets.box, [n * rows * cols, 4])));
    const beta = DETECTION_HEAD_DEFAULTS.smoothL1Beta;
    // d²/(2β) below β, d − β/2 above, written with min (differentiable; a select on d < β has no gradient in tfjs).
    const m = tf.minimum(d, beta);
    const smoothL1 = tf.add(tf.div(tf.square(m), 2 * beta), tf.sub(d, m));
    const boxLoss = tf.sum(tf.mul(tf.sum(smoothL1, 1), positive));
    const normalizer = Math.max(1, targets.positives);
    const parts = { objectness: tf.div(objectness, normalizer), class: tf.div(classLoss, normalizer), box: tf.div(boxLoss, normalizer) };
    const loss = tf.addN([tf.mul(parts.objectness, weights.objectness), tf.mul(parts.class, weights.class), tf.mul(parts.box, weights.box)]);
    return { loss: loss as tf.Scalar, metrics: parts as Record<string, tf.Scalar> };
  });
}

/** The batch's boxes. @throws DataError when the dataset has none (the detection head needs boxes). */
function boxesOf(batch: HeadBatch, where: string): HeadBox[][] {
  if (batch.boxes === undefined)
    throw new DataError('the detection head needs boxes and the batch has none', { where, expected: 'a dataset with boxes', actual: 'no boxes' });
  if (batch.boxes.length !== batch.images.shape[0]) {
    throw new DataError('a batch has a box list per image', {
      where: `${where}.boxes`,
      expected: `${batch.images.shape[0]} lists`,
      actual: batch.boxes.length,
    });
  }
  return batch.boxes;
}

/** The grid of a head output over a batch's images; checks the output's channels against the class count. */
function gridOf(output: tf.Tensor4D, images: tf.Tensor4D, classes: number): DetectionGrid {
  const [, rows, cols, channels] = output.shape;
  if (channels !== detectionChannels(classes)) {
    throw new ShapeError('the model is not a detection head for this many classes', {
      where: 'detection head output',
      expected: `${detectionChannels(classes)} channels (5 + ${classes} classes)`,
      actual: channels,
    });
  }
  return { rows, cols, height: images.shape[1], width: images.shape[2] };
}

/** A detection head for `options.classes` classes; see the module doc. */
export function detectionHead(options: DetectionHeadOptions): DownstreamHead {
  const { classes } = options;
  const weights = { ...DETECTION_HEAD_DEFAULTS.weights, ...options.weights };
  const hidden = options.hidden ?? DETECTION_HEAD_DEFAULTS.hidden;
  if (!Number.isInteger(classes) || classes < 1)
    throw new ConfigError('the detection head needs a positive class count', { where: 'classes', actual: classes });
  if (!Number.isInteger(hidden) || hidden < 1) throw new ConfigError('hidden filters must be a positive integer', { where: 'hidden', actual: hidden });
  for (const [name, w] of Object.entries(weights)) {
    if (!(Number.isFinite(w) && w >= 0)) throw new ConfigError('a loss weight must be finite and ≥ 0', { where: `weights.${name}`, actual: w });
  }
  return {
    task: 'detect',
    needs: 'boxes',
    model: (trunk) => withDetectionHead(trunk, options.featureLayer, classes, hidden, options.seed),
    objective: (model, batch) => {
      const boxes = boxesOf(batch, 'training batch');
      const output = model.apply(batch.images, { training: true }) as tf.Tensor4D;
      return detectionLoss(output, assignDetectionTargets(boxes, gridOf(output, batch.images, classes), classes), weights);
    },
    evaluator: () => new DetectionEvaluator(classes, options),
  };
}

function withDetectionHead(trunk: tf.LayersModel, featureLayer: string | undefined, classes: number, hidden: number, seed: number): tf.LayersModel {
  const feature = detectionFeatureMap(trunk, featureLayer);
  const rng = Rng.fromSeed(seed).derive('detection-head');
  const conv = (name: string, filters: number, kernelSize: number, extra: Partial<Parameters<typeof tf.layers.conv2d>[0]> = {}) =>
    tf.layers.conv2d({
      name: `${DETECTION_LAYER_PREFIX}${name}`,
      filters,
      kernelSize,
      padding: 'same',
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.derive(name).nextSeed() }),
      ...extra,
    });
  const x = conv('hidden', hidden, 3, { activation: 'relu' }).apply(feature) as tf.SymbolicTensor;
  const prior = DETECTION_HEAD_DEFAULTS.priorProbability;
  const objectness = conv('objectness', 1, 1, { biasInitializer: tf.initializers.constant({ value: -Math.log((1 - prior) / prior) }) }).apply(x);
  const box = conv('box', 4, 1).apply(x);
  const logits = conv('class', classes, 1).apply(x);
  const output = tf.layers.concatenate({ name: `${DETECTION_LAYER_PREFIX}output`, axis: -1 }).apply([objectness, box, logits] as tf.SymbolicTensor[]);
  return tf.model({ inputs: trunk.inputs, outputs: output as tf.SymbolicTensor, name: `${trunk.name}_detect` });
}

/** Decodes each batch's detections and keeps its boxes; box mAP over everything added. */
class DetectionEvaluator implements HeadEvaluator {
  private readonly detections: ScoredBox[][] = [];
  private readonly truth: LabelledBox[][] = [];

  constructor(
    private readonly classes: number,
    private readonly options: DetectionHeadOptions,
  ) {}

  add(model: tf.LayersModel, batch: HeadBatch): void {
    const boxes = boxesOf(batch, 'evaluation batch');
    const output = tf.tidy(() => model.predict(batch.images, { batchSize: batch.images.shape[0] }) as tf.Tensor4D);
    let values: Float32Array;
    let grid: DetectionGrid;
    try {
      grid = gridOf(output, batch.images, this.classes);
      values = output.dataSync() as Float32Array;
    } finally {
      output.dispose();
    }
    const perImage = grid.rows * grid.cols * detectionChannels(this.classes);
    for (let i = 0; i < boxes.length; i++) {
      this.detections.push(decodeDetections(values.subarray(i * perImage, (i + 1) * perImage), grid, this.classes, this.options.decode));
      this.truth.push(boxes[i].map((b) => ({ ...b })));
    }
  }

  result(): HeadMetrics {
    const iouThreshold = this.options.iouThreshold ?? DETECTION_HEAD_DEFAULTS.iouThreshold;
    const map = boxMeanAveragePrecision(this.detections, this.truth, this.classes, {
      iouThreshold,
      method: this.options.method ?? DETECTION_HEAD_DEFAULTS.method,
    });
    if (map.mean === null) {
      throw new DataError('box mAP is undefined: the evaluation set has no box that is not difficult', {
        where: 'evaluation batches',
        expected: 'at least one box',
        actual: `${this.truth.length} images, no boxes`,
      });
    }
    const name = `boxMAP@${iouThreshold}`;
    const found = map.perClass.reduce((n, p) => n + p.truePositives, 0);
    const total = map.perClass.reduce((n, p) => n + p.groundTruth, 0);
    return {
      primary: { name, value: map.mean },
      scalars: { [name]: map.mean, recall: found / total, detectionsPerImage: this.detections.reduce((n, d) => n + d.length, 0) / this.detections.length },
      perClass: {
        ap: map.perClass.map((p) => p.ap),
        recall: map.perClass.map((p) => (p.groundTruth > 0 ? p.truePositives / p.groundTruth : null)),
      },
      excluded: [{ metric: 'ap', classes: map.withoutGroundTruth, reason: 'no ground-truth box that is not difficult' }],
    };
  }
}
