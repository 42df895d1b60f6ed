/**
 * Average precision of one class, three ways, each on the tie-grouped
 * precision–recall curve (P_n, R_n) of {@link precisionRecallCurve}, R_0 = 0:
 *
 * - `non-interpolated`: AP = Σ_n (R_n − R_{n−1}) · P_n — the step-wise area under
 *   the curve that scikit-learn's `average_precision_score` computes, and what
 *   the paper's VOC07 classification protocol scored with.
 * - `voc07-11point`: AP = (1/11) Σ_{r ∈ {0, 0.1, …, 1}} max{ P_n : R_n ≥ r }
 *   (0 when no point reaches r) — the VOC2007 devkit. The levels are exactly
 *   i/10 (the devkit's `arange(0, 1.1, 0.1)` gives 0.30000000000000004, which
 *   misses a recall of exactly 0.3).
 * - `voc-envelope`: AP = Σ_n (R_n − R_{n−1}) · max_{m ≥ n} P_m — the area under
 *   the monotone (right-to-left running maximum) precision envelope, the
 *   VOC2010+ devkit.
 *
 * non-interpolated ≤ voc-envelope always (the envelope is ≥ P_n pointwise).
 */
import { precisionRecallCurve, type PrecisionRecallCurve } from './precision-recall-curve';
import type { Numbers } from './input-checks';

export type AveragePrecisionMethod = 'non-interpolated' | 'voc07-11point' | 'voc-envelope';

export const AVERAGE_PRECISION_METHODS: readonly AveragePrecisionMethod[] = ['non-interpolated', 'voc07-11point', 'voc-envelope'];

/** Σ_n (R_n − R_{n−1}) · P_n. */
export function nonInterpolatedAP(curve: PrecisionRecallCurve): number {
  let ap = 0;
  let previous = 0;
  for (let n = 0; n < curve.recall.length; n++) {
    ap += (curve.recall[n] - previous) * curve.precision[n];
    previous = curve.recall[n];
  }
  return ap;
}

/** (1/11) Σ_{r = i/10} max{ P_n : R_n ≥ r }. */
export function voc07ElevenPointAP(curve: PrecisionRecallCurve): number {
  let ap = 0;
  for (let i = 0; i <= 10; i++) {
    const level = i / 10;
    let best = 0;
    for (let n = 0; n < curve.recall.length; n++) if (curve.recall[n] >= level) best = Math.max(best, curve.precision[n]);
    ap += best / 11;
  }
  return ap;
}

/** Σ_n (R_n − R_{n−1}) · max_{m ≥ n} P_m. */
export function envelopeAP(curve: PrecisionRecallCurve): number {
  const envelope = curve.precision.slice();
  for (let n = envelope.length - 2; n >= 0; n--) envelope[n] = Math.max(envelope[n], envelope[n + 1]);
  let ap = 0;
  let previous = 0;
  for (let n = 0; n < curve.recall.length; n++) {
    ap += (curve.recall[n] - previous) * envelope[n];
    previous = curve.recall[n];
  }
  return ap;
}

const BY_METHOD: Record<AveragePrecisionMethod, (curve: PrecisionRecallCurve) => number> = {
  'non-interpolated': nonInterpolatedAP,
  'voc07-11point': voc07ElevenPointAP,
  'voc-envelope': envelopeAP,
};

/**
 * AP of one class from its scores and labels (1 positive, 0 negative, −1 ignored).
 * @throws DataError as {@link precisionRecallCurve} does, including when the class has no positives.
 * @example averagePrecision([0.9, 0.8, 0.7], [1, 0, 1]) // (1/2)·1 + (1/2)·(2/3) = 0.8333…
 */
export function averagePrecision(scores: Numbers, labels: Numbers, method: AveragePrecisionMethod = 'non-interpolated'): number {
  return BY_METHOD[method](precisionRecallCurve(scores, labels));
}

/** AP of a curve already computed. */
export function averagePrecisionOfCurve(curve: PrecisionRecallCurve, method: AveragePrecisionMethod): number {
  return BY_METHOD[method](curve);
}
