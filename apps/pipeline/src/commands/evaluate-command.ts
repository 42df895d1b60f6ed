/**
 * `ddinit evaluate`: scores an artifact on a split — a finetune artifact with
 * its head's metrics, and any artifact (init, pretrain, finetune) with linear
 * probes per layer and k-nearest-neighbour classification; writes report.json
 * and report.html.
 *
 *   ddinit evaluate [--config file] [--from artifacts/finetune] [--split test]
 *                   [--probes conv1,conv2,conv3,conv4,conv5] [--knn 20]
 *                   [--data embedded] [--seed 0] [--out artifacts/evaluate] [--force]
 *
 * Without --from, the artifact is the same pipeline config's finetune stage, found by configuration hash.
 */
import type { BackendChoice } from '@ddinit/core/backend';
import { Command, Option } from 'commander';
import { FINETUNE_TASKS } from '../config/finetune-config';
import { loadPipelineConfig } from '../config/load-config';
import { BACKEND_CHOICES } from '../config/pipeline-config';
import type { LogFormat } from '../observe/console-observers';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { evaluateStage, type EvaluateOutcome } from '../stages/evaluate-stage';
import { parseNumber } from './number-flag';
import { processIo, runStageCommand, type StageCommandIo } from './stage-command';

interface EvaluateFlags {
  config?: string;
  from?: string;
  task?: (typeof FINETUNE_TASKS)[number];
  data?: string;
  split?: string;
  trainSplit?: string;
  probes?: string[];
  probeSteps?: number;
  probeBatchSize?: number;
  probeLearningRate?: number;
  knn?: number;
  knnReferences?: number;
  featureLayer?: string;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  force?: boolean;
  logFormat?: LogFormat;
}

const parseList = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

function runEvaluate(flags: EvaluateFlags, io: StageCommandIo): Promise<EvaluateOutcome> {
  const { logFormat = 'auto', config: file, backend, ...stageFlags } = flags;
  const pipeline = loadPipelineConfig({ file, env: io.env });
  const document = file === undefined ? {} : readPipelineDocument(file);
  const config = evaluateStage.configFrom(pipeline, document, stageFlags);
  return runStageCommand(evaluateStage, config, { logFormat, backend: backend ?? pipeline.backend, pipeline }, io);
}

export function registerEvaluateCommand(program: Command, io: StageCommandIo = processIo): void {
  program
    .command('evaluate')
    .description(evaluateStage.summary)
    .option('--config <file>', 'pipeline config, YAML or JSON: its evaluate section, and its finetune, pretrain and top-level sections as the upstream stages')
    .option(
      '--from <location>',
      'artifact to evaluate: a finetune artifact, or any artifact for --probes / --knn (default: the config’s finetune stage, found by hash)',
    )
    .addOption(new Option('--task <task>', "the head's task to evaluate (default: the artifact's head's)").choices(FINETUNE_TASKS))
    .option('--data <location>', "dataset: 'embedded' (default), a directory or s3://bucket/prefix with manifest.json")
    .option('--split <name>', 'split evaluated (default test)')
    .option('--train-split <name>', 'split the probes train on and k-NN takes references from (default train)')
    .option('--probes <layers>', 'comma-separated layers to probe with a linear classifier on frozen features, e.g. conv1,conv2,conv3', parseList)
    .option('--probe-steps <n>', 'training steps of the probes (default 300)', parseNumber('--probe-steps', true))
    .option('--probe-batch-size <images>', 'images per probe training step (default 64)', parseNumber('--probe-batch-size', true))
    .option('--probe-learning-rate <rate>', 'learning rate of the probes (default 0.01)', parseNumber('--probe-learning-rate', false))
    .option('--knn <k>', 'k-nearest-neighbour classification with this k on the features of --feature-layer', parseNumber('--knn', true))
    .option('--knn-references <images>', 'most reference images k-NN reads from --train-split (default 10000)', parseNumber('--knn-references', true))
    .option('--feature-layer <layer>', "layer k-NN reads (default: the one the artifact's head reads, or the network output)")
    .option('--seed <n>', 'seed of the probes and their batches (default 0)', parseNumber('--seed', true))
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto)').choices(BACKEND_CHOICES))
    .option('--out <location>', 'report directory or s3://bucket/prefix (default artifacts/evaluate)')
    .option('--force', 'redo even when --out holds a report of the same configuration')
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action(async (flags: EvaluateFlags) => {
      await runEvaluate(flags, io);
    });
}
