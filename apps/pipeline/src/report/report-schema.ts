/**
 * `report.json`: what one run of the init stage did, layer by layer. The schema is
 * the contract with report readers (the HTML page, notebooks, the compare stage)
 * and is documented in docs/report.md.
 */
import { LAYER_METHODS, WITHIN_METHODS } from '@ddinit/init-within-layer/options';
import { PARAMETER_LAYER_KINDS } from '@ddinit/models/layer-kinds';
import { z } from 'zod';
import { DATA_FREE_INITIALIZATIONS, INITIALIZATIONS } from '../config/initializations';

/** What `layers[].method` may say: a within-layer method, `batchnorm`, `kept`, a data-free initialization, or `lsuv`. */
export const REPORT_LAYER_METHODS = [...new Set([...LAYER_METHODS, ...DATA_FREE_INITIALIZATIONS, 'lsuv'] as const)] as [
  (typeof LAYER_METHODS)[number] | (typeof DATA_FREE_INITIALIZATIONS)[number] | 'lsuv',
  ...((typeof LAYER_METHODS)[number] | (typeof DATA_FREE_INITIALIZATIONS)[number] | 'lsuv')[],
];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const LayerReportSchema = z
  .object({
    /** Qualified layer name, e.g. `conv2` or `block1/conv_a`. */
    name: z.string().min(1),
    kind: z.enum(PARAMETER_LAYER_KINDS),
    /**
     * `ddinit-*`: the library's `LayerInitStats.method` (the within method used, `batchnorm` or
     * `kept`); a data-free initialization: its name; `lsuv`: `lsuv` for a rescaled layer, else
     * `orthogonal` (the draw LSUV starts from; batch normalization reset to the identity).
     */
    method: z.enum(REPORT_LAYER_METHODS),
    /** Why and to what the layer fell back, or null when it did not. */
    fallback: z.string().nullable(),
    /** Patch rows (sampled positions) the weights were computed from; null for data-free methods. */
    rows: z.number().int().nonnegative().nullable(),
    /**
     * Images those rows came from: the sample's, or more when the layer needed more rows than
     * the sample gives (`sample` unset: the next images of the split, run only through the
     * layers below); null for data-free methods and fallbacks. Absent in older reports.
     */
    images: z.number().int().positive().nullable().default(null),
    /** Mean over channels of the per-channel pre-activation mean on the sample, after init. */
    outMean: finite.nullable(),
    /** Mean over channels of the per-channel pre-activation std on the sample, after init (null: layer kept). */
    outStd: finite.nullable(),
    /** max over channels of |mean_i − β| (null: layer without bias, kept, or not a `ddinit-*` initialization). */
    worstMeanDeviation: finite.nullable(),
    /** max over channels of |std_i − 1| (null: layer kept, or not a `ddinit-*` initialization). */
    worstStdDeviation: finite.nullable(),
    /**
     * The same channel averages on the held-out images (not in the sample), measured
     * right after the within-layer init like outMean/outStd (null: no held-out images).
     */
    heldOutMean: finite.nullable(),
    heldOutStd: finite.nullable(),
    /** True when heldOutStd/outStd or the mean shift strays beyond the limits of `heldOut`. */
    heldOutStrays: z.boolean(),
    /** Mean per-channel std before the per-channel normalization (the raw draw), for the figure; null without one. */
    outStdBefore: finite.nullable(),
    /** Change rate ρ = RMS(∇W)/RMS(W) before and after between-layer calibration (null without it). */
    changeRateBefore: finite.nullable(),
    changeRateAfter: finite.nullable(),
    /** Seconds spent initializing this layer (null: not timed per layer, data-free and LSUV). */
    seconds: finite.nonnegative().nullable(),
  })
  .strict();

export const CalibrationReportSchema = z
  .object({
    iterations: z.number().int().nonnegative(),
    converged: z.boolean(),
    /** max_k |log ρ_k / log T − 1| after the last iteration. */
    maxLogDeviation: finite,
    /** Output std of the last layer after calibration. */
    outputStd: finite.nullable(),
  })
  .strict();

export const LsuvReportSchema = z
  .object({
    /** Every rescaled layer ended with |Var(z) − 1| < tolerance. */
    converged: z.boolean(),
    tolerance: finite,
    /** Per rescaled layer: the variance of its whole pre-activation on the batch after the orthogonal draw and at the end. */
    layers: z.array(
      z
        .object({ layer: z.string().min(1), varianceBefore: finite, varianceAfter: finite, tries: z.number().int().nonnegative(), converged: z.boolean() })
        .strict(),
    ),
    /** Layers LSUV does not rescale (batch normalization, separable convolutions, excluded), with the reason. */
    skipped: z.array(z.object({ layer: z.string().min(1), reason: z.string().min(1) }).strict()),
  })
  .strict();

export const HeldOutReportSchema = z
  .object({
    /** Images of the split after the sample in the same seeded order (never in the sample). */
    images: z.number().int().positive(),
    /** A layer strays when heldOutStd/outStd is outside [1/stdRatioLimit, stdRatioLimit] … */
    stdRatioLimit: finite,
    /** … or |heldOutMean − outMean| exceeds meanShiftLimit · outStd. */
    meanShiftLimit: finite,
    /** Names of the layers that stray (a warning was logged). */
    strayLayers: z.array(z.string()),
    /** Mean softmax cross-entropy of the initialized (and calibrated) model on them; null without class labels. */
    loss: finite.nullable(),
    /** ln(classes): the loss of uniform predictions, for comparison. */
    chanceLoss: finite.nullable(),
  })
  .strict();

export const FilterImageSchema = z
  .object({
    layer: z.string(),
    /** tfjs kernel layout [kh, kw, cin, cout]. */
    shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    /** Kernel values in row-major [kh, kw, cin, cout] order. */
    values: z.array(finite),
  })
  .strict()
  .refine((f) => f.values.length === f.shape.reduce((a, b) => a * b, 1), {
    message: 'values.length must equal the product of shape',
  });

export const InitReportSchema = z
  .object({
    /** 2: `init` added, `within` null for other than `ddinit-*` initializations, `lsuv` added. */
    schemaVersion: z.literal(2),
    /** The initialization, one name of `INITIALIZATIONS` (the `init` option). */
    init: z.enum(INITIALIZATIONS),
    model: z.string().min(1),
    backend: z.string().min(1),
    seed: z.number().int(),
    data: z
      .object({
        source: z.string().min(1),
        split: z.string().min(1),
        sampleSize: z.number().int().positive(),
        /** How sampleSize was chosen: set by the user, or derived from the model (with the layer that needed most rows). */
        sampleRule: z.string().min(1),
        inputShape: z.array(z.number().int().positive()),
        /** How pixels were normalized: x = (byte · scale − mean_c) / std_c. */
        normalization: z.object({ scale: finite, mean: z.array(finite), std: z.array(finite) }).strict(),
      })
      .strict(),
    /** The within-layer method and β of a `ddinit-*` initialization; null for the others. */
    within: z
      .object({ method: z.enum(WITHIN_METHODS), beta: finite })
      .strict()
      .nullable(),
    timings: z
      .object({
        totalSeconds: finite.nonnegative(),
        /** The weights' draw: the within-layer init, or the data-free (for LSUV: orthogonal) draw. */
        withinSeconds: finite.nonnegative(),
        /** The between-layer calibration, or LSUV's rescaling (0 without either). */
        betweenSeconds: finite.nonnegative(),
      })
      .strict(),
    layers: z.array(LayerReportSchema).min(1),
    /** The between-layer calibration of a `ddinit-*+calibration` initialization; null for the others. */
    calibration: CalibrationReportSchema.nullable(),
    /** LSUV's rescaling of `init: lsuv`; null for the others. */
    lsuv: LsuvReportSchema.nullable(),
    /** The held-out check; null when the split had no image left beyond the sample. */
    heldOut: HeldOutReportSchema.nullable(),
    firstLayerFilters: FilterImageSchema.nullable(),
    configHash: z.string().min(1),
    codeVersion: z.string().min(1),
    createdAt: z.string().min(1),
  })
  .strict();

export type LayerReport = z.infer<typeof LayerReportSchema>;
export type CalibrationReport = z.infer<typeof CalibrationReportSchema>;
export type LsuvReport = z.infer<typeof LsuvReportSchema>;
export type HeldOutReport = z.infer<typeof HeldOutReportSchema>;
export type FilterImage = z.infer<typeof FilterImageSchema>;
export type InitReport = z.infer<typeof InitReportSchema>;
