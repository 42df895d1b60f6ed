/**
 * Change rates of the parameter layers (Krähenbühl et al. 2016, §3.2):
 *
 *   ρ_k = sqrt( mean(∇W_k²) / mean(W_k²) )      (RMS gradient over RMS weight, whole kernel)
 *
 * for a loss on the pre-activation z_L `[n, …]` of the last non-loss layer L:
 * either Σ g·z_L with a random top gradient g ~ N(0, I) (no labels needed; with
 * several draws mean(∇W_k²) is averaged over them), or — when labels are given —
 * the mean softmax cross-entropy of the logits z_L.
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError, ShapeError, sumsOfSquares } from '@ddinit/core';
import { weightVariable, type ModelGraph, type ParameterLayer } from '@ddinit/models';
import { softmaxCrossEntropy } from '@ddinit/train';
import { forwardToTop, type BeforeNodeHook, type GraphTop, type KernelScales } from './graph-forward';

/** Where ∇W comes from: seeded random top gradients, or a real loss on labels. */
export type GradientSource = { kind: 'random'; seeds: number[] } | { kind: 'labels'; labels: tf.Tensor };

export interface RateMeasurement {
  /** ρ_k per layer name, in the order of the layers measured; NaN where undefined (see `undefinedRates`). */
  rates: Record<string, number>;
  /** Mean over channels of the population std of z_L (over batch and positions): the reference's σ_out. */
  outputStd: number;
  /** Layers whose rate is undefined, and why (all-zero kernel, no gradient reaches the kernel). */
  undefinedRates: { layer: string; reason: string }[];
}

/** Mean over the last axis of the per-channel population std over every other axis. */
export function meanChannelStd(z: tf.Tensor): number {
  return tf.tidy(() => {
    const axes = Array.from({ length: z.rank - 1 }, (_, i) => i);
    const { variance } = tf.moments(z, axes);
    return tf.mean(tf.sqrt(variance)).dataSync()[0];
  });
}

/**
 * mean(t²) of each tensor (0 for undefined): one pass per tensor and one read back through
 * @ddinit/core's `sumsOfSquares` (summed in float64) where the backend has it, else
 * tf.mean(tf.square(t)) stacked (CaffeNet's fc6 gradient alone is 3.8·10⁷ values, every measurement).
 */
function meanSquares(tensors: (tf.Tensor | undefined)[]): ArrayLike<number> {
  const present = tensors.filter((t): t is tf.Tensor => t !== undefined);
  const sums = sumsOfSquares(present);
  if (sums === undefined) return tf.tidy(() => tf.stack(tensors.map((t) => (t === undefined ? tf.scalar(0) : tf.mean(tf.square(t))))).dataSync());
  let i = 0;
  return tensors.map((t) => (t === undefined ? 0 : sums[i++] / t.size));
}

function lossOf(z: tf.Tensor, source: GradientSource, draw: number, where: string): tf.Scalar {
  if (source.kind === 'labels') {
    const labels = source.labels;
    if (labels.rank !== z.rank || labels.shape.some((d, i) => d !== z.shape[i])) {
      throw new ShapeError('labels must be one-hot with the shape of the logits', { where, expected: z.shape, actual: labels.shape });
    }
    return softmaxCrossEntropy(z, labels);
  }
  return tf.sum(tf.mul(z, tf.randomNormal(z.shape, 0, 1, 'float32', source.seeds[draw])));
}

/**
 * How a measurement sees the kernels while a calibration defers writing some of
 * them: the effective kernel of layer k is c_k·W_k (W_k the stored variable, c_k
 * in `kernelScales`, see {@link KernelScales}; only layers in `layers` are
 * deferred). mean(W_k²) of their stored kernels is computed once and kept in
 * `storedSquares` (valid until the kernels are written).
 */
export interface DeferredKernels {
  layers: ReadonlySet<number>;
  kernelScales: KernelScales;
  storedSquares: Map<number, number>;
}

/**
 * One measurement of the change rates of `layers` on `input` (one forward and
 * backward per draw). `beforeNode` runs during the first draw's forward only
 * (the calibration rescales layers there). With `deferred`, the rates are those
 * of the effective kernels c_k·W_k: the forward feeds c_k·x, so the gradient
 * with respect to the stored W_k is c_k·∇(c_k W_k), and
 * ρ_k = sqrt(mean(∇W_k²) / mean(W_k²)) / c_k² (c_k read after the forward).
 * Leaves no tensor behind.
 *
 * @throws NumericalError when a gradient or weight is not finite.
 * @throws ShapeError when labels do not match the logits.
 */
export function measureRatesOnce(
  graph: ModelGraph,
  top: GraphTop,
  input: tf.Tensor,
  layers: ParameterLayer[],
  source: GradientSource,
  beforeNode?: BeforeNodeHook,
  deferred?: DeferredKernels,
): RateMeasurement {
  const variables = layers.map((p) => weightVariable(p, 'kernel').read() as tf.Variable);
  const draws = source.kind === 'labels' ? 1 : source.seeds.length;
  const sumSquares = new Float64Array(layers.length);
  const reached = new Array<boolean>(layers.length).fill(false);
  let outputStd = Number.NaN;
  for (let d = 0; d < draws; d++) {
    const { value, grads } = tf.variableGrads(() => {
      const z = forwardToTop(graph, top, input, d === 0 ? beforeNode : undefined, deferred?.kernelScales);
      if (d === 0) outputStd = meanChannelStd(z);
      return lossOf(z, source, d, `layer ${top.node.name}`);
    }, variables);
    try {
      const values = meanSquares(variables.map((v) => grads[v.name]));
      variables.forEach((v, k) => {
        if (grads[v.name] !== undefined) reached[k] = true;
        sumSquares[k] += values[k];
      });
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  }
  const stored = layers.map((p) => deferred?.storedSquares.get(p.node) ?? Number.NaN);
  const missing = variables.filter((_, k) => Number.isNaN(stored[k]));
  if (missing.length > 0) {
    const values = meanSquares(missing);
    let i = 0;
    layers.forEach((p, k) => {
      if (!Number.isNaN(stored[k])) return;
      stored[k] = values[i++];
      if (deferred?.layers.has(p.node)) deferred.storedSquares.set(p.node, stored[k]);
    });
  }
  const rates: Record<string, number> = {};
  const undefinedRates: { layer: string; reason: string }[] = [];
  layers.forEach((p, k) => {
    const c2 = (deferred?.kernelScales.get(p.node) ?? 1) ** 2;
    const gradient = sumSquares[k] / draws / c2;
    const weight = stored[k] * c2;
    if (!Number.isFinite(gradient) || !Number.isFinite(weight)) {
      throw new NumericalError('non-finite gradient or kernel while measuring the change rate', {
        where: `layer ${p.name}`,
        expected: 'finite mean(∇W²) and mean(W²)',
        actual: `mean(∇W²) = ${gradient}, mean(W²) = ${weight}`,
      });
    }
    let reason: string | undefined;
    if (weight === 0) reason = 'all-zero kernel: the change rate is undefined';
    else if (!reached[k]) reason = 'no gradient reaches the kernel (not connected to the top layer)';
    else if (gradient === 0) reason = 'zero gradient on the calibration batch (dead units: no signal passes)';
    if (reason !== undefined) undefinedRates.push({ layer: p.name, reason });
    rates[p.name] = reason === undefined ? Math.sqrt(gradient / weight) : Number.NaN;
  });
  return { rates, outputStd, undefinedRates };
}
