/**
 * Linear probes on frozen features (Zhang et al., CVPR 2017; Goyal et al.,
 * ICCV 2019): for each named layer of a trunk, features pooled to a fixed size
 * (feature-taps.ts), batch normalization without affine parameters
 * (x̂ = (x − μ) / √(σ² + ε), batch statistics while training, running averages
 * with momentum 0.9 after), and one linear layer trained by softmax
 * cross-entropy with @ddinit/train. The trunk is never changed.
 *
 * All probes learn in one pass: per batch, the trunk runs once, every layer's
 * features are pooled, and one training step on the sum of the probes' losses
 * updates every probe — their weights are disjoint, so each one's gradient is
 * that of its own loss, exactly as if it were trained alone on the same batches.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, Rng, type Observers } from '@ddinit/core';
import {
  accuracy,
  softmaxCrossEntropy,
  trainModel,
  type LabelledBatch,
  type Objective,
  type TrainLoop,
  type TrainOptionsInput,
  type TrainResult,
} from '@ddinit/train';
import { addToConfusionMatrix, emptyConfusionMatrix, type ConfusionMatrix } from '../metrics/confusion-matrix';
import { FeatureTaps, type FeatureTapOptions, type TappedLayer } from './feature-taps';

export interface LinearProbeOptions extends FeatureTapOptions {
  /** Trunk layers to probe, by name. */
  layers: string[];
  classes: number;
  /** Seeds the classifiers' initial weights. */
  seed: number;
  /** The training of the classifiers (`steps` required; see @ddinit/train's options). */
  train: TrainOptionsInput;
}

/**
 * The batches to train on, as @ddinit/train's loop takes them: images and one-hot labels;
 * `resume`, `onCheckpoint` and `signal` go to the loop as they are (a checkpoint holds the
 * probes' weights, their normalization statistics and the optimizer state).
 */
export interface ProbeData extends Pick<TrainLoop<LabelledBatch>, 'resume' | 'onCheckpoint' | 'signal'> {
  data: (fromStep: number) => AsyncIterable<LabelledBatch>;
  /** Called once a batch's features are taken and its step is done (dispose its tensors here). */
  release?: (batch: LabelledBatch) => void;
}

export interface ProbeEvaluation {
  layer: string;
  accuracy: number;
  confusion: ConfusionMatrix;
}

interface ProbeBatch {
  features: tf.Tensor2D[];
  labels: tf.Tensor;
  source: LabelledBatch;
}

/**
 * The probes' default divergence guard (@ddinit/train stops at a step norm 100× the recent median):
 * on separable features a probe's loss approaches 0, its step norms fall by orders of magnitude, and
 * the first misclassified example after that is a legitimate 1,000× jump. A non-finite loss or step
 * still stops the run; `train.divergenceFactor` overrides this.
 */
export const PROBE_DIVERGENCE_FACTOR = 1e6;

/** The name a probe's layers get, from the trunk layer's (tfjs names allow letters, digits, `_`). */
function probeName(layer: string): string {
  return `probe_${layer.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Inputs → BN without affine parameters → dense(classes), one per tapped layer, in one model. */
function buildProbeModel(taps: TappedLayer[], classes: number, seed: number): tf.LayersModel {
  const rng = Rng.fromSeed(seed);
  const inputs = taps.map((t) => tf.input({ shape: [t.features], name: `${probeName(t.layer)}_features` }));
  const outputs = taps.map((t, i) => {
    // No affine parameters: γ = 1 and β = 0, frozen. (tfjs's `center: false, scale: false` fails in training mode:
    // its training path reads γ and β regardless.)
    const normalize = tf.layers.batchNormalization({ name: `${probeName(t.layer)}_bn`, momentum: 0.9, epsilon: 1e-5, trainable: false });
    const normalized = normalize.apply(inputs[i]);
    const kernelInitializer = tf.initializers.glorotUniform({ seed: rng.derive(t.layer).nextSeed() });
    return tf.layers.dense({ name: probeName(t.layer), units: classes, kernelInitializer }).apply(normalized) as tf.SymbolicTensor;
  });
  return tf.model({ inputs, outputs, name: 'linear_probes' });
}

function asList(x: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(x) ? x : [x];
}

/** Trained probes: logits and evaluation per layer. Dispose them when done (the trunk stays the caller's). */
export class LinearProbes {
  constructor(
    private readonly taps: FeatureTaps,
    private readonly model: tf.LayersModel,
    readonly classes: number,
    readonly training: TrainResult,
  ) {}

  get layers(): TappedLayer[] {
    return this.taps.layers;
  }

  /** Logits `[n, classes]` of every probe, in the order of `layers` (the caller disposes them). */
  predict(images: tf.Tensor): tf.Tensor2D[] {
    return tf.tidy(() => asList(this.model.predict(this.taps.features(images))) as tf.Tensor2D[]);
  }

  /**
   * Top-1 accuracy and the confusion matrix of every probe over `batches` (one trunk pass per batch).
   * The batches stay the caller's.
   * @throws DataError when a batch's labels are not one-hot over the probes' classes.
   */
  async evaluate(batches: Iterable<LabelledBatch> | AsyncIterable<LabelledBatch>): Promise<ProbeEvaluation[]> {
    const confusions = this.layers.map(() => emptyConfusionMatrix(this.classes));
    for await (const batch of batches) {
      checkLabels(batch, this.classes);
      const { truth, predicted } = tf.tidy(() => {
        const logits = this.predict(batch.inputs);
        return { truth: tf.argMax(batch.labels, 1).dataSync(), predicted: logits.map((l) => tf.argMax(l, 1).dataSync()) };
      });
      predicted.forEach((p, i) => addToConfusionMatrix(confusions[i], truth, p));
    }
    return this.layers.map((t, i) => {
      const { counts, classes } = confusions[i];
      const total = counts.reduce((a, b) => a + b, 0);
      let correct = 0;
      for (let c = 0; c < classes; c++) correct += counts[c * classes + c];
      if (total === 0) throw new DataError('there was nothing to evaluate', { where: 'evaluation batches', expected: 'at least one example', actual: 0 });
      return { layer: t.layer, accuracy: correct / total, confusion: confusions[i] };
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}

function checkLabels(batch: LabelledBatch, classes: number): void {
  if (batch.labels.rank !== 2 || batch.labels.shape[1] !== classes || batch.labels.shape[0] !== batch.inputs.shape[0]) {
    throw new DataError('the labels do not match the probes', {
      where: 'labels of a batch',
      expected: `one-hot [${batch.inputs.shape[0]}, ${classes}]`,
      actual: `[${batch.labels.shape.join(', ')}]`,
    });
  }
}

/**
 * Trains a linear probe per layer of a frozen `trunk` (see the module doc).
 * @throws ConfigError naming the trunk's layers for a layer it does not have, and for invalid training options;
 *   DataError for labels that are not one-hot over `classes`; what `trainModel` throws (divergence, data ending early).
 * @example
 * const probes = await trainLinearProbes(trunk, { layers: ['conv1', 'conv5'], classes: 10, seed: 1, train: { steps: 500 } }, { data });
 * const [conv1, conv5] = await probes.evaluate(testBatches);
 */
export async function trainLinearProbes(trunk: tf.LayersModel, options: LinearProbeOptions, data: ProbeData, observers: Observers = {}): Promise<LinearProbes> {
  const taps = new FeatureTaps(trunk, options.layers, options);
  const model = buildProbeModel(taps.layers, options.classes, options.seed);
  const names = taps.layers.map((t) => t.layer);
  const objective: Objective<ProbeBatch> = (probeModel, batch) => {
    const logits = asList(probeModel.apply(batch.features, { training: true }) as tf.Tensor | tf.Tensor[]);
    const loss = tf.addN(logits.map((l) => softmaxCrossEntropy(l, batch.labels))) as tf.Scalar;
    return { loss, metrics: Object.fromEntries(logits.map((l, i) => [`accuracy:${names[i]}`, accuracy(l, batch.labels)])) };
  };
  async function* batches(from: number): AsyncGenerator<ProbeBatch> {
    for await (const source of data.data(from)) {
      try {
        checkLabels(source, options.classes);
      } catch (error) {
        data.release?.(source);
        throw error;
      }
      yield { features: taps.features(source.inputs), labels: source.labels, source };
    }
  }
  const release = (batch: ProbeBatch): void => {
    tf.dispose(batch.features);
    data.release?.(batch.source);
  };
  try {
    const training = await trainModel(
      model,
      objective,
      { divergenceFactor: PROBE_DIVERGENCE_FACTOR, ...options.train },
      { data: batches, release, resume: data.resume, onCheckpoint: data.onCheckpoint, signal: data.signal },
      observers,
    );
    return new LinearProbes(taps, model, options.classes, training);
  } catch (error) {
    model.dispose();
    throw error;
  }
}
