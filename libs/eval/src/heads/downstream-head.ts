/**
 * The one shape every downstream head has (classification, multi-label,
 * segmentation, detection), so that the finetune and evaluate stages pick a head
 * by task name and train it with `@ddinit/train`:
 * trunk → `model` → the trunk with the head (sharing the trunk's weights, so
 * training it fine-tunes the trunk); `objective` → the loss on a batch;
 * `evaluator()` → an accumulator that runs the model on batches and gives the
 * task's metrics over all of them.
 *
 * A batch is what `@ddinit/data`'s `tensorBatches` yields (the fields are declared
 * here structurally: a stage library does not import the data library). A head
 * reads only the targets it `needs`; the caller owns the batch's tensors.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Objective } from '@ddinit/train';
import type { ConfusionMatrix } from '../metrics/confusion-matrix';

/** The downstream tasks, one head each. */
export const HEAD_TASKS = ['classify', 'multilabel', 'segment', 'detect'] as const;
export type HeadTask = (typeof HEAD_TASKS)[number];

/** The targets a head trains on: single class labels, multi-hot labels, per-pixel masks, boxes. */
export type HeadTargets = 'class' | 'multi' | 'mask' | 'boxes';

/** One object's box in the batch's pixels: it covers x0 ≤ x < x1, y0 ≤ y < y1. */
export interface HeadBox {
  class: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Left out of both positives and negatives when scoring (PASCAL VOC's `difficult`). */
  difficult?: boolean;
}

/** A batch of images and the targets the dataset has. */
export interface HeadBatch {
  /** float32 `[N, H, W, C]`, normalized as the trunk expects. */
  images: tf.Tensor4D;
  /** int32 `[N]` class indices. */
  labels?: tf.Tensor1D;
  /** float32 `[N, K]`: 1 present, 0 absent; a negative value marks an ignored (difficult) label. */
  multiHot?: tf.Tensor2D;
  /** int32 `[N, H, W]` class index per pixel, 255 ignored. */
  masks?: tf.Tensor3D;
  boxes?: HeadBox[][];
}

/** What every head is built from. */
export interface HeadOptions {
  /** Classes of the task (the dataset's class count). */
  classes: number;
  /** Name of the trunk layer whose output feeds the head (default: the trunk's output). */
  featureLayer?: string;
  /** Seeds the head's weights (tfjs seeds from 1: use a non-zero seed). */
  seed: number;
}

/** A task's metrics over an evaluation set. */
export interface HeadMetrics {
  /** The headline metric: top-1 accuracy, mAP, mIoU or box mAP at IoU 0.5. */
  primary: { name: string; value: number };
  /** Every scalar metric by name, the primary one included (e.g. `top1`, `top5`, `mAP`, `mIoU`). */
  scalars: Record<string, number>;
  /** Per-class values by metric name (e.g. `ap`, `iou`, `precision`, `recall`); null where a class has no positives. */
  perClass: Record<string, (number | null)[]>;
  /** Classes left out of a mean, with why (no positives; absent from prediction and ground truth). */
  excluded: { metric: string; classes: number[]; reason: string }[];
  /** The confusion matrix, for the tasks that have one (classification, segmentation). */
  confusion?: ConfusionMatrix;
}

/** Runs a model on batches and gives the metrics over all of them. */
export interface HeadEvaluator {
  /** Predicts on one batch in inference mode and adds it; disposes what it makes, not the batch. */
  add(model: tf.LayersModel, batch: HeadBatch): void;
  result(): HeadMetrics;
}

export interface DownstreamHead {
  readonly task: HeadTask;
  readonly needs: HeadTargets;
  /** The trunk with this head; shares the trunk's layers and weights. */
  model(trunk: tf.LayersModel): tf.LayersModel;
  /** The training loss (and scalar metrics) on a batch; runs inside tf.variableGrads. */
  readonly objective: Objective<HeadBatch>;
  evaluator(): HeadEvaluator;
}
