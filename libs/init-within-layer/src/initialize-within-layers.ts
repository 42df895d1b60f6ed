/**
 * The within-layer initializer (Krähenbühl et al. 2016, §3.1 and Algorithm 1;
 * docs/method.md#within-layer): parameter layers in topological order, each initialized from the
 * activations of the already-initialized layers below it on one fixed sample.
 *
 * Per layer k (not skipped):
 * 1. draw W_k from the configured source (gaussian, orthogonal, pca, zca, kmeans, patches),
 *    per group, from patches of the layer's cached input; bias 0;
 * 2. run the layer once: Z_k(i) pre-activation of channel i over batch × height × width,
 *    μ_i and σ_i (population);  W_k(:, i) ← W_k(:, i)/σ_i,  b_k(i) ← β − μ_i/σ_i,
 *    so that every channel has mean β and std 1 on the sample (layers without a bias:
 *    only the std is set; a following batchnorm centres them);
 * 3. the next layer's input is computed from the cached activations (GraphExecutor).
 * BatchNormalization layers get their moving statistics from the sample (γ = 1, β = 0);
 * with `residualRescale` every Add's scalable branch ends are scaled to a unit-variance merge.
 *
 * Cost: each layer runs once on the sample, with the drawn W and zero bias; the final
 * pre-activation z' = z·(1/σ_i) + (β − μ_i/σ_i) is an affine map of the cached z
 * (`GraphExecutor.rescalePreActivation`), so the normalization needs no second forward
 * (a dead-channel re-draw does run the layer again).
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError, Rng, silentLogger, silentProgress, type Logger, type Observers } from '@ddinit/core';
import { GraphExecutor, hasWeight, writeBias, writeWeight, type ParameterLayer, type ParameterLayerKind } from '@ddinit/models';
import { calibrateBatchNorm } from './calibrate-batch-norm';
import { channelMoments, summarizeMoments, type ChannelMoments } from './channel-moments';
import { drawLayerWeights, type DrawnWeights } from './draw-layer-weights';
import { outputKernel, redrawOutputChannels, scaleOutputChannels } from './output-channels';
import { resolveLayerPlans, type LayerPlan } from './resolve-layer-plans';
import { extraImagesFor, grownLayerInput, type SampleGrowth } from './sample-growth';
import { isResidualAdd, isScalableEnd, logUnsolved, scaleLayerOutput, solveResidualScales, type ResidualRescaleStats } from './rescale-residual';
import { parseWithinLayerOptions, type LayerMethod, type WithinLayerOptions, type WithinLayerOptionsInput } from './within-layer-options';

/** What happened to one parameter layer (the pipeline report shows these). */
export interface LayerInitStats {
  name: string;
  kind: ParameterLayerKind;
  /** What was done to the layer (`LAYER_METHODS`: a within method, `batchnorm` or `kept`). */
  method: LayerMethod;
  /** Null, or the fallback taken, e.g. `too few patch rows (160 < 4096 filters per group) → gaussian`. */
  fallback: string | null;
  /** Patch rows per group (0 for data-free sources). */
  rows: number;
  /** Images those rows came from: the sample's, plus the grown ones (sample-growth.ts); 0 for data-free sources. */
  images: number;
  beta: number;
  /** Channel-averaged σ_i of the pre-activation before normalization (BN: of its input). */
  outStdBefore: number | null;
  /** Channel-averaged mean and std of the pre-activation after init (BN: its output), measured by a forward pass. */
  outMean: number | null;
  outStd: number | null;
  /** max_i |μ_i − β| and max_i |σ_i − 1| after init (the report's fields of the same names). */
  worstMeanDeviation: number | null;
  worstStdDeviation: number | null;
  /** False when the layer has no bias (its mean cannot be set; only its std). */
  hasBias: boolean;
  /** Dead channels re-drawn (dead-channel policy `redraw`). */
  deadChannelRedraws: number;
  /** Channel-mean residual factor applied afterwards (null when none). */
  residualScale: number | null;
  seconds: number;
}

export interface WithinLayerReport {
  layers: LayerInitStats[];
  residualMerges: ResidualRescaleStats[];
  /** The options used, defaults filled in. */
  options: WithinLayerOptions;
  seconds: number;
}

const now = (): number => performance.now() / 1000;

/**
 * σ_i/|μ_i| below this is rounding noise, not signal: float32 keeps 24 bits (ε ≈ 1.2e-7)
 * and a pre-activation summing K products is off by up to ≈ K·ε of its terms
 * (K = 4096: 5e-4, typically √K·ε ≈ 1e-5). Normalizing such a channel divides by
 * noise: its bias β − μ_i/σ_i would exceed 1e4 in magnitude and depend on rounding.
 */
export const NEAR_CONSTANT_RATIO = 1e-4;

/** Channels the normalization cannot use, and why (the first reason that applies). */
interface UnusableChannels {
  channels: number[];
  reason: string;
  expected: string;
}

/**
 * Dead channels (σ_i ≤ tolerance·mean σ, or a non-finite mean) first; else channels
 * constant to float32 precision (σ_i ≤ NEAR_CONSTANT_RATIO·|μ_i|), which the relative
 * test misses when every channel of the layer is near-constant.
 */
function unusableChannels(moments: ChannelMoments, tolerance: number): UnusableChannels {
  let meanStd = 0;
  for (const s of moments.std) meanStd += s / moments.std.length;
  const dead: number[] = [];
  const flat: number[] = [];
  moments.std.forEach((s, i) => {
    if (!(s > tolerance * meanStd) || !Number.isFinite(moments.mean[i])) dead.push(i);
    else if (!(s > NEAR_CONSTANT_RATIO * Math.abs(moments.mean[i]))) flat.push(i);
  });
  if (dead.length > 0)
    return { channels: dead, reason: 'dead output channels (σ ≈ 0 on the sample)', expected: `σ_i > ${tolerance} × mean σ for every channel` };
  return {
    channels: flat,
    reason: 'output channels constant to float32 precision (their σ on the sample is rounding noise: is the data near-constant?)',
    expected: `σ_i > ${NEAR_CONSTANT_RATIO} × |μ_i| for every channel`,
  };
}

function writeKernels(layer: ParameterLayer, kernels: { role: Parameters<typeof writeWeight>[1]; value: tf.Tensor }[]): void {
  for (const k of kernels) writeWeight(layer, k.role, k.value);
}

function writeBiasValues(layer: ParameterLayer, values: Float32Array): void {
  if (!layer.hasBias) return;
  const t = tf.tensor1d(values);
  try {
    writeBias(layer, t);
  } finally {
    t.dispose();
  }
}

/** The measured part of a layer's stats: channel averages and worst deviations of its output z on the sample. */
function measure(
  run: GraphExecutor,
  layer: ParameterLayer,
  beta: number,
  output: boolean,
): Pick<LayerInitStats, 'outMean' | 'outStd' | 'worstMeanDeviation' | 'worstStdDeviation'> {
  const z = output ? run.layerOutput(layer.name) : run.preActivation(layer.name);
  try {
    const m = summarizeMoments(channelMoments(z, `layer ${layer.name}`), beta);
    return { outMean: m.mean, outStd: m.std, worstMeanDeviation: m.worstMeanDeviation, worstStdDeviation: m.worstStdDeviation };
  } finally {
    z.dispose();
  }
}

/** (1/n)·Σ_i f(v_i, i), summed in float64 in index order. */
function meanOf(values: ArrayLike<number>, f: (v: number, i: number) => number = (v) => v): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += f(values[i], i);
  return sum / values.length;
}

/** The stats of a layer left with its weights; every other layer's stats are these with what was done and measured. */
function keptStats(layer: ParameterLayer, beta: number): LayerInitStats {
  return {
    name: layer.name,
    kind: layer.kind,
    method: 'kept',
    fallback: null,
    rows: 0,
    images: 0,
    beta,
    outStdBefore: null,
    outMean: null,
    outStd: null,
    worstMeanDeviation: null,
    worstStdDeviation: null,
    hasBias: layer.hasBias,
    deadChannelRedraws: 0,
    residualScale: null,
    seconds: 0,
  };
}

/** What growing the sample needs besides the growth itself: the model and the sample's size. */
interface GrowthContext {
  model: tf.LayersModel;
  growth: SampleGrowth | undefined;
  sampleImages: number;
}

/**
 * The layer's weights drawn by its plan's method from its cached input, joined by its
 * input on the grown images when the layer needs more rows (the inputs are not kept);
 * with the images the rows came from.
 */
async function drawFromInput(
  run: GraphExecutor,
  plan: LayerPlan,
  rng: Rng,
  options: WithinLayerOptions,
  context: GrowthContext,
  logger: Logger,
): Promise<DrawnWeights & { images: number }> {
  const { layer, method } = plan;
  const extra = extraImagesFor(layer, method, context.sampleImages, context.growth, options.maxPatchBytes);
  const base = run.layerInput(layer.name);
  const grown = extra > 0 ? await grownLayerInput(context.model, run.graph, layer.name, context.growth as SampleGrowth, extra) : null;
  const x = grown === null ? base : tf.concat([base, grown]);
  try {
    const drawn = await drawLayerWeights(layer, method, x, rng, options, logger);
    if (grown !== null) logger.info(`within-layer: layer ${layer.name}: ${grown.shape[0]} more images for its rows`, { layer: layer.name, images: x.shape[0] });
    return { ...drawn, images: drawn.rows > 0 ? x.shape[0] : 0 };
  } finally {
    tf.dispose(grown === null ? [base] : [base, grown, x]);
  }
}

/** The output kernel being normalized; a dead-channel re-draw replaces (and disposes) it. */
interface OutputKernel {
  info: ReturnType<typeof outputKernel>;
  value: tf.Tensor;
}

/**
 * Pre-activation moments of the layer as written, re-drawing unusable channels
 * (dead-channel policy `redraw`) until every channel is usable; returns them and the
 * channels re-drawn.
 *
 * @throws NumericalError when channels stay unusable (policy `error`, or `maxRedraws` spent).
 */
function usableMoments(
  run: GraphExecutor,
  layer: ParameterLayer,
  kernel: OutputKernel,
  rng: Rng,
  options: WithinLayerOptions,
  logger: Logger,
): { moments: ChannelMoments; redraws: number } {
  const where = `layer ${layer.name}`;
  const { policy, maxRedraws, tolerance } = options.deadChannels;
  let redraws = 0;
  for (let attempt = 0; ; attempt++) {
    run.invalidate(layer.name);
    const z = run.preActivation(layer.name);
    let moments: ChannelMoments;
    try {
      moments = channelMoments(z, where);
    } finally {
      z.dispose();
    }
    const unusable = unusableChannels(moments, tolerance);
    const dead = unusable.channels;
    if (dead.length === 0) return { moments, redraws };
    if (policy === 'error' || attempt >= maxRedraws) {
      throw new NumericalError(`${unusable.reason}${policy === 'redraw' ? ` after ${attempt} re-draws` : ''}`, {
        where,
        expected: unusable.expected,
        actual: `channels ${dead.slice(0, 10).join(', ')}${dead.length > 10 ? ', …' : ''} (${dead.length} of ${moments.std.length})`,
      });
    }
    logger.warn(`within-layer: ${where}: ${dead.length} dead channel(s), re-drawing them (attempt ${attempt + 1})`, { layer: layer.name, channels: dead });
    const redrawn = redrawOutputChannels(kernel.value, kernel.info, dead, rng.derive(`redraw-${attempt}`));
    kernel.value.dispose();
    kernel.value = redrawn;
    writeWeight(layer, kernel.info.role, redrawn);
    redraws += dead.length;
  }
}

/**
 * Step 2 of Algorithm 1: W(:, i) ← W(:, i)/σ_i, b(i) ← β − μ_i/σ_i, written to the layer
 * and applied to the cached pre-activation. Returns the mean the layer ends with: β, or
 * for a layer without a bias the channel average of −μ_i/σ_i it cannot remove.
 */
function normalizeChannels(run: GraphExecutor, layer: ParameterLayer, kernel: OutputKernel, moments: ChannelMoments, beta: number): number {
  const inverse = Float32Array.from(moments.std, (s) => 1 / s);
  const bias = Float32Array.from(moments.mean, (m, i) => beta - m * inverse[i]);
  const normalized = scaleOutputChannels(kernel.value, kernel.info, inverse);
  try {
    writeWeight(layer, kernel.info.role, normalized);
  } finally {
    normalized.dispose();
  }
  writeBiasValues(layer, bias);
  // z' = z·(1/σ_i) + (β − μ_i/σ_i) is affine in the cached z (drawn W, zero bias): no second forward of the layer.
  run.rescalePreActivation(layer.name, inverse, layer.hasBias ? bias : new Float32Array(bias.length));
  return layer.hasBias ? beta : meanOf(moments.mean, (m, i) => m * inverse[i]);
}

/** Draw, write with zero bias, measure (re-drawing dead channels), normalize and measure again. */
async function initializeLayer(
  run: GraphExecutor,
  plan: LayerPlan,
  rng: Rng,
  options: WithinLayerOptions,
  context: GrowthContext,
  observers: Required<Observers>,
): Promise<LayerInitStats> {
  const { layer, beta } = plan;
  const start = now();
  const drawn = await drawFromInput(run, plan, rng, options, context, observers.logger);
  const kernel: OutputKernel = { info: outputKernel(layer), value: drawn.kernels[drawn.kernels.length - 1].value };
  try {
    writeKernels(layer, drawn.kernels);
    writeBiasValues(layer, new Float32Array(layer.outputChannels));
    const { moments, redraws } = usableMoments(run, layer, kernel, rng, options, observers.logger);
    const finalMean = normalizeChannels(run, layer, kernel, moments, beta);
    const after = measure(run, layer, finalMean, false);
    return {
      ...keptStats(layer, beta),
      ...after,
      method: drawn.method,
      fallback: drawn.fallback,
      rows: drawn.rows,
      images: drawn.images,
      outStdBefore: meanOf(moments.std),
      worstMeanDeviation: layer.hasBias ? after.worstMeanDeviation : null,
      deadChannelRedraws: redraws,
      seconds: now() - start,
    };
  } finally {
    for (const k of drawn.kernels) if (k.value !== kernel.value) k.value.dispose();
    kernel.value.dispose();
  }
}

function batchNormStats(run: GraphExecutor, layer: ParameterLayer, options: WithinLayerOptions): LayerInitStats {
  const start = now();
  const x = run.layerInput(layer.name);
  let before: number;
  try {
    const moments = options.batchNorm === 'calibrate' ? calibrateBatchNorm(layer, x) : channelMoments(x, `layer ${layer.name}`);
    before = meanOf(moments.std);
  } finally {
    x.dispose();
  }
  run.invalidate(layer.name);
  return {
    ...keptStats(layer, 0),
    ...measure(run, layer, 0, true),
    method: options.batchNorm === 'calibrate' ? 'batchnorm' : 'kept',
    outStdBefore: before,
    hasBias: hasWeight(layer, 'beta'),
    seconds: now() - start,
  };
}

function rescaleMerge(
  run: GraphExecutor,
  nodeId: number,
  byNode: Map<number, ParameterLayer>,
  stats: Map<string, LayerInitStats>,
  logger: Required<Observers>['logger'],
): ResidualRescaleStats | null {
  const node = run.graph.nodes[nodeId];
  const ends = node.inputs
    .map((r) => byNode.get(r.node))
    .filter((p): p is ParameterLayer => p !== undefined && stats.get(p.name)?.method !== 'kept' && isScalableEnd(p));
  if (ends.length === 0) return null;
  const endNodes = new Set(ends.map((p) => p.node));
  const values = node.inputs.map((r) => ({ fixed: !endNodes.has(r.node), value: run.layerOutput(run.graph.nodes[r.node].name) }));
  const sumOf = (list: tf.Tensor[]): Float32Array | null => {
    if (list.length === 0) return null;
    if (list.length === 1) return list[0].dataSync() as Float32Array;
    const sum = tf.addN(list);
    try {
      return sum.dataSync() as Float32Array;
    } finally {
      sum.dispose();
    }
  };
  let solved: { scale: Float32Array; unsolved: number };
  let channels: number;
  try {
    const scalable = values.filter((v) => !v.fixed).map((v) => v.value);
    channels = scalable[0].shape[scalable[0].rank - 1];
    solved = solveResidualScales(sumOf(scalable) as Float32Array, sumOf(values.filter((v) => v.fixed).map((v) => v.value)), channels);
  } finally {
    tf.dispose(values.map((v) => v.value));
  }
  logUnsolved(logger, node.name, solved.unsolved, channels);
  const meanScale = solved.scale.reduce((s, v) => s + v, 0) / channels;
  for (const p of ends) {
    scaleLayerOutput(p, solved.scale);
    run.invalidate(p.name);
    const s = stats.get(p.name);
    if (s !== undefined) s.residualScale = meanScale;
  }
  const merged = run.layerOutput(node.name);
  let outStd: number;
  try {
    outStd = summarizeMoments(channelMoments(merged, `layer ${node.name}`), 0).std;
  } finally {
    merged.dispose();
  }
  return { name: node.name, scaled: ends.map((p) => p.name), meanScale, unsolvedChannels: solved.unsolved, outStd };
}

/**
 * Initializes every parameter layer of `model` in place from the data `sample`
 * (`[n, h, w, c]` images, or one tensor per model input; not disposed) and returns
 * per-layer statistics.
 *
 * @param options {@link withinLayerOptionsSchema} input (parsed here; defaults: method
 *   `kmeans`, β 0, no fallbacks, dead channels are errors).
 * @param growth images beyond the sample for layers that need more rows than it gives
 *   (sample-growth.ts); without it every layer draws from the sample alone.
 * @throws ConfigError for invalid options, a rule or `initializeFrom` naming no layer,
 *   zca with N ≠ F, data-dependent sources on transposed convolutions; DataError when a
 *   layer has fewer patch rows than filters and NumericalError for a degenerate
 *   covariance (unless a fallback is configured) or dead channels (unless re-drawing
 *   is configured and succeeds); ShapeError when the sample does not fit the model.
 * @example
 * const report = await initializeWithinLayers(buildModel('caffenet-small'), sample, {
 *   method: 'kmeans',
 *   fallback: { onTooFewRows: 'orthogonal' },
 * }, { logger, progress });
 * report.layers.map((l) => `${l.name} ${l.method} ${l.outStd?.toFixed(3)}`);
 */
export async function initializeWithinLayers(
  model: tf.LayersModel,
  sample: tf.Tensor | tf.Tensor[],
  options: WithinLayerOptionsInput = {},
  observers: Observers = {},
  growth?: SampleGrowth,
): Promise<WithinLayerReport> {
  const parsed = parseWithinLayerOptions(options);
  const obs: Required<Observers> = { logger: observers.logger ?? silentLogger, progress: observers.progress ?? silentProgress };
  const start = now();
  const run = new GraphExecutor(model, sample);
  try {
    const plans = resolveLayerPlans(run.parameterLayers, parsed);
    const planByNode = new Map(plans.map((p) => [p.layer.node, p]));
    const byNode = new Map(run.parameterLayers.map((p) => [p.node, p]));
    const root = Rng.fromSeed(parsed.seed);
    const stats = new Map<string, LayerInitStats>();
    const merges: ResidualRescaleStats[] = [];
    const context: GrowthContext = { model, growth, sampleImages: (Array.isArray(sample) ? sample[0] : sample).shape[0] };
    const total = plans.length;
    obs.progress({ task: 'within-layer', phase: 'start', completed: 0, total });
    for (const node of run.graph.nodes) {
      const plan = planByNode.get(node.id);
      if (plan === undefined) {
        if (parsed.residualRescale && isResidualAdd(node)) {
          const merge = rescaleMerge(run, node.id, byNode, stats, obs.logger);
          if (merge !== null) merges.push(merge);
        }
        continue;
      }
      const { layer } = plan;
      const result = plan.skip
        ? keptStats(layer, plan.beta)
        : layer.kind === 'batchnorm'
          ? batchNormStats(run, layer, parsed)
          : await initializeLayer(run, plan, root.derive(layer.name), parsed, context, obs);
      stats.set(layer.name, result);
      if (!parsed.residualRescale) run.commit(layer.name);
      obs.progress({
        task: 'within-layer',
        phase: 'advance',
        completed: stats.size,
        total,
        item: layer.name,
        fields: { method: result.method, seconds: result.seconds },
      });
    }
    obs.progress({ task: 'within-layer', phase: 'end', completed: stats.size, total });
    return { layers: plans.map((p) => stats.get(p.layer.name) as LayerInitStats), residualMerges: merges, options: parsed, seconds: now() - start };
  } finally {
    run.dispose();
  }
}
