/**
 * The pretrain stage's configuration: one zod schema for `ddinit pretrain`'s
 * flags and the `pretrain:` section of a pipeline config file.
 *
 * Where the network comes from, one of:
 * - `from`: an init artifact by location (a directory or s3:// prefix);
 * - `baseline`: a data-free initialization of `model`, one of the data-free names
 *   of `INITIALIZATIONS` (glorot-uniform, he-normal, gaussian-0.01, orthogonal;
 *   biases 0; seeded by `seed`), its inputs standardized with the per-channel mean
 *   and std of a `sample` of the data, as `ddinit init --init <name>` does (a
 *   shortcut for that init followed by `from`);
 * - neither: the init stage of the same pipeline config, found by configuration
 *   hash at its `out` (the file's top level is the init stage's configuration).
 */
import type { ContextOptionsInput, JigsawOptionsInput } from '@ddinit/pretrain';
import { OPTIMIZERS } from '@ddinit/train/options';
import { z } from 'zod';
import { HEAD_INITS } from './head-inits';
import { DATA_FREE_INITIALIZATIONS } from './initializations';

export const PRETRAIN_TASKS = ['rotation', 'context', 'jigsaw'] as const;
/** The training loop's optimizers (`@ddinit/train`), for the stages that train. */
export { OPTIMIZERS };

/** The model a baseline initializes when none is named. */
export const DEFAULT_BASELINE_MODEL = 'caffenet-small';

/**
 * Options of the patch tasks (context, jigsaw), any subset; the library checks the
 * values (a grid that does not fit the images, a share outside [0, 1]) and fills the
 * rest with its defaults for the images' size (libs/pretrain README).
 */
const TaskOptionsSchema = z
  .object({
    geometry: z
      .object({ patch: z.int().min(1), gap: z.int().min(0), jitter: z.int().min(0) })
      .partial()
      .strict(),
    colour: z.enum(['drop', 'project', 'none']),
    resampleShare: z.number(),
    normalize: z.boolean(),
    reduction: z.enum(['flatten', 'average']),
    hiddenUnits: z.array(z.int().min(1)),
    /** Jigsaw only: N, the permutations (classes), and the candidate pool they are chosen from (null: all 9!). */
    permutations: z.int().min(2),
    candidates: z.int().min(2).nullable(),
  })
  .partial()
  .strict() satisfies z.ZodType<ContextOptionsInput & JigsawOptionsInput>;

const pretrainFields = {
  /** An init artifact whose network is pretrained (a directory or s3:// prefix). */
  from: z.string().min(1).optional(),
  /** A data-free initialization (a data-free name of `INITIALIZATIONS`) instead of an init artifact. */
  baseline: z.enum(DATA_FREE_INITIALIZATIONS).optional(),
  /** With `baseline`: a registry model name or a path / s3:// URL of a tfjs model.json (default caffenet-small). */
  model: z.string().min(1).optional(),
  /** With `baseline`: options of a registry model. */
  modelOptions: z.record(z.string(), z.unknown()).optional(),
  /** With `baseline`: images whose per-channel mean and std standardize the inputs (an init artifact carries its own). */
  sample: z.int().min(2, 'must be at least 2 (a std needs two images)').default(256),
  data: z.string().min(1).default('embedded'),
  split: z.string().min(1).default('train'),
  task: z.enum(PRETRAIN_TASKS).default('rotation'),
  /** Options of the context and jigsaw tasks (rotation has none). */
  taskOptions: TaskOptionsSchema.default({}),
  /** The trunk layer the head reads; null: the last layer with a spatial (4-D) output. */
  featureLayer: z.string().min(1).nullable().default(null),
  /**
   * The pretext head's weights: `data` (Gaussian, each unit normalized to std 1 on the first batch,
   * stages/head-init.ts says why) or `drawn` (its layers' own initializers: Glorot, He).
   */
  headInit: z.enum(HEAD_INITS).default('data'),
  steps: z.int().min(1).default(300),
  /** Images per step (rotation shows each at four turns: 4× as many network inputs). */
  batchSize: z.int().min(1).default(32),
  optimizer: z.enum(OPTIMIZERS).default('momentum'),
  learningRate: z.number().gt(0).default(0.01),
  weightDecay: z.number().min(0).default(5e-4),
  checkpointEvery: z.int().min(0).default(50),
  seed: z.int().default(0),
  out: z.string().min(1).default('artifacts/pretrain'),
  force: z.boolean().default(false),
};

/** Where the network comes from: at most one of `from` and `baseline`; `model` only with a baseline. */
function checkSource(
  config: { from?: string; baseline?: string; model?: string; modelOptions?: unknown; task?: string; taskOptions?: Record<string, unknown> },
  context: z.RefinementCtx,
): void {
  checkTaskOptions(config, context);
  if (config.from !== undefined && config.baseline !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['baseline'],
      message: `choose one source of the network: from (an init artifact, here ${config.from}) or baseline`,
    });
  }
  if (config.baseline === undefined && (config.model !== undefined || config.modelOptions !== undefined)) {
    context.addIssue({ code: 'custom', path: ['model'], message: 'the model comes from the init artifact; model and modelOptions go with baseline' });
  }
}

/** Rotation takes no options; permutations and candidates are jigsaw's alone. */
function checkTaskOptions(config: { task?: string; taskOptions?: Record<string, unknown> }, context: z.RefinementCtx): void {
  const given = Object.keys(config.taskOptions ?? {});
  const misplaced = config.task === 'rotation' ? given : config.task === 'context' ? given.filter((key) => key === 'permutations' || key === 'candidates') : [];
  for (const key of misplaced) context.addIssue({ code: 'custom', path: ['taskOptions', key], message: `not an option of the ${config.task} task` });
}

export const PretrainConfigSchema = z.object(pretrainFields).strict().superRefine(checkSource);

/**
 * The `pretrain:` section of a pipeline config file: the same keys, all optional;
 * `data`, `split`, `seed` and `force` default to the file's top level (the init stage's).
 */
export const PretrainSectionSchema = z.object(withoutDefaults(pretrainFields)).strict().superRefine(checkSource);

type WithoutDefault<T> = T extends z.ZodDefault<infer Inner> ? Inner : T;

/** The fields, each optional and without its default (a section's absent key falls back to the top level, then the default). */
export function withoutDefaults<T extends z.ZodRawShape>(fields: T): { [K in keyof T]: z.ZodOptional<WithoutDefault<T[K]>> } {
  const entries = Object.entries(fields).map(([key, schema]) => [
    key,
    (schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : (schema as z.ZodType)).optional(),
  ]);
  return Object.fromEntries(entries) as { [K in keyof T]: z.ZodOptional<WithoutDefault<T[K]>> };
}

export type PretrainConfig = z.output<typeof PretrainConfigSchema>;
export type PretrainConfigInput = z.input<typeof PretrainConfigSchema>;
export type PretrainSection = z.output<typeof PretrainSectionSchema>;
