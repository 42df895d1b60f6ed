/**
 * The statistics of the comparison report (study-report.ts), pure and without
 * tensors: means and sample standard deviations over seeds, Student's t
 * distribution for the paired intervals, and the smoothed training loss after k
 * steps.
 */

/** Arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Sample standard deviation s = √(Σ(xᵢ − x̄)² / (n − 1)); null below two values (undefined for one). */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1));
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13 in the range the t CDF uses). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < c.length; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz), converging for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const factor of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), -((a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + factor * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + factor / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for 0 ≤ x ≤ 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast on one side of the mean; the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) covers the other.
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/**
 * Student's t CDF with `df` degrees of freedom:
 * P(T ≤ t) = 1 − ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0, and ½·I_{df/(df+t²)}(df/2, ½) for t < 0.
 */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (the inverse of
 * {@link studentTCdf}), by bisection on the monotone CDF: exact to ~1e-12 for
 * 0 < p < 1, e.g. t(0.975, 1) = 12.706, t(0.975, 4) = 2.776.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`studentTQuantile needs 0 < p < 1 and df > 0 (got p ${p}, df ${df})`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  let low = 0;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

export interface TInterval {
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Degrees of freedom n − 1 and the quantile t(1 − (1 − level)/2, n − 1). */
  df: number;
  t: number;
  low: number;
  high: number;
}

/**
 * The two-sided t-interval of the mean of `values`: x̄ ± t(1 − α/2, n − 1) · s / √n.
 * Null for fewer than two values: one seed gives no estimate of the spread.
 */
export function tInterval(values: readonly number[], level = 0.95): TInterval | null {
  const std = sampleStd(values);
  if (std === null) return null;
  const df = values.length - 1;
  const t = studentTQuantile(1 - (1 - level) / 2, df);
  const m = mean(values);
  const half = (t * std) / Math.sqrt(values.length);
  return { level, df, t, low: m - half, high: m + half };
}

/** A finished run's training loss per step (steps count from 0; a resumed run's curve starts at its checkpoint). */
export type LossCurve = readonly { step: number; loss: number }[];

/** The window the loss after k steps is averaged over: 5 % of the budget, at least one step. */
export function smoothingWindow(budgetSteps: number): number {
  return Math.max(1, Math.ceil(budgetSteps / 20));
}

/**
 * The training loss after `k` steps, smoothed: the mean batch loss of steps
 * k − window … k − 1 (steps count from 0, so step k − 1 is the k-th). Null when
 * the curve has no finite point there (a curve cut by a resume, a diverged run).
 */
export function lossAfter(curve: LossCurve, k: number, window: number): number | null {
  const inWindow = curve.filter((p) => p.step >= k - window && p.step <= k - 1 && Number.isFinite(p.loss)).map((p) => p.loss);
  return inWindow.length === 0 ? null : mean(inWindow);
}

/**
 * The mean over curves of the loss at each step every curve has, then a trailing
 * moving average over `window` steps (the figure's lines), thinned to at most
 * `maxPoints` points by taking every ⌈n / maxPoints⌉-th step.
 */
export function meanLossCurve(curves: readonly LossCurve[], window: number, maxPoints = 300): [number, number][] {
  if (curves.length === 0) return [];
  const byStep = curves.map((curve) => new Map(curve.filter((p) => Number.isFinite(p.loss)).map((p) => [p.step, p.loss])));
  const steps = [...byStep[0].keys()].filter((step) => byStep.every((losses) => losses.has(step))).sort((a, b) => a - b);
  const averaged = steps.map((step) => mean(byStep.map((losses) => losses.get(step) as number)));
  const smoothed = averaged.map((_, i) => mean(averaged.slice(Math.max(0, i + 1 - window), i + 1)));
  return thin(
    steps.map((step, i): [number, number] => [step, smoothed[i]]),
    maxPoints,
  );
}

/** At most `maxPoints` of `points`: every ⌈n / maxPoints⌉-th, ending with the last one (all of them when they are few). */
export function thin<T>(points: readonly T[], maxPoints: number): T[] {
  const stride = Math.ceil(points.length / maxPoints);
  return points.filter((_, i) => i % stride === stride - 1 || i === points.length - 1);
}
