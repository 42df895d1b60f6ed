/**
 * The contract every pipeline stage fulfils (init, pretrain, finetune, evaluate;
 * compare next). A stage declares its configuration schema, the inputs it
 * reads (a dataset split, artifacts of earlier stages), its output and its run
 * function; `runStage` (run-stage.ts) is the one place that binds storage: it
 * opens the dataset and the input artifacts, computes the configuration hash,
 * skips a stage whose output already holds an artifact of that hash, prepares
 * the output and its checkpoints, calls `run` with all of them opened, and
 * publishes what `run` returns. The CLI commands, `sweep-run`, the Kubernetes
 * renderer and the skip-when-done logic all read the declarations in
 * stage-registry.ts.
 *
 * This module holds types and the list of names only, so that schemas (the
 * `kubernetes:` section's `stage`) can name the stages without loading them.
 */
import type { Observers } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import type { z } from 'zod';
import type { PipelineConfig } from '../config/pipeline-config';
import type { ArtifactLocation, ArtifactMetadata } from '../store/artifact-store';
import type { CheckpointStore } from '../store/checkpoint-store';
import type { InitData } from './init-sample';

/** Every stage, in pipeline order; stage-registry.ts has one definition per name. */
export const STAGE_NAMES = ['init', 'pretrain', 'finetune', 'evaluate'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** What each stage does, as `ddinit --help` and `ddinit <stage> --help` say it (here so help needs no stage module). */
export const STAGE_SUMMARIES: Readonly<Record<StageName, string>> = {
  init: 'initialize a model by one of the initializations (default: from data, within-layer init then between-layer calibration); writes model.json, weights.bin, report.json, report.html',
  pretrain:
    'self-supervised pretraining (rotation, context prediction or jigsaw) of an init artifact or a baseline initialization; resumable; writes the trunk, report.json, report.html',
  finetune:
    'supervised fine-tuning of an init or pretrain artifact with a task head (classify), all layers or from a named one; resumable; writes the model with its head, report.json, report.html',
  evaluate: "evaluation of a fine-tuned model with its task's metrics, linear probes per layer and k-NN on any artifact; writes report.json, report.html",
};

/** What every stage configuration has: where its result goes and what seeds it. */
export interface StageConfigBase {
  seed: number;
  out: string;
  force: boolean;
}

/** The dataset split a stage reads. */
export interface DatasetInput {
  data: string;
  split: string;
  /** The size encoded (PNG/JPEG) images decode to, asked for only when the dataset stores them so. */
  decodeSize?: () => Promise<{ height: number; width: number }>;
}

/**
 * An earlier stage's artifact a stage reads. `expect` says which one: any artifact
 * of `stage` at `location` (named by the user), or exactly the one the upstream
 * stage makes from `config` (found by configuration hash).
 */
export interface ArtifactInput {
  /** The input's name in `StageInputs.artifacts`. */
  name: string;
  stage: StageName;
  /** The stages whose artifacts are accepted here (default: `stage` alone), e.g. an init or a pretrain artifact to fine-tune. */
  accepts?: readonly StageName[];
  location: string;
  /** The configuration key that named the location, for messages (`from`, `out`). */
  key: string;
  expect: { kind: 'any' } | { kind: 'config'; definition: StageDefinition; config: StageConfigBase };
}

/** An input artifact, opened: its location and its metadata (read once). */
export interface OpenedArtifact {
  location: ArtifactLocation;
  metadata: ArtifactMetadata;
}

/** Everything a stage's run receives already opened: the one binding of storage. */
export interface StageInputs {
  data: InitData;
  artifacts: Readonly<Record<string, OpenedArtifact>>;
  /** The output location, prepared (what a killed publish left is finished or removed). */
  out: ArtifactLocation;
  /** The checkpoints beside `out`, bound to this configuration's hash. */
  checkpoints: CheckpointStore;
  configHash: string;
  /** S3 client options, for model references (a model.json on S3) that are not stage artifacts. */
  store: StoreOptions;
}

export interface StageContext extends Observers {
  /** The backend the caller selected (for the report and metadata). */
  backend: string;
  /** S3 client options (tests point them at a local server). */
  store?: StoreOptions;
  /** Aborting it stops a training stage after the current step, with a checkpoint. */
  signal?: AbortSignal;
}

/** What a run returns: the files to publish (model, report.json, report.html) and the report, or that it was stopped. */
export type StageRun<R> = { interrupted: false; files: Map<string, Uint8Array>; report: R } | { interrupted: true };

/** What running a stage did. */
export interface StageOutcome<R> {
  /** True when an up-to-date artifact was already there. */
  skipped: boolean;
  /** True when the signal stopped it (a checkpoint holds the progress). */
  interrupted: boolean;
  location: string;
  configHash: string;
  report?: R;
}

/** How a stage's Kubernetes Job treats failures and termination. */
export interface StageJobPolicy {
  /** Pod retries after a failure (exit 1; exit 2 and disruptions are handled by the pod failure policy). */
  backoffLimit: number;
  /** Seconds between SIGTERM and SIGKILL when a pod is stopped. */
  terminationGracePeriodSeconds: number;
}

/** One stage: its configuration, inputs, output and run function. */
export interface StageDefinition<C extends StageConfigBase = StageConfigBase, R = unknown> {
  name: StageName;
  /** What `ddinit <name> --help` says it does. */
  summary: string;
  schema: z.ZodType<C>;
  /**
   * The stage's configuration from a pipeline config (file < environment, parsed),
   * the file's raw document (for a stage's own section) and command-line values.
   */
  configFrom(pipeline: PipelineConfig, document: Readonly<Record<string, unknown>>, flags: Readonly<Record<string, unknown>>): C;
  /** Checks that need no data, run before anything is opened (init: the model reference). */
  precheck?(config: C, store: StoreOptions): Promise<void>;
  dataset(config: C, store: StoreOptions): DatasetInput;
  /** Earlier stages' artifacts it reads (none for init). */
  artifacts(config: C, pipeline: PipelineConfig | undefined): ArtifactInput[];
  /** The part of the configuration that determines the result (the configuration hash covers it). */
  definingConfig(config: C): Record<string, unknown>;
  /** True when the stage checkpoints (its checkpoints are removed once its artifact is published). */
  checkpoints: boolean;
  run(config: C, inputs: StageInputs, context: StageContext): Promise<StageRun<R>>;
  /** The result for people (text) and machines (one JSON line). */
  describe(report: R, location: string): { text: string; json: Record<string, unknown> };
  job: StageJobPolicy;
}
