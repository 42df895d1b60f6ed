/**
 * Options of the between-layer calibration and of LSUV, as strict zod schemas
 * with explicit defaults: the pipeline parses its config file with them once,
 * and the functions here take the parsed (typed) objects. Also the entry point
 * `@ddinit/init-between-layer/options`, which does not load tfjs.
 */
import { z } from 'zod';
import { ConfigError } from '@ddinit/core/base';

/**
 * Options of {@link calibrateChangeRates} (Krähenbühl et al. 2016, §3.2 / Algorithm 2;
 * reference `calibrateGradientRatio` in magic_init.py). Defaults reproduce the reference.
 */
export const calibrationOptionsSchema = z
  .object({
    /**
     * Random top gradients g ~ N(0, I) per rate measurement; the rate is
     * sqrt(mean over draws of mean(∇W²)) / RMS(W). Reference: 1 (noise is then
     * averaged out over the iterations). Ignored when labels are given (the loss
     * is deterministic then).
     */
    draws: z.int().min(1).default(1),
    /**
     * Draw new g at every measurement (the reference does). Default false: the
     * same seeded draws every iteration, a deterministic fixed-point iteration
     * (one full step equalizes a positively homogeneous network exactly). With
     * fresh single draws the stopping test compares rates of *different* g, whose
     * draw-to-draw noise (measured: 3–7 % on caffenet-small at batch 8, more on small
     * batches) exceeds the 1 % tolerance, so the loop rarely stops (README).
     */
    freshDraws: z.boolean().default(false),
    /**
     * How a step chooses the scales (docs/method.md#joint-step). `per-layer`
     * (default, the reference): s_k = (ρ_k / T)^(α/2) for each layer alone — exact on
     * chains; it stalls where a branch holds layers in series beside a shorter
     * branch. `joint`: all scales together from how each layer's rate responds to
     * every layer's scale (one extra measurement per layer that some path
     * bypasses); it converges on such blocks without the output-std pull, and
     * names the constraint when no scales reach a common rate. Not the default:
     * with the output-std pull it does not reach 1 % on those blocks (measured,
     * docs/RESULTS.md).
     */
    step: z.enum(['per-layer', 'joint']).default('per-layer'),
    /** Damping α of the step: s_k = (ρ_k / T)^(α/2) per layer; the joint step's log scales × α. 1 is the reference's full step. */
    alpha: z.number().gt(0).max(2).default(1),
    /** Converged when every calibrated layer has |log ρ_k / log T − 1| < tolerance (reference 0.01). */
    tolerance: z.number().gt(0).default(0.01),
    /** Maximum number of scaling steps (reference 10). 0 only measures. */
    maxIterations: z.int().min(0).default(10),
    /**
     * Multiply the target by σ_out^(1/K) (σ_out: mean per-channel std of the last
     * layer's pre-activation, K: calibrated layers), which pulls the output std
     * toward 1 by a factor σ_out^(−α/2) per step (reference: on). Must be off
     * with `functionPreserving`.
     */
    pullOutputStd: z.boolean().default(true),
    /**
     * The paper's variant that keeps the network function: the target is the plain
     * geometric mean, biases follow the exact (propagated) input scale instead of
     * the measured mean |input| ratio, and where inputs of a merge (Add, Concat, …)
     * would get different scales, the nearest parameter layer of the branch is tied
     * to the reference branch's scale (and reported as not calibrated). Default off,
     * as in the reference code: see README "Which variant".
     */
    functionPreserving: z.boolean().default(false),
    /**
     * Relative change of the output std between iterations above which a warning
     * says the network looks non-homogeneous (reference: |Δ log σ_out| > 0.25).
     */
    outputStdWarning: z.number().gt(0).default(0.25),
    /** Parameter layers (qualified names) to leave unscaled, e.g. a pretrained prefix; their biases still follow their input scale. */
    excludeLayers: z.array(z.string()).default([]),
    /** Run seed: the draws of g derive from it (`Rng.fromSeed(seed).derive('calibration')`). */
    seed: z.int().default(0),
  })
  .strict()
  .superRefine((options, context) => {
    if (options.functionPreserving && options.pullOutputStd) {
      context.addIssue({
        code: 'custom',
        path: ['pullOutputStd'],
        message: 'pullOutputStd changes the output scale; it must be false when functionPreserving is true',
      });
    }
    if (options.functionPreserving && options.step === 'joint') {
      context.addIssue({
        code: 'custom',
        path: ['step'],
        message: 'the function-preserving variant ties layers at merges and steps per layer; use step "per-layer" with it',
      });
    }
  });

export type CalibrationOptions = z.output<typeof calibrationOptionsSchema>;
export type CalibrationOptionsInput = z.input<typeof calibrationOptionsSchema>;

/** Options of {@link lsuvInitialize} (Mishkin & Matas 2016, "All you need is a good init", Algorithm 1). */
export const lsuvOptionsSchema = z
  .object({
    /** Start from orthonormal filters (LSUV's step 1); false keeps the current kernels. */
    orthogonal: z.boolean().default(true),
    /** Stop rescaling a layer when |Var(z) − 1| < tolerance (paper: Tol_var = 0.1). */
    tolerance: z.number().gt(0).default(0.1),
    /** Maximum rescaling tries per layer (paper: T_max = 10). */
    maxTries: z.int().min(1).default(10),
    /** Set biases to zero first (the LSUV reference code's choice; false keeps them). */
    zeroBias: z.boolean().default(true),
    /** Parameter layers (qualified names) to leave untouched. */
    excludeLayers: z.array(z.string()).default([]),
    /** Seed of the orthonormal draws (each layer's stream derives from it and the layer name). */
    seed: z.int().default(0),
  })
  .strict();

export type LsuvOptions = z.output<typeof lsuvOptionsSchema>;
export type LsuvOptionsInput = z.input<typeof lsuvOptionsSchema>;

function parseWith<S extends z.ZodType>(schema: S, options: unknown, where: string): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (!result.success) {
    throw new ConfigError(`invalid options\n${z.prettifyError(result.error)}`, { where, cause: result.error });
  }
  return result.data;
}

/**
 * Validates calibration options and fills in the defaults.
 *
 * @throws ConfigError with zod's pretty-printed issues.
 */
export function parseCalibrationOptions(options: unknown = {}): CalibrationOptions {
  return parseWith(calibrationOptionsSchema, options, 'calibration options');
}

/**
 * Validates LSUV options and fills in the defaults.
 *
 * @throws ConfigError with zod's pretty-printed issues.
 */
export function parseLsuvOptions(options: unknown = {}): LsuvOptions {
  return parseWith(lsuvOptionsSchema, options, 'lsuv options');
}
