/**
 * `ddinit pretrain`: self-supervised pretraining (rotation, context prediction or jigsaw) of an init
 * artifact's network, or of a baseline initialization of a model; writes the
 * trained trunk with report.json and report.html. SIGTERM (what Kubernetes sends
 * before it kills a pod) stops it after the current step with a checkpoint; the
 * same command resumes from it.
 *
 *   ddinit pretrain [--config file] [--from artifacts/init | --baseline he-normal --model caffenet-small]
 *                   [--data embedded] [--steps 300] [--batch-size 32] [--learning-rate 0.01]
 *                   [--seed 0] [--out artifacts/pretrain] [--force]
 *
 * Without --from or --baseline, the network is the init stage's artifact of the
 * same pipeline config (its top level), found at its `out` by configuration hash.
 */
import type { BackendChoice } from '@ddinit/core/backend';
import { BASELINE_METHODS } from '@ddinit/init-within-layer';
import { Command, Option } from 'commander';
import { loadPipelineConfig } from '../config/load-config';
import { BACKEND_CHOICES } from '../config/pipeline-config';
import { HEAD_INITS, type HeadInit } from '../config/head-inits';
import { OPTIMIZERS, PRETRAIN_TASKS } from '../config/pretrain-config';
import type { LogFormat } from '../observe/console-observers';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { pretrainStage, type PretrainOutcome } from '../stages/pretrain-stage';
import { parseNumber } from './number-flag';
import { processIo, runStageCommand, type StageCommandIo } from './stage-command';

interface PretrainFlags {
  config?: string;
  from?: string;
  baseline?: (typeof BASELINE_METHODS)[number];
  model?: string;
  sample?: number;
  data?: string;
  split?: string;
  featureLayer?: string;
  headInit?: HeadInit;
  steps?: number;
  batchSize?: number;
  task?: (typeof PRETRAIN_TASKS)[number];
  optimizer?: (typeof OPTIMIZERS)[number];
  learningRate?: number;
  weightDecay?: number;
  checkpointEvery?: number;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  force?: boolean;
  logFormat?: LogFormat;
}

/** Flags over the config file's `pretrain:` section over its top level (data, split, seed, force) over the defaults. */
function runPretrain(flags: PretrainFlags, io: StageCommandIo): Promise<PretrainOutcome> {
  const { logFormat = 'auto', config: file, backend, ...stageFlags } = flags;
  const pipeline = loadPipelineConfig({ file, env: io.env });
  const document = file === undefined ? {} : readPipelineDocument(file);
  const config = pretrainStage.configFrom(pipeline, document, stageFlags);
  return runStageCommand(pretrainStage, config, { logFormat, backend: backend ?? pipeline.backend, pipeline }, io);
}

export function registerPretrainCommand(program: Command, io: StageCommandIo = processIo): void {
  program
    .command('pretrain')
    .description(pretrainStage.summary)
    .option('--config <file>', 'pipeline config, YAML or JSON: its pretrain section, and its top level as the init stage (flags override it)')
    .option('--from <location>', 'init artifact to pretrain: directory or s3://bucket/prefix (default: the init stage of the config, found by its hash)')
    .addOption(new Option('--baseline <method>', 'instead of an init artifact: a data-free initialization of --model, biases 0').choices(BASELINE_METHODS))
    .option('--model <model>', 'with --baseline: registry name (caffenet-small, …) or path / s3:// URL of a tfjs model.json (default caffenet-small)')
    .option('--sample <images>', 'with --baseline: images whose per-channel mean and std standardize the inputs (default 256)', parseNumber('--sample', true))
    .option('--data <location>', "dataset: 'embedded' (default), a directory or s3://bucket/prefix with manifest.json")
    .option('--split <name>', 'split to train on (default train)')
    .addOption(
      new Option('--task <name>', 'pretext task: rotation (4 turns), context (patch pairs, 8 positions), jigsaw (9 tiles, N orders); default rotation').choices(
        PRETRAIN_TASKS,
      ),
    )
    .option('--feature-layer <layer>', "trunk layer the task's head reads (default: the last layer with a spatial output)")
    .addOption(
      new Option('--head-init <how>', "the head's weights: data (each unit normalized to std 1 on the first batch; default) or drawn (Glorot/He)").choices(
        HEAD_INITS,
      ),
    )
    .option('--steps <n>', 'training steps (default 300)', parseNumber('--steps', true))
    .option(
      '--batch-size <images>',
      'images per step: rotation shows each at 4 turns, context and jigsaw cut each into 9 patches (default 32)',
      parseNumber('--batch-size', true),
    )
    .addOption(new Option('--optimizer <name>', 'optimizer (default momentum 0.9)').choices(OPTIMIZERS))
    .option('--learning-rate <rate>', 'base learning rate, cosine schedule (default 0.01)', parseNumber('--learning-rate', false))
    .option('--weight-decay <lambda>', 'L2 weight decay on kernels (default 5e-4)', parseNumber('--weight-decay', false))
    .option('--checkpoint-every <steps>', 'checkpoint interval (default 50; also on SIGTERM)', parseNumber('--checkpoint-every', true))
    .option('--seed <n>', 'run seed: batches, head and baseline weights (default 0)', parseNumber('--seed', true))
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto)').choices(BACKEND_CHOICES))
    .option('--out <location>', 'artifact directory or s3://bucket/prefix (default artifacts/pretrain)')
    .option('--force', 'start over: ignore an up-to-date artifact and any checkpoint')
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action(async (flags: PretrainFlags) => {
      await runPretrain(flags, io);
    });
}
