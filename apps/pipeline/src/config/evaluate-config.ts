/**
 * The evaluate stage's configuration: one zod schema for `ddinit evaluate`'s
 * flags and the `evaluate:` section of a pipeline config file.
 *
 * What it evaluates (`from`): a finetune artifact with its head's metrics on
 * `split`; unset, the same pipeline config's finetune stage found by
 * configuration hash. Linear probes (`probes`) and k-nearest-neighbour
 * classification (`knn`) work on any artifact: init, pretrain or finetune.
 */
import { z } from 'zod';
import { FINETUNE_TASKS } from './finetune-config';
import { withoutDefaults } from './pretrain-config';

const evaluateFields = {
  /** An artifact (a directory or s3:// prefix): a finetune artifact for its head's metrics; any artifact for probes and k-NN. */
  from: z.string().min(1).optional(),
  /** The task whose head is evaluated; null: the artifact's head's, if it has one. */
  task: z.enum(FINETUNE_TASKS).nullable().default(null),
  data: z.string().min(1).default('embedded'),
  /** The split evaluated (probes and k-NN are scored on it too). */
  split: z.string().min(1).default('test'),
  /** The split probes train on and k-NN takes its references from. */
  trainSplit: z.string().min(1).default('train'),
  /** Layers to probe with a linear classifier on frozen, pooled features (one pass for all of them). */
  probes: z.array(z.string().min(1)).default([]),
  probeSteps: z.int().min(1).default(300),
  probeBatchSize: z.int().min(1).default(64),
  probeLearningRate: z.number().gt(0).default(0.01),
  /** k of a k-nearest-neighbour classification on the features of `featureLayer`; null: none. */
  knn: z.int().min(1).nullable().default(null),
  /** Most references k-NN reads from `trainSplit` (its first images in stored order). */
  knnReferences: z.int().min(1).default(10000),
  /** The layer k-NN reads; null: the layer the artifact's head reads, or the network's output for an artifact without a head. */
  featureLayer: z.string().min(1).nullable().default(null),
  seed: z.int().default(0),
  out: z.string().min(1).default('artifacts/evaluate'),
  force: z.boolean().default(false),
};

export const EvaluateConfigSchema = z.object(evaluateFields).strict();

/** The `evaluate:` section of a pipeline config file: the same keys, all optional; data, seed and force default to the file's top level. */
export const EvaluateSectionSchema = z.object(withoutDefaults(evaluateFields)).strict();

export type EvaluateConfig = z.output<typeof EvaluateConfigSchema>;
export type EvaluateConfigInput = z.input<typeof EvaluateConfigSchema>;
