/**
 * One benchmark workload: a reference network from `@ddinit/models` with a
 * fixed, seeded batch, and the two things timed on it:
 *
 * - forward: `model.apply(x, { training: false })` to logits;
 * - step: one SGD step (learning rate 0.01) of the softmax cross-entropy loss
 *   (`softmaxCrossEntropy` of @ddinit/train, the one the Trainer uses),
 *   forward in training mode (dropout on), backward and the weight update.
 *
 * Both read their result back (`dataSync`) so the time includes all work.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
import { buildModel } from '@ddinit/models';
import { softmaxCrossEntropy } from '@ddinit/train';

export interface Workload {
  name: string;
  batch: number;
  model: tf.LayersModel;
  /** The fixed input batch [batch, ...inputShape]. */
  x: tf.Tensor;
  forward(): void;
  step(): void;
  dispose(): void;
}

export interface WorkloadOptions {
  /** SGD learning rate of `step` (default 0.01). */
  learningRate?: number;
  /** Name of the RNG stream the batch is drawn from (default `bench-step-<name>`). */
  stream?: string;
}

/** Builds `name` with seeded weights and a seeded N(0, 1) batch with cyclic labels, on the active backend. */
export function createWorkload(name: string, batch: number, seed: number, options: WorkloadOptions = {}): Workload {
  const model = buildModel(name, { seed });
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const classes = model.outputs[0].shape[1] as number;
  const rng = Rng.fromSeed(seed).derive(options.stream ?? `bench-step-${name}`);
  const xData = rng.fillNormal(new Float32Array(batch * inputShape.reduce((p, d) => p * d, 1)));
  const x = tf.tensor(xData, [batch, ...inputShape]);
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % classes),
        'int32',
      ),
      classes,
    ),
  );
  const optimizer = tf.train.sgd(options.learningRate ?? 0.01);
  return {
    name,
    batch,
    model,
    x,
    forward() {
      tf.tidy(() => (model.apply(x, { training: false }) as tf.Tensor).dataSync());
    },
    step() {
      const loss = optimizer.minimize(() => softmaxCrossEntropy(model.apply(x, { training: true }) as tf.Tensor, labels), true);
      loss?.dataSync();
      loss?.dispose();
    },
    dispose() {
      x.dispose();
      labels.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** Milliseconds `fn` takes. */
export function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Total kernel time per kernel name over one call of `fn`, largest first. */
export async function profileKernels(fn: () => void): Promise<Map<string, { ms: number; calls: number }>> {
  const info = await tf.profile(() => {
    fn();
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += Number(k.kernelTimeMs);
    entry.calls += 1;
    byName.set(k.name, entry);
  }
  return new Map([...byName].sort((a, b) => b[1].ms - a[1].ms));
}
