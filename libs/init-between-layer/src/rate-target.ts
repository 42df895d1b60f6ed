/**
 * The common change rate the calibration steers every layer towards, and how far
 * the measured rates are from it (Krähenbühl et al. 2016, §3.2; docs/method.md#calibration-step).
 */

/**
 * T = exp(mean_k log ρ_k) · σ_out^(1/K) over the K finite, positive rates (the σ_out
 * factor only with `pullOutputStd`), and the deviation max_k |log ρ_k / log T − 1|.
 * No defined rate: T = NaN, deviation = ∞, count = 0.
 */
export function targetOf(rates: Record<string, number>, outputStd: number, pullOutputStd: boolean): { target: number; deviation: number; count: number } {
  const logs = Object.values(rates)
    .filter((r) => Number.isFinite(r) && r > 0)
    .map(Math.log);
  if (logs.length === 0) return { target: Number.NaN, deviation: Number.POSITIVE_INFINITY, count: 0 };
  let logTarget = logs.reduce((a, b) => a + b, 0) / logs.length;
  if (pullOutputStd) logTarget += Math.log(outputStd) / logs.length;
  const deviation = Math.max(...logs.map((l) => Math.abs(l / logTarget - 1)));
  return { target: Math.exp(logTarget), deviation: Number.isNaN(deviation) ? Number.POSITIVE_INFINITY : deviation, count: logs.length };
}
