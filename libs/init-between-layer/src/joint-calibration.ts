/**
 * The calibration loop's side of the joint step (docs/method.md#joint-step):
 * measuring the response columns that the graph does not give, planning each
 * step from the response, and correcting the response from what each step did.
 */
import type { RateMeasurement } from './change-rates';
import { targetOf } from './rate-target';
import type { MeasurementSetup } from './measurement-setup';
import {
  onEveryPath,
  setMeasuredColumn,
  solveJointStep,
  structuralResponse,
  unreachableConstraint,
  updateResponse,
  type OutputAim,
  type UnreachableConstraint,
} from './joint-step';

/**
 * Log-step of a probe: large enough that float32 noise in the rates (≈1e-6
 * relative) is far below the change, small enough to stay in the linear range
 * (the mixture the ReLUs after a merge see changes by a few percent).
 */
const PROBE_LOG_STEP = 0.1;

/**
 * First trust radius: the largest |log s_k| of the first joint step. The response
 * is first-order, and a branch's share of a merge is a logistic function of its
 * log scale, so a step is trusted only as far as its prediction held (see
 * {@link learnFromStep}).
 */
const FIRST_RADIUS = 0.5;

/** One measurement with `factors` (node id → kernel factor) applied on the way. */
export type MeasureWith = (factors: Map<number, number>) => RateMeasurement;

export interface JointState {
  /** The response matrix J ((K+1)×K, row-major) of `setup.free`. */
  response: Float64Array;
  /** Measurements spent on probing the response (not counted as iterations). */
  probes: number;
  /** Trust radius: the largest |log s_k| of the next step. */
  radius: number;
  /** The layers whose columns were probed (some path bypasses them), by name. */
  bypassed: string[];
  /** log σ_out at the first measurement (kept, softly, without the pull). */
  startLogStd: number;
  /** Log scales applied since the last accepted measurement (a rejected step): the next step takes them back. */
  rejected: Float64Array | undefined;
}

/** y: the free layers' log-rates (NaN where undefined), then log σ_out. */
export function logRates(setup: MeasurementSetup, measured: RateMeasurement): Float64Array {
  const rates = measured.rates;
  const y = Float64Array.from(setup.free, (p) => (Number.isFinite(rates[p.name]) && rates[p.name] > 0 ? Math.log(rates[p.name]) : Number.NaN));
  return Float64Array.of(...y, Math.log(measured.outputStd));
}

/**
 * The response of `setup.free`: the exact columns of the layers every path
 * passes through, and one probe per other layer — scale it by e^h on top of the
 * previous probe and take the change of y over h. Returns the state and the last
 * measurement (the model stays with the probes' scales: the first step starts there).
 */
export function probeResponse(setup: MeasurementSetup, start: RateMeasurement, measureWith: MeasureWith): { state: JointState; last: RateMeasurement } {
  const nodes = setup.free.map((p) => p.node);
  const exact = onEveryPath(setup.graph, setup.top, nodes);
  const response = structuralResponse(exact);
  let last = start;
  let y0 = logRates(setup, start);
  let probes = 0;
  nodes.forEach((node, j) => {
    if (exact[j]) return;
    if (!Number.isFinite(y0[j])) {
      setMeasuredColumn(response, j, y0, y0, 1); // a layer without a rate keeps its scale: its column is never used
      return;
    }
    last = measureWith(new Map([[node, Math.exp(PROBE_LOG_STEP)]]));
    probes++;
    const y1 = logRates(setup, last);
    setMeasuredColumn(response, j, y0, y1, PROBE_LOG_STEP);
    y0 = y1;
  });
  const bypassed = setup.free.filter((_, j) => !exact[j]).map((p) => p.name);
  return { state: { response, probes, bypassed, radius: FIRST_RADIUS, startLogStd: Math.log(start.outputStd), rejected: undefined }, last };
}

/** K·tolerance·|ȳ|: with every rate at ȳ the stopping test with the pull passes about when |log σ_out| is below it. */
function outputBand(setup: MeasurementSetup, y: Float64Array): number {
  const rated = Array.from(y.subarray(0, y.length - 1)).filter(Number.isFinite);
  return rated.length * setup.options.tolerance * Math.abs(rated.reduce((a, b) => a + b, 0) / Math.max(rated.length, 1));
}

/**
 * How much a step weighs its σ_out equation against the rates' (1): a soft
 * equation that picks, among the scales that equalize the rates, those nearest
 * the σ_out it aims at. Soft, because at a merge of branches of unequal depth
 * equal rates fix the branches' relative scales and σ_out then moves only with
 * their mixture (docs/method.md#joint-step): where the two conflict the rates win
 * (a small weight leaves them a residual of about weight² times the miss of
 * log σ_out), and the result says so ({@link outputConstraintAt}).
 */
const OUTPUT_WEIGHT = 0.01;

/**
 * The σ_out equation of a step from y. With the pull: into half the band the
 * stopping test accepts (T includes σ_out^(1/K), so with every rate at t it
 * passes when |log σ_out| / K < tolerance·|t + log σ_out / K|); none inside it.
 * Without: back to the log σ_out the joint steps started from (what the
 * per-layer step does on a chain, Π s_k = 1).
 */
function outputAim(setup: MeasurementSetup, state: JointState, y: Float64Array): OutputAim | undefined {
  const logStd = y[y.length - 1];
  if (!setup.options.pullOutputStd) return { change: state.startLogStd - logStd, weight: OUTPUT_WEIGHT };
  const half = outputBand(setup, y) / 2;
  return Math.abs(logStd) <= half ? undefined : { change: Math.sign(logStd) * half - logStd, weight: OUTPUT_WEIGHT };
}

/**
 * The joint step from `current` (the last accepted measurement): log scales x
 * (× α) within the trust radius, and the kernel factors that get there from where
 * the model is (e^(x − rejected)).
 */
export function planJointStep(setup: MeasurementSetup, state: JointState, current: RateMeasurement): { logScales: Float64Array; factors: Map<number, number> } {
  const y = logRates(setup, current);
  const step = solveJointStep(state.response, y, outputAim(setup, state, y), state.radius);
  const logScales = step.logScales.map((x) => setup.options.alpha * x);
  const factors = new Map(setup.free.map((p, i) => [p.node, Math.exp(logScales[i] - (state.rejected?.[i] ?? 0))]));
  return { logScales, factors };
}

/** What the joint step reduces: Σ_k (y_k − ȳ)² over the rated layers, plus the squared distance of log σ_out from its band with the pull. */
function mismatch(setup: MeasurementSetup, state: JointState, y: Float64Array): number {
  const k = y.length - 1;
  const rated = Array.from(y.subarray(0, k)).filter(Number.isFinite);
  const mean = rated.reduce((a, b) => a + b, 0) / Math.max(rated.length, 1);
  const aim = outputAim(setup, state, y);
  return rated.reduce((a, v) => a + (v - mean) ** 2, 0) + (aim === undefined ? 0 : (aim.weight * aim.change) ** 2);
}

/**
 * After a step x from `before` to `after`: the trust radius from how much of the
 * predicted reduction of the mismatch the step achieved (the usual rule: below ¼
 * a quarter of the step's length, above ¾ twice the radius), Broyden's correction
 * of the response (same draws only: with fresh draws the change is mostly noise),
 * and whether the step is accepted (the mismatch did not grow).
 */
export function learnFromStep(setup: MeasurementSetup, state: JointState, x: Float64Array, before: RateMeasurement, after: RateMeasurement): boolean {
  const y0 = logRates(setup, before);
  const y1 = logRates(setup, after);
  const k = x.length;
  const predicted = y0.map((v, a) => v + x.reduce((sum, xb, b) => sum + state.response[a * k + b] * xb, 0));
  const was = mismatch(setup, state, y0);
  const now = mismatch(setup, state, y1);
  const agreement = was > mismatch(setup, state, predicted) ? (was - now) / (was - mismatch(setup, state, predicted)) : -1;
  const length = Math.max(...Array.from(x, Math.abs));
  if (agreement < 0.25) state.radius = length / 4;
  else if (agreement > 0.75) state.radius = Math.max(state.radius, 2 * length);
  state.rejected = now > was ? x : undefined;
  if (!(setup.options.freshDraws && setup.labels === undefined)) learnResponse(state, x, y0, y1);
  return state.rejected === undefined;
}

function learnResponse(state: JointState, x: Float64Array, y0: Float64Array, y1: Float64Array): void {
  updateResponse(
    state.response,
    x,
    y1.map((v, i) => v - y0[i]),
  );
}

/** The constraint that keeps the rates of `current` apart under the response, if any (see {@link unreachableConstraint}). */
export function unreachableAt(setup: MeasurementSetup, state: JointState, current: RateMeasurement): UnreachableConstraint | undefined {
  const y = logRates(setup, current);
  // σ_out is aimed at softly: what cannot be reached is judged on the rates alone here (σ_out: outputConstraintAt).
  const step = solveJointStep(state.response, y, undefined);
  return unreachableConstraint(
    step,
    y,
    setup.free.map((p) => p.name),
    setup.options.tolerance,
  );
}

/**
 * With the pull, measured: the rates agree among themselves (max |log ρ_k / log ρ̄ − 1|
 * below the tolerance, ρ̄ their geometric mean) but σ_out is outside the band the
 * stopping test needs — the steps found no equal-rate scales with σ_out inside it
 * (which need not mean none exist: on resnet-small the per-layer step finds some).
 * Names the bypassed layers, whose branches' mixture is what moves σ_out there.
 */
export function outputConstraintAt(setup: MeasurementSetup, state: JointState, current: RateMeasurement): UnreachableConstraint | undefined {
  if (!setup.options.pullOutputStd) return undefined;
  const y = logRates(setup, current);
  const logStd = y[y.length - 1];
  const spread = targetOf(current.rates, 1, false).deviation;
  const band = outputBand(setup, y);
  if (!(spread < setup.options.tolerance) || !(Math.abs(logStd) > band)) return undefined;
  return {
    layers: state.bypassed,
    coefficients: { 'output std': 1 },
    value: logStd,
    constraint:
      `the rates agree (within ${spread.toFixed(4)}) but log σ_out = ${logStd.toFixed(2)} is outside the band (|log σ_out| below about ` +
      `${band.toFixed(2)}) the output-std pull's stopping test needs, and the steps found no equal rates inside it; the branches of ` +
      `${state.bypassed.join(', ')} merge at unequal depth, where equal rates fix their relative scales and σ_out moves only with ` +
      'their mixture, so such scales may not exist (pullOutputStd: false accepts equal rates)',
  };
}
