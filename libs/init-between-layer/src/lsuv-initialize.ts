/**
 * LSUV, "layer-sequential unit-variance" initialization (Mishkin & Matas, "All you
 * need is a good init", ICLR 2016, Algorithm 1): a data-dependent peer of the
 * between-layer calibration, offered in the same API for comparisons.
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError, Rng, ShapeError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import { GraphExecutor, hasWeight, readKernel, writeBias, writeKernel, type ParameterLayer } from '@ddinit/models';
import { parseLsuvOptions, type LsuvOptions, type LsuvOptionsInput } from './calibration-options';
import type { UncalibratedLayer } from './calibration-layers';
import { orthonormalKernel } from './orthonormal-kernel';

export interface LsuvLayerResult {
  layer: string;
  /** Variance of the whole pre-activation (all elements) after the orthonormal draw, before any rescaling. */
  varianceBefore: number;
  varianceAfter: number;
  /** Rescaling tries used (0 when the first variance was already within tolerance). */
  tries: number;
  converged: boolean;
}

export interface LsuvResult {
  layers: LsuvLayerResult[];
  skipped: UncalibratedLayer[];
  /** Every processed layer within tolerance. */
  converged: boolean;
  options: LsuvOptions;
}

function varianceOf(z: tf.Tensor): number {
  return tf.tidy(() => tf.moments(z).variance.dataSync()[0]);
}

function skipReason(p: ParameterLayer, excluded: Set<string>): string | undefined {
  if (excluded.has(p.name)) return 'excluded by options.excludeLayers';
  if (p.kind === 'batchnorm') return 'batch normalization: LSUV scales convolution and dense kernels only';
  if (p.kind === 'separable') return 'separable convolution: two kernels, LSUV here handles single-kernel layers';
  return undefined;
}

/**
 * LSUV on one batch. **Mutates the model's weights in place.** For every
 * convolution/dense layer in topological order: (1) orthonormal filters (optional;
 * biases set to 0 with `zeroBias`); (2) repeat: v = Var(z_k) over every element of
 * the layer's pre-activation z_k `[n, …]` on the batch; stop when |v − 1| < tolerance
 * or after `maxTries`; else W_k ← W_k / sqrt(v). Layers below are final when a layer
 * is processed (one incremental forward per try through `GraphExecutor`).
 *
 * @param batch `[n, …inputShape]`, not disposed.
 * @throws ConfigError for invalid options; ShapeError for a batch that does not fit;
 *   NumericalError when a layer's output variance is 0 or not finite (dead layer).
 * @example
 * const result = lsuvInitialize(buildModel('vgg-plain-11'), batch, { seed: 3 });
 * result.layers.every((l) => Math.abs(l.varianceAfter - 1) < 0.1); // true
 */
export function lsuvInitialize(model: tf.LayersModel, batch: tf.Tensor, options: LsuvOptionsInput | LsuvOptions = {}, observers: Observers = {}): LsuvResult {
  const parsed = parseLsuvOptions(options);
  const logger = observers.logger ?? silentLogger;
  const progress = observers.progress ?? silentProgress;
  if (batch.shape[0] === 0) throw new ShapeError('empty LSUV batch', { where: `model ${model.name}`, expected: 'n ≥ 1 examples', actual: batch.shape });
  const rng = Rng.fromSeed(parsed.seed).derive('lsuv');
  const excluded = new Set(parsed.excludeLayers);
  const run = new GraphExecutor(model, batch);
  const layers: LsuvLayerResult[] = [];
  const skipped: UncalibratedLayer[] = [];
  try {
    const all = run.parameterLayers;
    progress({ task: 'lsuv', phase: 'start', completed: 0, total: all.length });
    all.forEach((p, index) => {
      const reason = skipReason(p, excluded);
      if (reason !== undefined) {
        skipped.push({ layer: p.name, reason });
      } else {
        if (parsed.orthogonal) {
          const kernel = orthonormalKernel(p, rng.derive(p.name));
          writeKernel(p, kernel);
          kernel.dispose();
        }
        if (parsed.zeroBias && hasWeight(p, 'bias')) {
          const zeros = tf.zeros([p.outputChannels]);
          writeBias(p, zeros);
          zeros.dispose();
        }
        run.invalidate(p.name);
        const measureVariance = (): number => {
          const z = run.preActivation(p.name);
          const v = varianceOf(z);
          z.dispose();
          if (!(v > 0) || !Number.isFinite(v)) {
            throw new NumericalError('LSUV cannot normalize a layer whose output variance is zero or not finite', {
              where: `layer ${p.name}`,
              expected: 'a positive, finite variance',
              actual: v,
            });
          }
          return v;
        };
        const varianceBefore = measureVariance();
        let variance = varianceBefore;
        let tries = 0;
        while (Math.abs(variance - 1) >= parsed.tolerance && tries < parsed.maxTries) {
          const kernel = readKernel(p);
          const scaled = tf.tidy(() => tf.div(kernel, Math.sqrt(variance)));
          writeKernel(p, scaled);
          tf.dispose([kernel, scaled]);
          run.invalidate(p.name);
          variance = measureVariance();
          tries++;
        }
        const converged = Math.abs(variance - 1) < parsed.tolerance;
        if (!converged) logger.warn('LSUV did not reach unit variance', { layer: p.name, variance, tries });
        layers.push({ layer: p.name, varianceBefore, varianceAfter: variance, tries, converged });
      }
      run.commit(p.name);
      progress({ task: 'lsuv', phase: 'advance', completed: index + 1, total: all.length, item: p.name });
    });
    progress({ task: 'lsuv', phase: 'end', completed: all.length, total: all.length });
  } finally {
    run.dispose();
  }
  return { layers, skipped, converged: layers.every((l) => l.converged), options: parsed };
}
