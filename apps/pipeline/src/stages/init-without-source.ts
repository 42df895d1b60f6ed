/**
 * The initializations of the init stage that use no weight source from the data:
 * the data-free draws (`glorot-uniform`, `he-normal`, `gaussian-0.01`,
 * `orthogonal`; @ddinit/init-within-layer `initializeBaseline`) and `lsuv` (the
 * `orthogonal` draw of the same seed, then Mishkin & Matas's layer-by-layer
 * rescaling to unit output variance on the calibration batch; @ddinit/init-between-layer
 * `lsuvInitialize`). The sample still standardizes the inputs (its per-channel mean
 * and std, as for every artifact), and every layer is measured on it and on the
 * held-out images, so their reports read like a ddinit one.
 */
import * as tf from '@tensorflow/tfjs';
import type { Observers } from '@ddinit/core';
import { lsuvInitialize, type LsuvResult } from '@ddinit/init-between-layer';
import { initializeBaseline, measureLayerMoments } from '@ddinit/init-within-layer';
import { parameterLayers } from '@ddinit/models';
import type { InitializationPlan } from '../config/initializations';
import type { PipelineConfig } from '../config/pipeline-config';
import type { LayerReport, LsuvReport } from '../report/report-schema';
import { checkHeldOutLayers, type HeldOutLayer } from './held-out-check';
import type { InitSample } from './init-sample';

const seconds = (): number => performance.now() / 1000;

/** What a data-free or LSUV initialization did, in the report's terms. */
export interface InitializedWithoutSource {
  layers: LayerReport[];
  lsuv: LsuvReport | null;
  heldOutLayers: HeldOutLayer[] | null;
  drawSeconds: number;
  rescaleSeconds: number;
}

function lsuvReport(result: LsuvResult): LsuvReport {
  return { converged: result.converged, tolerance: result.options.tolerance, layers: result.layers, skipped: result.skipped };
}

/** LSUV's rescaling of the already drawn weights on the first `calibrationBatch` images of the sample. */
function rescaleByLsuv(model: tf.LayersModel, sample: InitSample, config: PipelineConfig, observers: Required<Observers>): LsuvResult {
  const batch = tf.slice(sample.images, 0, config.calibrationBatch);
  try {
    const result = lsuvInitialize(model, batch, { ...config.lsuvOptions, orthogonal: false, seed: config.seed }, observers);
    if (!result.converged) observers.logger.warn('LSUV did not reach unit variance in every layer', { tolerance: result.options.tolerance });
    return result;
  } finally {
    batch.dispose();
  }
}

/**
 * Initializes `model` by a data-free or the LSUV plan (seeded by `config.seed`) and
 * measures every parameter layer's channel-averaged pre-activation mean and std on
 * the sample and on the held-out images.
 * @throws NumericalError from LSUV for a layer whose output variance is 0 or not finite.
 */
export function initializeWithoutSource(
  model: tf.LayersModel,
  sample: InitSample,
  config: PipelineConfig,
  plan: Exclude<InitializationPlan, { kind: 'ddinit' }>,
  observers: Required<Observers>,
): InitializedWithoutSource {
  const drawStart = seconds();
  initializeBaseline(model, plan.kind === 'lsuv' ? 'orthogonal' : plan.method, config.seed);
  const drawSeconds = seconds() - drawStart;
  const rescaleStart = seconds();
  const lsuv = plan.kind === 'lsuv' ? rescaleByLsuv(model, sample, config, observers) : null;
  const rescaleSeconds = seconds() - rescaleStart;

  const rescaled = new Set(lsuv?.layers.map((l) => l.layer));
  const methodOf = (name: string): LayerReport['method'] => (plan.kind === 'data-free' ? plan.method : rescaled.has(name) ? 'lsuv' : 'orthogonal');
  const measured = parameterLayers(model).map((p) => ({ name: p.name, kind: p.kind, method: methodOf(p.name) }));
  const inSample = measureLayerMoments(model, sample.images, measured);
  const checked = measured.map((l, k) => ({ ...l, outMean: inSample[k].mean, outStd: inSample[k].std }));
  const heldOutLayers = sample.heldOut ? checkHeldOutLayers(model, sample.heldOut, checked, observers.logger) : null;
  const layers = checked.map((l, k): LayerReport => ({
    ...l,
    fallback: null,
    rows: null,
    images: null,
    worstMeanDeviation: null,
    worstStdDeviation: null,
    heldOutMean: heldOutLayers?.[k].mean ?? null,
    heldOutStd: heldOutLayers?.[k].std ?? null,
    heldOutStrays: heldOutLayers?.[k].strays ?? false,
    outStdBefore: null,
    changeRateBefore: null,
    changeRateAfter: null,
    seconds: null,
  }));
  return { layers, lsuv: lsuv && lsuvReport(lsuv), heldOutLayers, drawSeconds, rescaleSeconds };
}
