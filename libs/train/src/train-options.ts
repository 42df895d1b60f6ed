/**
 * Options of the training loop as one strict zod schema with explicit defaults:
 * the pipeline parses its config with it once; the functions here take the
 * parsed object.
 */
import { z } from 'zod';

/** The optimizers the loop runs — tfjs's: `sgd` (plain), `momentum` (heavy ball), `nesterov`, `adam`. */
export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Learning-rate schedules (learning-rate.ts gives the formulas). */
export const scheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }).strict(),
  /** × `gamma` every `every` steps (Caffe's "step" policy). */
  z.object({ kind: z.literal('step'), every: z.int().min(1), gamma: z.number().gt(0).max(1).default(0.1) }).strict(),
  /** Cosine from the base rate down to `minFactor` × base at the last step (Loshchilov & Hutter 2017, without restarts). */
  z.object({ kind: z.literal('cosine'), minFactor: z.number().min(0).max(1).default(0) }).strict(),
]);

/** A learning-rate multiplier for the layers whose qualified name matches (`*` matches any run of characters); 0 freezes them. */
export const layerRateSchema = z.object({ match: z.string().min(1), multiplier: z.number().min(0) }).strict();

export const trainOptionsSchema = z
  .object({
    /** Steps (batches) in the run. */
    steps: z.int().min(1),
    /** One of {@link OPTIMIZERS}. */
    optimizer: z.enum(OPTIMIZERS).default('momentum'),
    learningRate: z.number().gt(0).default(0.01),
    /** Momentum of `momentum` / `nesterov` (Caffe's reference solvers: 0.9). */
    momentum: z.number().min(0).lt(1).default(0.9),
    /** Adam's β₁, β₂, ε (Kingma & Ba 2015 defaults). */
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().gt(0).default(1e-8),
    /**
     * Weight decay λ on kernels (biases and normalization parameters are not decayed).
     * `l2`: λ·w is added to the gradient before the optimizer (Caffe's weight_decay;
     * with Adam this is not decoupled). `decoupled`: after the optimizer step,
     * w ← w − lr·λ·w (SGDW/AdamW, Loshchilov & Hutter 2019). Equal for plain SGD.
     */
    weightDecay: z.number().min(0).default(5e-4),
    weightDecayMode: z.enum(['l2', 'decoupled']).default('l2'),
    /** Rescale the gradient to this global L2 norm when it is larger (null: no clipping). */
    clipGradientNorm: z.number().gt(0).nullable().default(null),
    schedule: scheduleSchema.default({ kind: 'constant' }),
    /** Linear warm-up from 0 to the scheduled rate over the first steps (Goyal et al. 2017). */
    warmupSteps: z.int().min(0).default(0),
    /** Per-layer multipliers, first match wins; layers that match none get 1. */
    layerRates: z.array(layerRateSchema).default([]),
    /** Hand a checkpoint to the caller every this many steps (0: only at the end and when stopped). */
    checkpointEvery: z.int().min(0).default(100),
    /**
     * The divergence guard: a layer's step norm lr·‖g‖ above this factor times the
     * median of its last 20 steps stops the run (after at least 5 steps of history).
     */
    divergenceFactor: z.number().gt(1).default(100),
  })
  .strict();

export type TrainOptions = z.output<typeof trainOptionsSchema>;
export type TrainOptionsInput = z.input<typeof trainOptionsSchema>;
export type Schedule = z.output<typeof scheduleSchema>;
