/**
 * Options of the within-layer initializer (Krähenbühl et al. 2016, Algorithm 1;
 * docs/method.md#within-layer): one strict zod schema with explicit defaults, parsed once at the
 * edge. The pipeline app composes {@link withinLayerOptionsSchema} into its config. Also the
 * entry point `@ddinit/init-within-layer/options`, which does not load tfjs (a config can be
 * parsed and hashed before tfjs is paid for).
 *
 * @example
 * const options = parseWithinLayerOptions({
 *   method: 'kmeans',
 *   layers: [{ match: 'fc*', method: 'orthogonal' }, { match: 'conv1', skip: true }],
 *   fallback: { onTooFewRows: 'gaussian' },
 * });
 */
import { z } from 'zod';
import { ConfigError, EIGEN_METHODS, KMEANS_ALGORITHMS } from '@ddinit/core/base';
import { PARAMETER_LAYER_KINDS } from '@ddinit/models/layer-kinds';

/**
 * The within-layer methods (weight sources) of docs/method.md#weight-sources: the one list
 * behind the library's `method` and the pipeline's `ddinit-<method>` initialization names.
 */
export const WITHIN_METHODS = ['gaussian', 'orthogonal', 'pca', 'zca', 'kmeans', 'patches'] as const;
export type WithinMethod = (typeof WITHIN_METHODS)[number];

/**
 * The data-free baselines of baseline-weights.ts (tfjs's default, He et al. 2015, old Caffe,
 * Saxe et al. 2014), named here so options load without tfjs.
 */
export const BASELINE_METHODS = ['glorot-uniform', 'he-normal', 'gaussian-0.01', 'orthogonal'] as const;
export type BaselineMethod = (typeof BASELINE_METHODS)[number];

/**
 * What a layer's stats (and report.json `layers[].method`) say was done to it: a within
 * method (a fallback's when one happened), `batchnorm` for a calibrated batch
 * normalization, or `kept` for a layer left with its weights (a `skip` rule,
 * `initializeFrom`, `batchNorm: 'keep'`).
 */
export const LAYER_METHODS = [...WITHIN_METHODS, 'batchnorm', 'kept'] as const;
export type LayerMethod = (typeof LAYER_METHODS)[number];

/** Methods that need no data (also the only fallbacks). */
export const RANDOM_METHODS = ['gaussian', 'orthogonal'] as const;
export type RandomMethod = (typeof RANDOM_METHODS)[number];
export const isRandomMethod = (method: string): method is RandomMethod => (RANDOM_METHODS as readonly string[]).includes(method);

/** What a layer with too few patch rows or a degenerate covariance does: raise, or draw from a random method. */
export const FALLBACKS = ['error', ...RANDOM_METHODS] as const;
export type Fallback = (typeof FALLBACKS)[number];

/** Parameter-layer kinds an override can match (`ParameterLayer.kind` of @ddinit/models). */
export const LAYER_KINDS = PARAMETER_LAYER_KINDS;

const fallbackSchema = z.enum(FALLBACKS);

/**
 * The `fallback` section: what a layer with fewer patch rows than filters, or with a
 * degenerate covariance, does. The library raises by default; an application may
 * default to a random method (the pipeline: `onTooFewRows: 'orthogonal'`).
 */
export function fallbackOptionsSchema(defaults: { onTooFewRows: Fallback; onDegenerate: Fallback } = { onTooFewRows: 'error', onDegenerate: 'error' }) {
  return z
    .object({
      onTooFewRows: fallbackSchema.default(defaults.onTooFewRows),
      onDegenerate: fallbackSchema.default(defaults.onDegenerate),
    })
    .strict()
    .prefault({});
}

/** One per-layer rule; later rules win field by field. */
export const layerRuleSchema = z
  .object({
    /** Exact layer name (`conv2`, `block/conv`), a glob (`fc*`, `s?b1_*`) or a regex in slashes (`/^conv[3-5]$/`). */
    match: z.string().min(1).optional(),
    /** Matches layers of this kind (together with `match` when both are given). */
    kind: z.enum(LAYER_KINDS).optional(),
    method: z.enum(WITHIN_METHODS).optional(),
    beta: z.number().finite().optional(),
    /** Keep the layer's current (e.g. pretrained) weights. */
    skip: z.boolean().optional(),
  })
  .strict()
  .refine((rule) => rule.match !== undefined || rule.kind !== undefined, { message: 'a layer rule needs `match` or `kind`' });

export type LayerRule = z.output<typeof layerRuleSchema>;

export const withinLayerOptionsSchema = z
  .object({
    /** Weight source of every layer without a rule. */
    method: z.enum(WITHIN_METHODS).default('kmeans'),
    /** Target mean β of every pre-activation channel (reference: 0 in the function, 0.1 on its command line). */
    beta: z.number().finite().default(0),
    /** Run seed; each layer draws from `Rng.fromSeed(seed).derive(layerName)`. */
    seed: z.int().default(0),
    /** Per-layer rules, by exact name, glob, regex or kind. */
    layers: z.array(layerRuleSchema).default([]),
    /** Keep every parameter layer before this one (topological order), as the reference `--zero_from`. */
    initializeFrom: z.string().min(1).nullable().default(null),
    /** What to do when a layer has fewer patch rows than filters, or a degenerate covariance. Default: raise. */
    fallback: fallbackOptionsSchema(),
    /** Channels whose σ is below `tolerance`·(mean σ of the layer): raise, or re-draw them Gaussian up to `maxRedraws` times. */
    deadChannels: z
      .object({
        policy: z.enum(['error', 'redraw']).default('error'),
        maxRedraws: z.int().min(1).default(3),
        tolerance: z.number().positive().default(1e-5),
      })
      .strict()
      .prefault({}),
    /** ε of the whitening factors s_j = (λ_j + ε)^(−1/2). */
    epsilon: z.number().nonnegative().default(1e-3),
    /** Eigenvalues below this get s_j = 0 (and count as missing rank). */
    minEigenvalue: z.number().nonnegative().default(1e-6),
    /**
     * Memory cap of the sampled patch matrix of one layer, all groups (reference 500 MB).
     * With `maxPatchRows` it bounds the covariance (n·F² flops) and k-means (n·k·M per
     * pass) work, so a wide layer gets fewer rows (the rows each CaffeNet layer gets are
     * in docs/RESULTS.md, within-layer initialization).
     */
    maxPatchBytes: z
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    /**
     * Cap on sampled rows per group, whatever the memory cap allows: 4096 (≥ 40 rows per
     * k-means centre for N ≤ 96; caffenet-small conv1 needs no 50 000 rows of 25 values).
     */
    maxPatchRows: z.int().positive().default(4096),
    kmeans: z
      .object({
        algorithm: z.enum(KMEANS_ALGORITHMS).default('auto'),
        /** Lloyd passes or mini-batch epochs (15: later passes move few labels; the normalization does not depend on it). */
        maxIterations: z.int().positive().default(15),
        batchSize: z.int().positive().default(2048),
      })
      .strict()
      .prefault({}),
    /**
     * Eigensolver of the patch covariance (top M = min(N, F) pairs, @ddinit/core
     * `topEigenpairs`): `auto` takes randomized subspace iteration when
     * M + max(8, ⌈M/2⌉) ≤ F/3 (few filters on long patches, e.g. caffenet-small conv2
     * 32 of 400, CaffeNet conv3 384 of 2304) and the dense float64 solver otherwise.
     * `tolerance`/`maxIterations` are the subspace residual bound (relative to λ_1) and cap.
     * Tolerance 1e-2 (2–5 iterations on CaffeNet) instead of core's 1e-5: Rayleigh–Ritz
     * makes VᵀCV = diag(θ) exact, so the whitening stays exact on the captured subspace;
     * a looser residual only captures slightly less variance.
     */
    eigen: z
      .object({
        method: z.enum(EIGEN_METHODS).default('auto'),
        tolerance: z.number().positive().default(1e-2),
        maxIterations: z.int().positive().default(200),
        /** Extra subspace columns p beyond M (null: min(32, max(8, ⌈M/2⌉))). */
        oversampling: z.int().positive().nullable().default(null),
      })
      .strict()
      .prefault({}),
    /** Scale the branch ends of every residual Add so the merge output has unit variance per channel. */
    residualRescale: z.boolean().default(false),
    /** BatchNormalization layers: `calibrate` (moving mean/variance from the sample, γ = 1, β = 0) or `keep`. */
    batchNorm: z.enum(['calibrate', 'keep']).default('calibrate'),
  })
  .strict();

/** Parsed options (every default filled in). */
export type WithinLayerOptions = z.output<typeof withinLayerOptionsSchema>;
/** Options as a user writes them (every key optional). */
export type WithinLayerOptionsInput = z.input<typeof withinLayerOptionsSchema>;

/**
 * Validates options and fills in the defaults.
 *
 * @throws ConfigError with zod's pretty-printed issues for invalid options.
 */
export function parseWithinLayerOptions(options: unknown = {}): WithinLayerOptions {
  const result = withinLayerOptionsSchema.safeParse(options);
  if (!result.success) {
    throw new ConfigError(`invalid within-layer options\n${z.prettifyError(result.error)}`, { where: 'within-layer options', cause: result.error });
  }
  return result.data;
}
