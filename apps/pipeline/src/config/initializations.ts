/**
 * Every way the pipeline can initialize a network, as one list of names: the
 * `init` option of the CLI, the config schema, the Kubernetes renderer and the
 * comparison study's `init` axis all read {@link INITIALIZATIONS}, and reports
 * show the same names.
 *
 * - Data-free baselines (biases 0, seeded per layer): `glorot-uniform` (tfjs's
 *   default, Glorot & Bengio 2010), `he-normal` (He et al. 2015), `gaussian-0.01`
 *   (old Caffe's default), `orthogonal` (Saxe et al. 2014, gain 1).
 * - `lsuv`: orthogonal, then each layer rescaled in order until its output variance
 *   is 1 on a batch (Mishkin & Matas 2016; `@ddinit/init-between-layer`).
 * - ddinit: `ddinit-<source>` is the within-layer initialization from a weight
 *   source with per-channel normalization (docs/method.md#within-layer), and
 *   `ddinit-<source>+calibration` adds the between-layer calibration of change
 *   rates (docs/method.md#between-layer), for every source of `WITHIN_METHODS`.
 *
 * This module loads neither tfjs nor a library's main entry, so a configuration
 * naming an initialization parses and hashes before tfjs is paid for.
 */
import { BASELINE_METHODS, WITHIN_METHODS, type BaselineMethod, type WithinMethod } from '@ddinit/init-within-layer/options';

/** The data-free initializations: the within-layer library's baselines (`initializeBaseline`). */
export const DATA_FREE_INITIALIZATIONS = BASELINE_METHODS;
export type DataFreeInitialization = BaselineMethod;

/** The suffix that adds the between-layer calibration to a ddinit initialization. */
export const CALIBRATION_SUFFIX = '+calibration';

type DdinitName = `ddinit-${WithinMethod}` | `ddinit-${WithinMethod}${typeof CALIBRATION_SUFFIX}`;

const DDINIT_INITIALIZATIONS = WITHIN_METHODS.flatMap((method) => [`ddinit-${method}`, `ddinit-${method}${CALIBRATION_SUFFIX}`] as DdinitName[]);

/** Every initialization, data-free ones first, in the order reports list them. */
export const INITIALIZATIONS = [...DATA_FREE_INITIALIZATIONS, 'lsuv', ...DDINIT_INITIALIZATIONS] as readonly [
  DataFreeInitialization,
  ...(DataFreeInitialization | 'lsuv' | DdinitName)[],
];
export type Initialization = (typeof INITIALIZATIONS)[number];

/** The initialization the pipeline uses when none is named: k-means with calibration, the paper's best. */
export const DEFAULT_INITIALIZATION: Initialization = `ddinit-kmeans${CALIBRATION_SUFFIX}`;

/** What a name means: a data-free draw, LSUV, or ddinit's within-layer source with or without calibration. */
export type InitializationPlan =
  { kind: 'data-free'; method: DataFreeInitialization } | { kind: 'lsuv' } | { kind: 'ddinit'; within: WithinMethod; calibrate: boolean };

/** The plan of a name of {@link INITIALIZATIONS} (the schema has checked the name). */
export function initializationPlan(name: Initialization): InitializationPlan {
  if (name === 'lsuv') return { kind: 'lsuv' };
  if ((DATA_FREE_INITIALIZATIONS as readonly string[]).includes(name)) return { kind: 'data-free', method: name as DataFreeInitialization };
  const calibrate = name.endsWith(CALIBRATION_SUFFIX);
  const within = name.slice('ddinit-'.length, calibrate ? -CALIBRATION_SUFFIX.length : undefined) as WithinMethod;
  return { kind: 'ddinit', within, calibrate };
}

/** The name of a ddinit plan (the inverse of {@link initializationPlan} for `kind: 'ddinit'`). */
export function ddinitInitialization(within: WithinMethod, calibrate: boolean): Initialization {
  return `ddinit-${within}${calibrate ? CALIBRATION_SUFFIX : ''}`;
}

/** True when the name needs data (a sample) to initialize. */
export function needsData(plan: InitializationPlan): boolean {
  return plan.kind !== 'data-free';
}

/** True when the plan runs a step on the calibration batch: the between-layer calibration or LSUV's rescaling. */
export function usesCalibrationBatch(plan: InitializationPlan): boolean {
  return plan.kind === 'lsuv' || (plan.kind === 'ddinit' && plan.calibrate);
}

export type { BaselineMethod };
