/**
 * Between-layer scale calibration: Krähenbühl, Doersch, Donahue & Darrell,
 * "Data-dependent Initializations of Convolutional Neural Networks", ICLR 2016,
 * §3.2 and Algorithm 2; reference code `calibrateGradientRatio` (philkr/magic_init).
 * The method: docs/method.md#between-layer.
 */
import * as tf from '@tensorflow/tfjs';
import { NumericalError, Rng, silentLogger, silentProgress, type Logger, type Observers, type ProgressListener } from '@ddinit/core';
import { weightVariable, writeWeight, hasWeight, type GraphNode, type ParameterLayer, type WeightRole } from '@ddinit/models';
import type { UncalibratedLayer } from './calibration-layers';
import { parseCalibrationOptions, type CalibrationOptions, type CalibrationOptionsInput } from './calibration-options';
import type { CalibrationIteration, CalibrationResult } from './calibration-result';
import { measureRatesOnce, type DeferredKernels, type GradientSource, type RateMeasurement } from './change-rates';
import type { BeforeNodeHook } from './graph-forward';
import { prepareMeasurement, type CalibrationBatch, type MeasurementSetup as Setup } from './measurement-setup';
import { targetOf } from './rate-target';
import { planScales } from './scale-plan';
import { learnFromStep, outputConstraintAt, planJointStep, probeResponse, unreachableAt, type JointState } from './joint-calibration';
import type { UnreachableConstraint } from './joint-step';

/** Multiplies one weight of a layer by `factor` (no-op for 1 or a missing weight). */
function scaleWeight(p: ParameterLayer, role: WeightRole, factor: number): void {
  if (factor === 1 || !hasWeight(p, role)) return;
  const scaled = tf.tidy(() => tf.mul(weightVariable(p, role).read(), factor));
  writeWeight(p, role, scaled);
  scaled.dispose();
}

/**
 * Kernels with at least this many elements are scaled lazily during the
 * calibration (see {@link KernelScales}): rewriting a big kernel (CaffeNet fc6–fc8)
 * every iteration costs a copy and a re-packing of the weights by the backend on
 * the next product. Smaller kernels are cheap to rewrite, so they are written every
 * step and computed with exactly as stored.
 */
const DEFERRED_KERNEL_ELEMENTS = 1 << 20;

type Deferred = DeferredKernels & { kernelScales: Map<number, number> };

function deferredKernels(setup: Setup): Deferred {
  const layers = new Set(
    setup.free.filter((p) => p.kind !== 'separable' && weightVariable(p, 'kernel').read().size >= DEFERRED_KERNEL_ELEMENTS).map((p) => p.node),
  );
  return { layers, kernelScales: new Map(), storedSquares: new Map() };
}

/** Writes the deferred kernel factors c_k into the kernels (W_k ← c_k·W_k) and resets them to 1. */
function commitKernels(setup: Setup, deferred: Deferred): void {
  for (const [node, factor] of deferred.kernelScales) {
    const p = setup.layers.byNode.get(node);
    if (p !== undefined) scaleWeight(p, 'kernel', factor);
  }
  deferred.kernelScales.clear();
  deferred.storedSquares.clear();
}

function meanAbs(x: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.abs(x)).dataSync()[0]);
}

/** What the next forward applies, layer by layer. */
interface PendingStep {
  /** Kernel factor per parameter-layer node. */
  factors: Map<number, number>;
  /** Function-preserving: the exact input scale per node (otherwise measured). */
  inputScale?: Map<number, number>;
  /** Function-preserving: merges whose inputs still disagree in scale. */
  violations?: { merge: string; scales: number[] }[];
}

/**
 * The hook that applies a step during the forward pass, in topological order:
 * for every parameter layer (and batch normalization) below the top, the offset
 * correction r_k for the change of its input scale (default: r_k = a′_k / a_k,
 * mean |input| now over mean |input| at the previous measurement; function-
 * preserving: the propagated exact scale), then W_k ← s_k·W_k, b_k ← r_k·s_k·b_k
 * (batch normalization: moving mean and β ← r_k·(…)). For big kernels the factor
 * is deferred: it multiplies c_k in `kernelScales` (the forward feeds c_k·x to the
 * layer), and {@link commitKernels} writes it once at the end.
 */
function stepHook(setup: Setup, inputAbsMean: Map<number, number>, pending: PendingStep | undefined, deferred: Deferred): BeforeNodeHook {
  return (node: GraphNode, inputs: tf.Tensor[]) => {
    const p = setup.layers.byNode.get(node.id);
    if (p === undefined) return;
    const hasOffset = p.kind === 'batchnorm' ? hasWeight(p, 'movingMean') : p.hasBias;
    let ratio = 1;
    if (pending?.inputScale !== undefined) {
      ratio = pending.inputScale.get(node.id) ?? 1;
    } else if (hasOffset) {
      const now = meanAbs(inputs[0]);
      const before = inputAbsMean.get(node.id);
      inputAbsMean.set(node.id, now);
      if (before !== undefined && pending !== undefined && !(before === 0 && now === 0)) {
        // An input that was and stays all-zero needs no correction; one that was zero and is not cannot be corrected.
        if (!(before > 0) || !Number.isFinite(now)) {
          throw new NumericalError('cannot correct the bias for the input scale', {
            where: `layer ${p.name}`,
            expected: 'a positive, finite mean |input| before and after the step',
            actual: `before ${before}, after ${now}`,
          });
        }
        ratio = now / before;
      }
    }
    if (pending === undefined) return;
    const factor = pending.factors.get(node.id) ?? 1;
    if (p.kind === 'batchnorm') {
      scaleWeight(p, 'movingMean', ratio);
      scaleWeight(p, 'beta', ratio);
      return;
    }
    scaleWeight(p, 'bias', ratio * factor);
    if (p.kind === 'separable') return;
    if (deferred.layers.has(node.id)) deferred.kernelScales.set(node.id, (deferred.kernelScales.get(node.id) ?? 1) * factor);
    else scaleWeight(p, 'kernel', factor);
  };
}

function gradientSource(setup: Setup, measurement: number): GradientSource {
  if (setup.labels !== undefined) return { kind: 'labels', labels: setup.labels };
  const root = Rng.fromSeed(setup.options.seed).derive('calibration');
  const stream = setup.options.freshDraws ? root.derive(`measurement-${measurement}`) : root;
  return { kind: 'random', seeds: Array.from({ length: setup.options.draws }, (_, d) => stream.derive(`draw-${d}`).nextSeed()) };
}

/** One rate measurement (applying `pending` on the way; kernel factors deferred in `deferred`). */
function measure(setup: Setup, measurement: number, inputAbsMean: Map<number, number>, pending: PendingStep | undefined, deferred: Deferred): RateMeasurement {
  const hook = stepHook(setup, inputAbsMean, pending, deferred);
  return measureRatesOnce(setup.graph, setup.top, setup.inputs, setup.free, gradientSource(setup, measurement), hook, deferred);
}

/** The step's kernel factors s_k = (ρ_k / T)^(α/2) (free layers; ties and function preservation resolved). */
function planStep(setup: Setup, rates: Record<string, number>, target: number): PendingStep {
  const free = new Map<number, number>();
  for (const p of setup.free) {
    const rate = rates[p.name];
    if (Number.isFinite(rate) && rate > 0) free.set(p.node, (rate / target) ** (setup.options.alpha / 2));
  }
  if (setup.ties === undefined) return { factors: free };
  const plan = planScales(setup.graph, setup.top, setup.ties, free);
  return { factors: plan.kernelFactor, inputScale: plan.inputScale, violations: plan.violations };
}

interface LoopState {
  initial: RateMeasurement;
  current: RateMeasurement;
  evaluation: ReturnType<typeof targetOf>;
  iterations: CalibrationIteration[];
  violations: { merge: string; scales: number[] }[];
  joint: JointState | undefined;
  unreachable: UnreachableConstraint | undefined;
}

/**
 * A joint step that left the deviation above this fraction of what it was,
 * while the response says no scales reach a common rate: the loop stops and
 * reports the constraint instead of iterating on.
 */
const STALLED = 0.9;

/** Measures, probes the response (joint step), then steps until converged, out of iterations, or stalled on a constraint. */
function runSteps(setup: Setup, logger: Logger, progress: ProgressListener): LoopState {
  const inputAbsMean = new Map<number, number>();
  // Kernel factors are deferred (the forward scales the layers' inputs instead) and written once, also when a measurement throws.
  const deferred = deferredKernels(setup);
  const { options, layers } = setup;
  try {
    const initial = measure(setup, 0, inputAbsMean, undefined, deferred);
    addUndefined(layers.uncalibrated, initial);
    const loop: LoopState = {
      initial,
      current: initial,
      evaluation: targetOf(initial.rates, initial.outputStd, options.pullOutputStd),
      iterations: [],
      violations: [],
      joint: undefined,
      unreachable: undefined,
    };
    let last: RateMeasurement | undefined;
    for (let t = 1; t <= options.maxIterations && loop.evaluation.deviation >= options.tolerance; t++) {
      // The joint step starts after one per-layer step: that one is exact for the layers every path passes through and
      // removes most of the initial spread, so the probes measure the response nearer to where the steps go.
      if (options.step === 'joint' && loop.joint === undefined && t > 1) {
        const probed = probeResponse(setup, loop.current, (factors) => measure(setup, t - 1, inputAbsMean, { factors }, deferred));
        loop.joint = probed.state;
        loop.current = probed.last;
        addUndefined(layers.uncalibrated, probed.last);
        loop.evaluation = targetOf(probed.last.rates, probed.last.outputStd, options.pullOutputStd);
      }
      const joint = loop.joint === undefined ? undefined : planJointStep(setup, loop.joint, loop.current);
      const step = joint === undefined ? planStep(setup, loop.current.rates, loop.evaluation.target) : { factors: joint.factors };
      for (const v of step.violations ?? []) if (!loop.violations.some((w) => w.merge === v.merge)) loop.violations.push(v);
      const after = measure(setup, t, inputAbsMean, step, deferred);
      addUndefined(layers.uncalibrated, after);
      // A rejected joint step stays applied until the next step takes it back.
      const accepted = loop.joint === undefined || joint === undefined || learnFromStep(setup, loop.joint, joint.logScales, loop.current, after);
      last = after;
      const before = loop.evaluation;
      recordIteration(setup, loop, t, step, after, logger, progress, accepted);
      if (loop.joint !== undefined && accepted && loop.evaluation.deviation >= options.tolerance) {
        loop.unreachable = unreachableAt(setup, loop.joint, loop.current);
        if (loop.unreachable !== undefined && loop.evaluation.deviation > STALLED * before.deviation) break;
      }
    }
    if (loop.joint?.rejected !== undefined && last !== undefined) {
      // The loop ended on a rejected step: the model is there, so that is what the result reports.
      loop.current = last;
      loop.evaluation = targetOf(last.rates, last.outputStd, options.pullOutputStd);
    }
    if (loop.joint !== undefined && loop.evaluation.deviation >= options.tolerance) {
      loop.unreachable ??= unreachableAt(setup, loop.joint, loop.current) ?? outputConstraintAt(setup, loop.joint, loop.current);
    }
    if (loop.evaluation.deviation < options.tolerance) loop.unreachable = undefined;
    return loop;
  } finally {
    commitKernels(setup, deferred);
  }
}

/** Appends iteration t (from `loop.current` to `after`), warns on output-std drift, reports progress, and moves `loop` to `after` if `accepted`. */
function recordIteration(
  setup: Setup,
  loop: LoopState,
  t: number,
  step: PendingStep,
  after: RateMeasurement,
  logger: Logger,
  progress: ProgressListener,
  accepted: boolean,
): void {
  const { options, layers } = setup;
  const next = targetOf(after.rates, after.outputStd, options.pullOutputStd);
  const scales: Record<string, number> = {};
  for (const p of layers.calibrated) scales[p.name] = step.factors.get(p.node) ?? 1;
  const { current, evaluation } = loop;
  loop.iterations.push({
    iteration: t,
    target: evaluation.target,
    ratesBefore: current.rates,
    scales,
    ratesAfter: after.rates,
    outputStdBefore: current.outputStd,
    outputStdAfter: after.outputStd,
    deviationBefore: evaluation.deviation,
    deviationAfter: next.deviation,
  });
  if (Math.abs(Math.log(after.outputStd) - Math.log(current.outputStd)) > options.outputStdWarning) {
    logger.warn('the output std moved more than expected: one or more layers look non-homogeneous', {
      iteration: t,
      outputStdBefore: current.outputStd,
      outputStdAfter: after.outputStd,
    });
  }
  progress({
    task: 'calibration',
    phase: 'advance',
    completed: t,
    total: options.maxIterations,
    fields: { deviation: next.deviation, target: next.target, outputStd: after.outputStd },
  });
  if (!accepted) return;
  loop.current = after;
  loop.evaluation = next;
}

function addUndefined(uncalibrated: UncalibratedLayer[], measurement: RateMeasurement): void {
  for (const u of measurement.undefinedRates) {
    if (!uncalibrated.some((v) => v.layer === u.layer && v.reason === u.reason)) uncalibrated.push(u);
  }
}

/**
 * Calibrates the scales of a model's layers so that every layer's weights change
 * at the same relative rate under SGD (Krähenbühl et al. 2016, §3.2, Algorithm 2).
 * **Mutates the model's weights in place** and returns what happened.
 *
 * On one batch, repeat up to `maxIterations` times:
 * 1. rates ρ_k = sqrt(mean(∇W_k²) / mean(W_k²)) for the loss Σ g·z_L, g ~ N(0, I) the
 *    shape of the last non-loss layer's pre-activation z_L (averaged over `draws`;
 *    with labels: mean softmax cross-entropy of z_L);
 * 2. target T = exp(mean_k log ρ_k) · σ_out^(1/K) (the factor only with `pullOutputStd`;
 *    σ_out = mean per-channel std of z_L, K = number of rated layers);
 * 3. stop when max_k |log ρ_k / log T − 1| < `tolerance`;
 * 4. s_k = (ρ_k / T)^(α/2): a layer whose rate is above the target is scaled up;
 *    in topological order W_k ← s_k·W_k, b_k ← s_k·r_k·b_k with r_k = a′_k/a_k the ratio of
 *    its mean |input| now (layers below already rescaled) to before — so each
 *    layer's pre-activation is, up to non-homogeneous layers, its old one times
 *    one positive number and the within-layer per-channel statistics keep their
 *    shape. Batch normalization's moving mean and β get r_k.
 * The step is applied during the forward pass of the next rate measurement, so an
 * iteration costs one forward and one backward per draw.
 *
 * For a positively homogeneous chain (ReLU, max pooling) with a fixed g, one full
 * step (α = 1) makes all rates equal: scaling layer k by s_k scales ∇W_k by Π_{j≠k} s_j,
 * so ρ′_k = ρ_k·Π_j s_j / s_k² = T·Π_j s_j for every k.
 *
 * @param model a built tfjs LayersModel with one input and one output (any DAG).
 * @param batch `[n, …inputShape]` (reference: 16 images), or `{ inputs, labels }` with one-hot
 *   labels `[n, classes]` for the real-loss variant. Not disposed.
 * @param options see {@link calibrationOptionsSchema} (parsed here; defaults = reference).
 * @param observers `logger` (a warning with the rates when it does not converge; warnings for
 *   non-homogeneous layers and output-std drift), `progress` (`task: 'calibration'`, one
 *   `advance` per iteration).
 * @throws ConfigError for invalid options, a multi-input/multi-output model, or nothing to calibrate.
 * @throws ShapeError when the batch or labels do not match the model.
 * @throws NumericalError for non-finite gradients/weights or an all-zero layer input.
 * @example
 * const model = buildModel('caffenet-small', { seed: 1 });
 * const result = calibrateChangeRates(model, batch, { seed: 1 }, { logger });
 * result.converged;                      // true
 * result.iterations.map((i) => i.deviationAfter);
 */
export function calibrateChangeRates(
  model: tf.LayersModel,
  batch: CalibrationBatch,
  options: CalibrationOptionsInput | CalibrationOptions = {},
  observers: Observers = {},
): CalibrationResult {
  const parsed = parseCalibrationOptions(options);
  const logger = observers.logger ?? silentLogger;
  const progress = observers.progress ?? silentProgress;
  const setup = prepareMeasurement(model, batch, parsed);
  const { layers } = setup;
  if (layers.nonHomogeneous.length > 0) {
    logger.warn('layers that are not positively homogeneous: the calibration step is approximate there', {
      layers: layers.nonHomogeneous.map((n) => `${n.layer} (${n.what})`),
    });
  }
  progress({ task: 'calibration', phase: 'start', completed: 0, total: parsed.maxIterations });
  const { initial, current, evaluation, iterations, violations, joint, unreachable } = runSteps(setup, logger, progress);
  const converged = evaluation.deviation < parsed.tolerance;
  if (!converged) {
    logger.warn('between-layer calibration did not converge', {
      iterations: iterations.length,
      tolerance: parsed.tolerance,
      deviation: evaluation.deviation,
      target: evaluation.target,
      rates: current.rates,
    });
  }
  if (unreachable !== undefined) {
    logger.warn('no choice of scales brings these layers to a common change rate', {
      layers: unreachable.layers,
      constraint: unreachable.constraint,
    });
  }
  if (violations.length > 0) {
    logger.warn('function-preserving calibration could not keep the function at some merges (no layer to tie on a branch)', {
      merges: violations.map((v) => v.merge),
    });
  }
  progress({ task: 'calibration', phase: 'end', completed: iterations.length, total: parsed.maxIterations, fields: { converged } });
  return {
    layers: setup.free.map((p) => p.name),
    uncalibrated: layers.uncalibrated,
    nonHomogeneous: layers.nonHomogeneous,
    top: { layer: setup.top.node.name, bypassedActivation: setup.top.bypassActivation, stripped: setup.top.stripped },
    initialRates: initial.rates,
    finalRates: current.rates,
    initialOutputStd: initial.outputStd,
    finalOutputStd: current.outputStd,
    finalTarget: evaluation.target,
    maxLogDeviation: evaluation.deviation,
    iterations,
    iterationsUsed: iterations.length,
    converged,
    step: joint === undefined ? 'per-layer' : 'joint',
    probes: joint?.probes ?? 0,
    unreachable: unreachable ?? null,
    functionViolations: violations,
    options: parsed,
  };
}
