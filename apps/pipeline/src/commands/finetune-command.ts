/**
 * `ddinit finetune`: supervised fine-tuning of an init or pretrain artifact's
 * network with a task head; writes the whole model (trunk and head) with
 * report.json and report.html. SIGTERM stops it after the current step with a
 * checkpoint; the same command resumes from it.
 *
 *   ddinit finetune [--config file] [--from artifacts/pretrain] [--task classify]
 *                   [--feature-layer fc7] [--train-from fc6] [--labels-per-class 10]
 *                   [--steps 300] [--batch-size 32] [--learning-rate 0.01] [--flip]
 *                   [--data embedded] [--seed 0] [--out artifacts/finetune] [--force]
 *
 * Without --from, the network is the same pipeline config's pretrain stage (when
 * the file has a `pretrain:` section) or its init stage, found by configuration hash.
 */
import type { BackendChoice } from '@ddinit/core/backend';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FINETUNE_TASKS } from '../config/finetune-config';
import { HEAD_INITS, type HeadInit } from '../config/head-inits';
import { loadPipelineConfig } from '../config/load-config';
import { BACKEND_CHOICES } from '../config/pipeline-config';
import { OPTIMIZERS } from '../config/pretrain-config';
import type { LogFormat } from '../observe/console-observers';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { finetuneStage, type FinetuneOutcome } from '../stages/finetune-stage';
import { parseNumber } from './number-flag';
import { processIo, runStageCommand, type StageCommandIo } from './stage-command';

interface FinetuneFlags {
  config?: string;
  from?: string;
  task?: (typeof FINETUNE_TASKS)[number];
  featureLayer?: string;
  headInit?: HeadInit;
  trainFrom?: string;
  layerRate?: { match: string; multiplier: number }[];
  labelsPerClass?: number | null;
  steps?: number;
  batchSize?: number;
  optimizer?: (typeof OPTIMIZERS)[number];
  learningRate?: number;
  weightDecay?: number;
  schedule?: Record<string, unknown>;
  checkpointEvery?: number;
  testEvery?: number;
  curveExamples?: number;
  flip?: boolean;
  cropPadding?: number;
  data?: string;
  split?: string;
  testSplit?: string;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  force?: boolean;
  logFormat?: LogFormat;
}

/** `match=multiplier`, repeatable. */
function parseLayerRate(value: string, previous: { match: string; multiplier: number }[] = []): { match: string; multiplier: number }[] {
  const [match, multiplier] = value.split('=');
  if (!match || multiplier === undefined || !Number.isFinite(Number(multiplier)) || Number(multiplier) < 0) {
    throw new InvalidArgumentError(`--layer-rate must be layer=multiplier (a number ≥ 0; * matches any characters), got ${value}`);
  }
  return [...previous, { match, multiplier: Number(multiplier) }];
}

/** `constant`, `cosine` or `step:EVERY[:GAMMA]`. */
function parseSchedule(value: string): Record<string, unknown> {
  if (value === 'constant' || value === 'cosine') return { kind: value };
  const step = /^step:(\d+)(?::([\d.eE-]+))?$/.exec(value);
  if (step) return { kind: 'step', every: Number(step[1]), ...(step[2] === undefined ? {} : { gamma: Number(step[2]) }) };
  throw new InvalidArgumentError(`--schedule must be constant, cosine or step:EVERY[:GAMMA], got ${value}`);
}

function parseLabelsPerClass(value: string): number | null {
  return value === 'all' ? null : parseNumber('--labels-per-class', true)(value);
}

/** Flags over the config file's `finetune:` section over its top level (data, split, seed, force) over the defaults. */
function runFinetune(flags: FinetuneFlags, io: StageCommandIo): Promise<FinetuneOutcome> {
  const { logFormat = 'auto', config: file, backend, layerRate, flip, cropPadding, ...rest } = flags;
  const pipeline = loadPipelineConfig({ file, env: io.env });
  const document = file === undefined ? {} : readPipelineDocument(file);
  const section = (document['finetune'] ?? {}) as { augment?: Record<string, unknown> };
  // --flip / --crop-padding change only their own key of the section's augment.
  const augment =
    flip === undefined && cropPadding === undefined
      ? undefined
      : { ...section.augment, ...(flip === undefined ? {} : { flip }), ...(cropPadding === undefined ? {} : { cropPadding }) };
  const config = finetuneStage.configFrom(pipeline, document, { ...rest, layerRates: layerRate, augment });
  return runStageCommand(finetuneStage, config, { logFormat, backend: backend ?? pipeline.backend, pipeline }, io);
}

export function registerFinetuneCommand(program: Command, io: StageCommandIo = processIo): void {
  program
    .command('finetune')
    .description(finetuneStage.summary)
    .option(
      '--config <file>',
      'pipeline config, YAML or JSON: its finetune section, its pretrain section and top level as the upstream stages (flags override it)',
    )
    .option(
      '--from <location>',
      'init or pretrain artifact to fine-tune: directory or s3://bucket/prefix (default: the config’s pretrain stage if it has one, else its init stage, found by hash)',
    )
    .addOption(new Option('--task <task>', 'downstream task: classify (default), multilabel, segment, detect').choices(FINETUNE_TASKS))
    .option(
      '--feature-layer <layer>',
      "the network layer the head reads (default: the input of the network's dense classifier for classify/multilabel, the last spatial layer for segment/detect)",
    )
    .addOption(
      new Option(
        '--head-init <how>',
        "the new head's weights: data (each unit normalized to std 1 on the first training batch; default) or drawn (Glorot/He)",
      ).choices(HEAD_INITS),
    )
    .option('--train-from <layer>', 'first layer trained; the layers before it stay frozen (default: every layer)')
    .option('--layer-rate <layer=multiplier>', 'learning-rate multiplier for matching layers, repeatable (0 freezes; * matches any characters)', parseLayerRate)
    .option(
      '--labels-per-class <n>',
      "labelled images per class: the first n of each class in the split's seeded order, or 'all' (default all)",
      parseLabelsPerClass,
    )
    .option('--steps <n>', 'training steps (default 300)', parseNumber('--steps', true))
    .option('--batch-size <images>', 'images per step (default 32)', parseNumber('--batch-size', true))
    .addOption(new Option('--optimizer <name>', 'optimizer (default momentum 0.9)').choices(OPTIMIZERS))
    .option('--learning-rate <rate>', 'base learning rate (default 0.01)', parseNumber('--learning-rate', false))
    .option('--weight-decay <lambda>', 'L2 weight decay on kernels (default 5e-4)', parseNumber('--weight-decay', false))
    .option('--schedule <schedule>', 'learning-rate schedule: constant, cosine or step:EVERY[:GAMMA] (default cosine)', parseSchedule)
    .option('--checkpoint-every <steps>', 'checkpoint interval (default 50; also on SIGTERM)', parseNumber('--checkpoint-every', true))
    .option(
      '--test-every <steps>',
      'test metric of the learning curve every this many steps (default 50; 0: only at the end)',
      parseNumber('--test-every', true),
    )
    .option(
      '--curve-examples <images>',
      'test images of the learning curve (default 1000; the final metric uses the whole split)',
      parseNumber('--curve-examples', true),
    )
    .option('--flip', 'augment: random horizontal flips')
    .option('--crop-padding <pixels>', 'augment: random crops of the image padded by this many pixels (default 0: none)', parseNumber('--crop-padding', true))
    .option('--data <location>', "dataset: 'embedded' (default), a directory or s3://bucket/prefix with manifest.json")
    .option('--split <name>', 'split to train on (default train)')
    .option('--test-split <name>', 'split evaluated at the end and for the learning curve (default test)')
    .option('--seed <n>', 'run seed: batches, augmentation, head weights (default 0)', parseNumber('--seed', true))
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto)').choices(BACKEND_CHOICES))
    .option('--out <location>', 'artifact directory or s3://bucket/prefix (default artifacts/finetune)')
    .option('--force', 'start over: ignore an up-to-date artifact and any checkpoint')
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action(async (flags: FinetuneFlags) => {
      await runFinetune(flags, io);
    });
}
