/**
 * `ddinit pretrain`: self-supervised pretraining (rotation prediction) of an init
 * artifact's network; writes the trained trunk with report.json and report.html.
 * SIGTERM (what Kubernetes sends before it kills a pod) stops it after the current
 * step with a checkpoint; the same command resumes from it.
 *
 *   ddinit pretrain [--from artifacts/init] [--data embedded] [--steps 300] [--batch-size 32]
 *                   [--learning-rate 0.01] [--seed 0] [--out artifacts/pretrain] [--force]
 */
import { selectBackend, type BackendChoice } from '@ddinit/core/backend';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES } from '../config/pipeline-config';
import { createConsoleObservers, createResultPrinter, defaultLogLevel, type LogFormat } from '../observe/console-observers';
import type { InitCommandIo } from './init-command';
import { PretrainConfigSchema, runPretrainStage, type PretrainOutcome } from '../stages/pretrain-stage';

interface PretrainFlags {
  from?: string;
  data?: string;
  split?: string;
  featureLayer?: string;
  steps?: number;
  batchSize?: number;
  optimizer?: 'sgd' | 'momentum' | 'nesterov' | 'adam';
  learningRate?: number;
  weightDecay?: number;
  checkpointEvery?: number;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  force?: boolean;
  logFormat?: LogFormat;
}

const processIo: InitCommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

function parseNumber(name: string, integer: boolean) {
  return (value: string): number => {
    const ok = integer ? /^-?\d+$/.test(value) : Number.isFinite(Number(value)) && value.trim() !== '';
    if (!ok) throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'}, got ${value}`);
    return Number(value);
  };
}

/** Runs the stage with SIGTERM wired to a checkpoint-and-stop. */
async function runPretrain(flags: PretrainFlags, io: InitCommandIo): Promise<PretrainOutcome> {
  const { logFormat = 'auto', backend: backendChoice = 'auto', ...rest } = flags;
  const config = PretrainConfigSchema.parse(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
  const observers = (io.observers ?? ((f) => createConsoleObservers({ format: f, stream: io.stderr, level: defaultLogLevel(io.env) })))(logFormat);
  const stop = new AbortController();
  const onTerm = (): void => stop.abort();
  process.once('SIGTERM', onTerm);
  try {
    const selection = await selectBackend(backendChoice, { logger: observers.logger });
    const backend = selection.nativeBlas?.active ? `${selection.name} + native BLAS/LAPACK (${selection.nativeBlas.threads} threads)` : selection.name;
    const outcome = await runPretrainStage(config, { backend, logger: observers.logger, progress: observers.progress, signal: stop.signal });
    observers.close();
    if (outcome.interrupted) throw new Error('stopped on SIGTERM after writing a checkpoint; run the same command again to resume from it');
    const result = createResultPrinter(logFormat, io.stdout);
    const report = outcome.report;
    result.print(
      report
        ? {
            text: `pretrained (${report.task}, ${report.steps} steps${report.resumedFrom === null ? '' : `, resumed from step ${report.resumedFrom}`}): accuracy ${report.final.accuracy.toFixed(3)} (chance ${report.final.chanceAccuracy}), loss ${report.final.loss.toFixed(4)} → ${outcome.location}`,
            json: { out: outcome.location, report: 'report.json', final: report.final, resumedFrom: report.resumedFrom },
          }
        : {
            text: `up to date: ${outcome.location} (config ${outcome.configHash.slice(0, 12)}; --force to redo)`,
            json: { out: outcome.location, skipped: true },
          },
    );
    return outcome;
  } finally {
    process.off('SIGTERM', onTerm);
    observers.close();
  }
}

export function registerPretrainCommand(program: Command, io: InitCommandIo = processIo): void {
  program
    .command('pretrain')
    .description('self-supervised pretraining (rotation prediction) of an init artifact; resumable; writes the trunk, report.json, report.html')
    .option('--from <location>', 'init artifact to pretrain: directory or s3://bucket/prefix (default artifacts/init)')
    .option('--data <location>', "dataset: 'embedded' (default), a directory or s3://bucket/prefix with manifest.json")
    .option('--split <name>', 'split to train on (default train)')
    .option('--feature-layer <layer>', 'trunk layer the rotation head reads (default: the last layer with a spatial output)')
    .option('--steps <n>', 'training steps (default 300)', parseNumber('--steps', true))
    .option('--batch-size <images>', 'images per step, each shown at four turns (default 32)', parseNumber('--batch-size', true))
    .addOption(new Option('--optimizer <name>', 'optimizer (default momentum 0.9)').choices(['sgd', 'momentum', 'nesterov', 'adam']))
    .option('--learning-rate <rate>', 'base learning rate, cosine schedule (default 0.01)', parseNumber('--learning-rate', false))
    .option('--weight-decay <lambda>', 'L2 weight decay on kernels (default 5e-4)', parseNumber('--weight-decay', false))
    .option('--checkpoint-every <steps>', 'checkpoint interval (default 50; also on SIGTERM)', parseNumber('--checkpoint-every', true))
    .option('--seed <n>', 'run seed: batches and head (default 0)', parseNumber('--seed', true))
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto)').choices(BACKEND_CHOICES))
    .option('--out <location>', 'artifact directory or s3://bucket/prefix (default artifacts/pretrain)')
    .option('--force', 'start over: ignore an up-to-date artifact and any checkpoint')
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action(async (flags: PretrainFlags) => {
      await runPretrain(flags, io);
    });
}
