/**
 * The comparison study's configuration (`ddinit compare --config study.yaml`,
 * `ddinit k8s render --workflow --config study.yaml`): axes whose Cartesian
 * product is the study's cells, and everything held fixed across cells (the data,
 * the fine-tuning budget, the task, the baseline the paired differences are taken
 * against, the output root).
 *
 * Axes (each a non-empty list without repeats; cells.ts spells out the product):
 * - `init`: names of {@link INITIALIZATIONS};
 * - `model`: registry model names or paths / s3:// URLs of a tfjs model.json;
 * - `seed`: run seeds (≥ 0); one seed drives the init sample and draws, pretraining and fine-tuning of a cell;
 * - `labelsPerClass`: labelled training images per class for fine-tuning, `null` = all;
 * - `pretrain`: `false` (fine-tune the initialized network directly) or a pretraining
 *   run (`task`, `steps`, optionally the optimizer settings) between init and fine-tuning.
 *
 * A list of pretraining settings rather than a boolean plus one section: a study can
 * then compare pretext tasks (rotation against jigsaw) as well as with/without.
 */
import { scheduleSchema } from '@ddinit/train';
import { z } from 'zod';
import { FINETUNE_TASKS } from '../config/finetune-config';
import { INITIALIZATIONS, type Initialization } from '../config/initializations';
import { OPTIMIZERS, PRETRAIN_TASKS } from '../config/pretrain-config';
import { KubernetesOptions } from '../k8s/kubernetes-options';

/** A study's name: it names the Workflow, so a DNS-1123 label short enough to leave room for Argo's suffixes. */
const studyName = z
  .string()
  .max(40)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'lower-case letters, digits and "-", e.g. "fashion-mnist"');

/** The axis values written in a cell id are compared as JSON: two equal values on one axis would be one cell twice. */
function uniqueAxis<T extends z.ZodType>(values: T, what: string) {
  return z
    .array(values)
    .min(1, `the ${what} axis needs at least one value`)
    .superRefine((list, context) => {
      const seen = new Set<string>();
      for (const value of list) {
        const key = JSON.stringify(value);
        if (seen.has(key)) context.addIssue({ code: 'custom', message: `the ${what} axis lists ${key} twice` });
        seen.add(key);
      }
    });
}

/** One value of the `pretrain` axis other than `false`: the pretrain stage's settings that vary the result. */
export const StudyPretrainSchema = z
  .object({
    task: z.enum(PRETRAIN_TASKS),
    steps: z.int().min(1),
    batchSize: z.int().min(1).optional(),
    optimizer: z.enum(OPTIMIZERS).optional(),
    learningRate: z.number().gt(0).optional(),
    weightDecay: z.number().min(0).optional(),
    /** Options of the context and jigsaw tasks, passed on to the pretrain stage, which checks them. */
    taskOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type StudyPretrain = z.output<typeof StudyPretrainSchema>;

/** The fine-tuning run every cell gets, the same for all: the study compares initializations, not budgets. */
export const StudyBudgetSchema = z
  .object({
    steps: z.int().min(1).default(200),
    batchSize: z.int().min(1).default(32),
    optimizer: z.enum(OPTIMIZERS).default('momentum'),
    learningRate: z.number().gt(0).default(0.01),
    schedule: scheduleSchema.default({ kind: 'cosine', minFactor: 0 }),
    weightDecay: z.number().min(0).default(5e-4),
    /** Steps between checkpoints in the bucket (a preempted pod resumes from the newest). */
    checkpointEvery: z.int().min(0).default(50),
    /** The first layer trained (earlier ones frozen, the paper's "fc8 only" / "fc6–fc8" protocols); null: all layers. */
    trainFrom: z.string().min(1).nullable().default(null),
    /** The trunk layer the head reads; null: the trunk's output. */
    featureLayer: z.string().min(1).nullable().default(null),
  })
  .strict();
export type StudyBudget = z.output<typeof StudyBudgetSchema>;

const studyFields = {
  name: studyName.default('study'),
  /** Dataset: `embedded`, a local directory or `s3://bucket/prefix` holding manifest.json. */
  data: z.string().min(1).default('embedded'),
  /** The split init samples from and pretraining and fine-tuning train on. */
  split: z.string().min(1).default('train'),
  /** The split every cell is evaluated on. */
  testSplit: z.string().min(1).default('test'),
  init: uniqueAxis(z.enum(INITIALIZATIONS), 'init').default(['glorot-uniform', 'gaussian-0.01', 'ddinit-kmeans+calibration']),
  model: uniqueAxis(z.string().min(1), 'model').default(['caffenet-small']),
  seed: uniqueAxis(z.int().min(0), 'seed').default([1, 2]),
  labelsPerClass: uniqueAxis(z.int().min(1).nullable(), 'labelsPerClass').default([null]),
  pretrain: uniqueAxis(z.union([z.literal(false), StudyPretrainSchema]), 'pretrain').default([false]),
  budget: StudyBudgetSchema.prefault({}),
  /** The downstream task every cell's head is fine-tuned for: the finetune stage's `task`. */
  task: z.enum(FINETUNE_TASKS).default('classify'),
  /** The initialization the paired differences are taken against; one of the `init` axis (default: its first). */
  baseline: z.enum(INITIALIZATIONS).optional(),
  /** The study's root: a directory or s3://bucket/prefix; every stage of every cell writes below it. */
  out: z.string().min(1).default('artifacts/study'),
  /** How the study runs on Kubernetes (`ddinit k8s render --workflow`): image, resources, parallelism. */
  kubernetes: KubernetesOptions.optional(),
};

export const StudyConfigSchema = z
  .object(studyFields)
  .strict()
  .superRefine((study, context) => {
    if (study.baseline !== undefined && !study.init.includes(study.baseline)) {
      context.addIssue({
        code: 'custom',
        path: ['baseline'],
        message: `the baseline ${study.baseline} is not on the init axis (${study.init.join(', ')}): the paired differences need its cells`,
      });
    }
  })
  .transform((study) => ({ ...study, baseline: (study.baseline ?? study.init[0]) as Initialization }));

export type StudyConfig = z.output<typeof StudyConfigSchema>;
export type StudyConfigInput = z.input<typeof StudyConfigSchema>;

/**
 * The study `ddinit compare` and `ddinit k8s render --workflow` run when given no
 * config: tfjs's default, old Caffe's Gaussian σ = 0.01 and ddinit k-means with
 * calibration, × seeds 1 and 2, on the embedded Fashion-MNIST sample with
 * caffenet-small, fine-tuned 200 steps of 32 images (6 cells; baseline glorot-uniform).
 */
export const DEFAULT_STUDY: StudyConfig = StudyConfigSchema.parse({});

/** Parses a study document (a file's contents); ZodError on a bad one, which the CLI turns into exit code 2. */
export function parseStudyConfig(document: Readonly<Record<string, unknown>>): StudyConfig {
  return StudyConfigSchema.parse(document);
}

/** The study configuration as a JSON Schema, for editors (`ddinit config schema --study`, docs/study-config.schema.json). */
export function studyConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(StudyConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'ddinit comparison study',
    description: 'Configuration of `ddinit compare` and `ddinit k8s render --workflow`: the axes whose product is the cells, the fixed budget, the baseline.',
  };
}
