/**
 * The finetune stage's configuration: one zod schema for `ddinit finetune`'s
 * flags and the `finetune:` section of a pipeline config file (the study
 * generator writes these keys: keep their names).
 *
 * Where the network comes from (`from`): an init or pretrain artifact by
 * location; unset, the same pipeline config's pretrain stage found by
 * configuration hash when the file has a `pretrain:` section, else its init stage.
 *
 * No tfjs here (the config is parsed before tfjs loads): the training schemas come
 * from `@ddinit/train/options` (zod only); the task names are written out and
 * checked against `@ddinit/eval`'s, whose entry point loads tfjs.
 */
import type { HeadTask } from '@ddinit/eval';
import { layerRateSchema, scheduleSchema } from '@ddinit/train/options';
import { z } from 'zod';
import { HEAD_INITS } from './head-inits';
import { OPTIMIZERS, withoutDefaults } from './pretrain-config';

/** The downstream tasks (`@ddinit/eval`'s HEAD_TASKS), a head each. */
export const FINETUNE_TASKS = ['classify', 'multilabel', 'segment', 'detect'] as const satisfies readonly HeadTask[];

/** Random horizontal flips and random crops of the zero-padded image back to its size (the CIFAR recipe). */
export const AugmentSchema = z
  .object({
    flip: z.boolean().default(false),
    /** Pixels of zero padding on each side before a random crop at the image's size (0: no crop). */
    cropPadding: z.int().min(0).default(0),
  })
  .strict();

const finetuneFields = {
  /** An init or pretrain artifact (a directory or s3:// prefix) whose network is fine-tuned. */
  from: z.string().min(1).optional(),
  task: z.enum(FINETUNE_TASKS).default('classify'),
  /** The trunk layer the head reads; null: the input of the network's dense classifier (classify, multilabel), the last spatial layer (segment, detect). */
  featureLayer: z.string().min(1).nullable().default(null),
  /**
   * The new head's weights: `data` (Gaussian, each unit normalized to mean 0 and std 1 on the first
   * training batch, a prior bias kept; stages/head-init.ts says why) or `drawn` (its layers' own initializers).
   */
  headInit: z.enum(HEAD_INITS).default('data'),
  /** The first layer trained (the layers before it are frozen); null: every layer. */
  trainFrom: z.string().min(1).nullable().default(null),
  /** Learning-rate multipliers by layer name, first match wins (0 freezes). */
  layerRates: z.array(layerRateSchema).default([]),
  /** Labelled images per class trained on: the first k of each class in the split's order under `seed`; null: all. */
  labelsPerClass: z.int().min(1).nullable().default(null),
  steps: z.int().min(1).default(300),
  batchSize: z.int().min(1).default(32),
  optimizer: z.enum(OPTIMIZERS).default('momentum'),
  learningRate: z.number().gt(0).default(0.01),
  weightDecay: z.number().min(0).default(5e-4),
  schedule: scheduleSchema.default({ kind: 'cosine', minFactor: 0 }),
  checkpointEvery: z.int().min(0).default(50),
  /** Test metric of the learning curve every this many steps (0: only at the end), on the first `curveExamples` test images. */
  testEvery: z.int().min(0).default(50),
  curveExamples: z.int().min(1).default(1000),
  augment: AugmentSchema.default({ flip: false, cropPadding: 0 }),
  data: z.string().min(1).default('embedded'),
  split: z.string().min(1).default('train'),
  testSplit: z.string().min(1).default('test'),
  seed: z.int().default(0),
  out: z.string().min(1).default('artifacts/finetune'),
  force: z.boolean().default(false),
};

export const FinetuneConfigSchema = z.object(finetuneFields).strict();

/** The `finetune:` section of a pipeline config file: the same keys, all optional; data, split, seed and force default to the file's top level. */
export const FinetuneSectionSchema = z.object(withoutDefaults(finetuneFields)).strict();

export type FinetuneConfig = z.output<typeof FinetuneConfigSchema>;
export type FinetuneConfigInput = z.input<typeof FinetuneConfigSchema>;
export type FinetuneSection = z.output<typeof FinetuneSectionSchema>;
