/**
 * What a calibration run reports: per iteration the rates before and after the
 * step, the target, the scales and the output std — the data a report plots.
 */
import type { CalibrationOptions } from './calibration-options';
import type { UncalibratedLayer } from './calibration-layers';
import type { UnreachableConstraint } from './joint-step';

/** One scaling step. Rates are keyed by layer name, in topological order. */
export interface CalibrationIteration {
  /** 1-based. */
  iteration: number;
  /** Target T of this step: geometric mean of `ratesBefore` (× σ_out^(1/K) with `pullOutputStd`). */
  target: number;
  ratesBefore: Record<string, number>;
  /** Kernel (and bias) factor s_k applied to each calibrated layer (tied layers: the factor their tie required). */
  scales: Record<string, number>;
  ratesAfter: Record<string, number>;
  outputStdBefore: number;
  outputStdAfter: number;
  /** max_k |log ρ_k / log T − 1| over the calibrated layers, before and after the step (each with its own T). */
  deviationBefore: number;
  deviationAfter: number;
}

export interface CalibrationResult {
  /** The layers that were calibrated (got a rate and a scale), in topological order. */
  layers: string[];
  /** Parameter layers that were not calibrated, with the reason. */
  uncalibrated: UncalibratedLayer[];
  /** Layers on the way to the top that are not positively homogeneous (the step is approximate there). */
  nonHomogeneous: { layer: string; what: string }[];
  /** The layer whose pre-activation received the top gradient, and the output-activation layers stripped above it. */
  top: { layer: string; bypassedActivation: boolean; stripped: string[] };
  initialRates: Record<string, number>;
  finalRates: Record<string, number>;
  initialOutputStd: number;
  finalOutputStd: number;
  /** Target T of the final rates and max_k |log ρ_k / log T − 1| over them (what the convergence test saw last; report.json `calibration.maxLogDeviation`). */
  finalTarget: number;
  maxLogDeviation: number;
  iterations: CalibrationIteration[];
  /** Number of scaling steps done (≤ maxIterations). */
  iterationsUsed: number;
  /** The step used (options.step). */
  step: 'per-layer' | 'joint';
  /**
   * Joint step: measurements spent probing how the rates respond to the scales of
   * layers that some path bypasses (one each, before the first step; each costs
   * what an iteration costs). 0 with the per-layer step. `initialRates` are
   * before the probes, iteration 1's `ratesBefore` after them.
   */
  probes: number;
  /**
   * Joint step, not converged: the combination of log-rates that no layer's scale
   * changes and that keeps the rates apart (the layers and the constraint), when the
   * response says so; null otherwise.
   */
  unreachable: UnreachableConstraint | null;
  /** Every calibrated layer within tolerance at the end. */
  converged: boolean;
  /** Merges where the function-preserving variant could not keep the function (scales disagreed, no layer to tie). */
  functionViolations: { merge: string; scales: number[] }[];
  /** The options used, defaults filled in. */
  options: CalibrationOptions;
}
