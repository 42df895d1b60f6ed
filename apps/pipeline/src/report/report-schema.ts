/**
 * `report.json`: what one run of the init stage did, layer by layer. The schema is
 * the contract with report readers (the HTML page, notebooks, the compare stage)
 * and is documented in docs/report.md.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

export const LayerReportSchema = z
  .object({
    /** Qualified layer name, e.g. `conv2` or `block1/conv_a`. */
    name: z.string().min(1),
    /** `conv`, `dense`, `depthwise`, `separable`, `transposed`, `batchnorm`. */
    kind: z.string().min(1),
    /** Weight source actually used (`kmeans`, `pca`, …, or `kept` for a skipped layer). */
    method: z.string().min(1),
    /** Why and to what the layer fell back, or null when it did not. */
    fallback: z.string().nullable(),
    /** Patch rows (sampled positions) the weights were computed from; null for data-free methods. */
    rows: z.number().int().nonnegative().nullable(),
    /** Mean over channels of the per-channel pre-activation mean on the sample, after init. */
    outMean: finite.nullable(),
    /** Mean over channels of the per-channel pre-activation std on the sample, after init (null: layer kept). */
    outStd: finite.nullable(),
    /** max over channels of |mean_i − β| (null: layer without bias, or kept). */
    worstMeanDeviation: finite.nullable(),
    /** max over channels of |std_i − 1| (null: layer kept). */
    worstStdDeviation: finite.nullable(),
    /** Mean per-channel std before the per-channel normalization (the raw draw), for the figure. */
    outStdBefore: finite.nullable(),
    /** Change rate ρ = RMS(∇W)/RMS(W) before and after between-layer calibration (null without it). */
    changeRateBefore: finite.nullable(),
    changeRateAfter: finite.nullable(),
    /** Seconds spent initializing this layer. */
    seconds: finite.nonnegative(),
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
    schemaVersion: z.literal(1),
    model: z.string().min(1),
    backend: z.string().min(1),
    seed: z.number().int(),
    data: z
      .object({
        source: z.string().min(1),
        split: z.string().min(1),
        sampleSize: z.number().int().positive(),
        inputShape: z.array(z.number().int().positive()),
        /** How pixels were normalized: x = (byte · scale − mean_c) / std_c. */
        normalization: z.object({ scale: finite, mean: z.array(finite), std: z.array(finite) }).strict(),
      })
      .strict(),
    within: z.object({ method: z.string().min(1), beta: finite }).strict(),
    timings: z
      .object({
        totalSeconds: finite.nonnegative(),
        withinSeconds: finite.nonnegative(),
        betweenSeconds: finite.nonnegative(),
      })
      .strict(),
    layers: z.array(LayerReportSchema).min(1),
    calibration: CalibrationReportSchema.nullable(),
    firstLayerFilters: FilterImageSchema.nullable(),
    configHash: z.string().min(1),
    codeVersion: z.string().min(1),
    createdAt: z.string().min(1),
  })
  .strict();

export type LayerReport = z.infer<typeof LayerReportSchema>;
export type CalibrationReport = z.infer<typeof CalibrationReportSchema>;
export type FilterImage = z.infer<typeof FilterImageSchema>;
export type InitReport = z.infer<typeof InitReportSchema>;
