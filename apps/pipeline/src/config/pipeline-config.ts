/**
 * The pipeline configuration: one zod schema, parsed once at the edge from
 * defaults < config file (YAML or JSON) < environment (`DDINIT_*`) < command-line
 * flags. The flat keys mirror the `ddinit init` flags so a config file reads like
 * a command line; the `*Options` sections hold the libraries' own schemas for
 * everything finer. Everything here imports the libraries' `/options` entry points,
 * which do not load tfjs: `ddinit init` parses and hashes the config, and finds an
 * up-to-date artifact, before tfjs loads (stages/init-up-to-date.ts).
 */
import { calibrationOptionsSchema, lsuvOptionsSchema } from '@ddinit/init-between-layer/options';
import { fallbackOptionsSchema, withinLayerOptionsSchema } from '@ddinit/init-within-layer/options';
import { defaultDatasetPath } from '@ddinit/data/storage';
import { z } from 'zod';
import { BACKEND_CHOICES, KubernetesOptions } from '../k8s/kubernetes-options';
import { DEFAULT_INITIALIZATION, INITIALIZATIONS, initializationPlan, usesCalibrationBatch } from './initializations';
import { EvaluateSectionSchema } from './evaluate-config';
import { FinetuneSectionSchema } from './finetune-config';
import { PretrainSectionSchema } from './pretrain-config';

export { BACKEND_CHOICES };

/** The embedded default dataset (Fashion-MNIST sample shipped with @ddinit/data). */
export const EMBEDDED_DATA = 'embedded';

/** Where `data` is: the embedded sample's directory for {@link EMBEDDED_DATA}, else `data` itself. */
export function resolveDataLocation(data: string): string {
  return data === EMBEDDED_DATA ? defaultDatasetPath() : data;
}

/**
 * The within-layer library's options without `method` and `seed` (the pipeline's
 * `init` and `seed` set them). One pipeline default differs from the library's:
 * a layer with fewer sampled rows than filters (the fc layers of the CaffeNet
 * family on a 160-image sample, as in the reference code) falls back to
 * orthogonal weights — logged with the counts and recorded in the report — where
 * the library alone would raise.
 */
export const PipelineWithinOptionsSchema = withinLayerOptionsSchema.omit({ method: true, seed: true }).extend({
  fallback: fallbackOptionsSchema({ onTooFewRows: 'orthogonal', onDegenerate: 'error' }),
});

/**
 * LSUV's options without `orthogonal` and `seed`: `init: lsuv` always starts from the
 * `orthogonal` initialization of the same seed, then rescales layer by layer.
 */
export const PipelineLsuvOptionsSchema = lsuvOptionsSchema.omit({ orthogonal: true, seed: true });

export const PipelineConfigSchema = z
  .object({
    /** Dataset: `embedded`, a local directory or `s3://bucket/prefix` holding manifest.json. */
    data: z.string().min(1).default(EMBEDDED_DATA),
    /** Split the init sample is drawn from. */
    split: z.string().min(1).default('train'),
    /**
     * Images in the fixed, seeded init sample. Unset: derived from the model, enough
     * sampled rows for every layer whose method needs them (stages/sample-size.ts).
     * At least 2: over one image a dense layer's per-channel std is 0.
     */
    sample: z.int().min(2, 'must be at least 2 (over one image every dense layer has std 0)').optional(),
    /** Images of the sample used as the calibration batch (reference: 16), and as LSUV's batch. */
    calibrationBatch: z.int().positive().default(16),
    /** A registry model name (`caffenet-small`, `vgg-plain-11`, …) or a path / s3:// URL of a tfjs model.json. */
    model: z.string().min(1).default('caffenet-small'),
    /** Options of a registry model; inputShape and numClasses default to the dataset's. */
    modelOptions: z.record(z.string(), z.unknown()).default({}),
    /**
     * The initialization, one name of `INITIALIZATIONS` (config/initializations.ts): a data-free
     * draw (`glorot-uniform`, `he-normal`, `gaussian-0.01`, `orthogonal`), `lsuv`, or
     * `ddinit-<source>` with or without `+calibration`.
     */
    init: z.enum(INITIALIZATIONS).default(DEFAULT_INITIALIZATION),
    /** Finer within-layer options of the `ddinit-*` names (β, per-layer overrides, fallbacks, k-means settings). */
    withinOptions: PipelineWithinOptionsSchema.prefault({}),
    /** Between-layer calibration options of the `ddinit-*+calibration` names (seed comes from `seed`). */
    calibration: calibrationOptionsSchema.default(calibrationOptionsSchema.parse({})),
    /** LSUV's options for `init: lsuv` (tolerance, tries, zero biases, excluded layers). */
    lsuvOptions: PipelineLsuvOptionsSchema.prefault({}),
    /** Run seed: the sample, every weight draw and every gradient draw derive from it. */
    seed: z.int().default(0),
    /** tfjs backend: auto (node-gpu > node > wasm > cpu) or one by name. */
    backend: z.enum(BACKEND_CHOICES).default('auto'),
    /** Where the artifact goes: a directory or s3://bucket/prefix. */
    out: z.string().min(1).default('artifacts/init'),
    /** Redo the stage even when `out` holds an artifact of the same configuration. */
    force: z.boolean().default(false),
    /**
     * The pretrain stage (`ddinit pretrain --config`): its keys as `ddinit pretrain`'s flags;
     * `data`, `split`, `seed` and `force` default to the values above.
     */
    pretrain: PretrainSectionSchema.optional(),
    /** The finetune stage (`ddinit finetune --config`); `data`, `split`, `seed` and `force` default to the values above. */
    finetune: FinetuneSectionSchema.optional(),
    /** The evaluate stage (`ddinit evaluate --config`); `data`, `seed` and `force` default to the values above. */
    evaluate: EvaluateSectionSchema.optional(),
    /** How the pipeline runs on Kubernetes (`ddinit k8s render`). */
    kubernetes: KubernetesOptions.optional(),
  })
  .strict()
  .superRefine((config, context) => {
    // Without calibration or LSUV the batch is unused; a derived sample is checked once its size is known.
    if (usesCalibrationBatch(initializationPlan(config.init)) && config.sample !== undefined && config.calibrationBatch > config.sample) {
      context.addIssue({
        code: 'custom',
        path: ['calibrationBatch'],
        message: `must not exceed sample (${config.sample})`,
      });
    }
  });

export type PipelineConfig = z.output<typeof PipelineConfigSchema>;
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

type OptionSection = 'withinOptions' | 'calibration' | 'lsuvOptions' | 'calibrationBatch';

/**
 * The part of the configuration that determines the init stage's result (what its
 * artifact's config hash covers): no locations, and only the option sections the
 * initialization reads, so `init: he-normal` is not redone when `withinOptions` changes.
 */
export function resultDefiningConfig(
  config: PipelineConfig,
): Omit<PipelineConfig, 'out' | 'force' | 'kubernetes' | 'pretrain' | 'finetune' | 'evaluate' | OptionSection> & Partial<Pick<PipelineConfig, OptionSection>> {
  const {
    out: _out,
    force: _force,
    kubernetes: _kubernetes,
    pretrain: _pretrain,
    finetune: _finetune,
    evaluate: _evaluate,
    withinOptions,
    calibration,
    lsuvOptions,
    calibrationBatch,
    ...rest
  } = config;
  const plan = initializationPlan(config.init);
  return {
    ...rest,
    ...(plan.kind === 'ddinit' ? { withinOptions } : {}),
    ...(plan.kind === 'ddinit' && plan.calibrate ? { calibration } : {}),
    ...(plan.kind === 'lsuv' ? { lsuvOptions } : {}),
    ...(usesCalibrationBatch(plan) ? { calibrationBatch } : {}),
  };
}
