/**
 * The change rates of a model's layers on one batch, without changing anything
 * (Krähenbühl et al. 2016, §3.2): the quantity the calibration equalizes, and a
 * diagnostic for any initialization.
 */
import type * as tf from '@tensorflow/tfjs';
import { Rng } from '@ddinit/core';
import { parseCalibrationOptions, type CalibrationOptions, type CalibrationOptionsInput } from './calibration-options';
import type { UncalibratedLayer } from './calibration-layers';
import { measureRatesOnce } from './change-rates';
import { prepareMeasurement, type CalibrationBatch } from './measurement-setup';
import { targetOf } from './rate-target';

export interface ChangeRates {
  /** ρ_k = sqrt(mean(∇W_k²) / mean(W_k²)) per calibratable layer (NaN where undefined), topological order. */
  rates: Record<string, number>;
  /** σ_out: mean per-channel std of the top layer's pre-activation. */
  outputStd: number;
  /** The calibration's target for these rates and its deviation max_k |log ρ_k / log T − 1|. */
  target: number;
  deviation: number;
  /** Parameter layers without a rate, and why. */
  uncalibrated: UncalibratedLayer[];
}

/**
 * Measures ρ_k = sqrt(mean(∇W_k²) / mean(W_k²)) for every convolution/dense kernel
 * below the last non-loss layer L, for the loss Σ g·z_L with `draws` seeded draws
 * g ~ N(0, I) (mean(∇W²) averaged over them) — or, with labels, the mean softmax
 * cross-entropy of z_L. Uses `draws`, `seed`, `excludeLayers` and `pullOutputStd`
 * (for the target) of the calibration options. The model is not changed.
 *
 * @throws as `calibrateChangeRates` (the same preparation and measurement).
 * @example
 * const { rates, deviation } = measureChangeRates(model, batch, { draws: 4 });
 */
export function measureChangeRates(model: tf.LayersModel, batch: CalibrationBatch, options: CalibrationOptionsInput | CalibrationOptions = {}): ChangeRates {
  const parsed = parseCalibrationOptions(options);
  const setup = prepareMeasurement(model, batch, parsed);
  const stream = Rng.fromSeed(parsed.seed).derive('measure-change-rates');
  const source =
    setup.labels !== undefined
      ? ({ kind: 'labels', labels: setup.labels } as const)
      : ({ kind: 'random', seeds: Array.from({ length: parsed.draws }, (_, d) => stream.derive(`draw-${d}`).nextSeed()) } as const);
  const measured = measureRatesOnce(setup.graph, setup.top, setup.inputs, setup.free, source);
  const { target, deviation } = targetOf(measured.rates, measured.outputStd, parsed.pullOutputStd);
  return { rates: measured.rates, outputStd: measured.outputStd, target, deviation, uncalibrated: [...setup.layers.uncalibrated, ...measured.undefinedRates] };
}
