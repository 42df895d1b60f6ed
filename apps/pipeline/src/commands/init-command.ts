/**
 * `ddinit init`: the main job. Initializes a model by one name of
 * `INITIALIZATIONS` (by default from data: within-layer, then between-layer
 * calibration) and publishes the model with report.json and report.html.
 *
 *   ddinit init [--config file] [--data embedded|dir|s3://…] [--model name|model.json]
 *               [--init ddinit-kmeans+calibration] [--sample N] [--seed 0]
 *               [--backend auto] [--out artifacts/init] [--force]
 *
 * `ddinit sweep-run` is the same stage inside a Kubernetes Indexed Job: the
 * completion index picks one configuration of `kubernetes.sweep`.
 *
 * Whether there is anything to do is decided first, from the configuration and the
 * dataset's manifest (stages/init-up-to-date.ts); the modules that load tfjs (the
 * backend, the stage) are imported only when there is (docs/RESULTS.md, "Start-up").
 */
import type { Logger } from '@ddinit/core/base';
import type { BackendChoice } from '@ddinit/core/backend';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_INITIALIZATION, INITIALIZATIONS, type Initialization } from '../config/initializations';
import { loadPipelineConfig } from '../config/load-config';
import { BACKEND_CHOICES, PipelineConfigSchema, type PipelineConfig, type PipelineConfigInput } from '../config/pipeline-config';
import { rejectRemovedKeys } from '../config/removed-keys';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { selectSweepRun } from '../k8s/sweep';
import type { InitOutcome } from '../stages/init-stage';
import { findUpToDateInit } from '../stages/init-up-to-date';
import { STAGE_NAMES, STAGE_SUMMARIES, type StageName } from '../stages/stage-contract';
import { processIo, runStageCommand, type StageCommandIo } from './stage-command';

interface InitFlags {
  config?: string;
  data?: string;
  split?: string;
  model?: string;
  init?: Initialization;
  /** Removed (`--init` replaced them); accepted only to name the equivalent `--init`. */
  within?: string;
  calibrate?: boolean;
  sample?: number;
  calibrationBatch?: number;
  seed?: number;
  backend?: BackendChoice;
  out?: string;
  force?: boolean;
  logFormat?: 'auto' | 'pretty' | 'json';
}

/** What the command writes to and reads; tests pass their own. */
export type InitCommandIo = StageCommandIo;

function integer(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer, got ${value}`);
    return Number(value);
  };
}

function flagsToConfig(flags: InitFlags): Partial<PipelineConfigInput> {
  rejectRemovedKeys({ within: flags.within, calibrate: flags.calibrate === false ? false : undefined }, () => 'the command-line flags');
  return {
    data: flags.data,
    split: flags.split,
    model: flags.model,
    init: flags.init,
    sample: flags.sample,
    calibrationBatch: flags.calibrationBatch,
    seed: flags.seed,
    backend: flags.backend,
    out: flags.out,
    force: flags.force,
  };
}

function runWithConfig(config: PipelineConfig, logFormat: InitFlags['logFormat'], io: InitCommandIo): Promise<InitOutcome> {
  // Up to date is decided from the config and the manifest before tfjs loads; the stage is imported only when there is work.
  const upToDate = (logger: Logger) => findUpToDateInit(config, { logger });
  const stage = async () => (await import('../stages/init-stage')).initStage;
  return runStageCommand(stage, config, { logFormat: logFormat ?? 'auto', backend: config.backend, upToDate }, io);
}

function addInitFlags(command: Command): Command {
  return command
    .option('--config <file>', 'pipeline config, YAML or JSON (flags and DDINIT_* variables override it)')
    .option('--data <location>', "dataset: 'embedded' (default), a directory or s3://bucket/prefix with manifest.json")
    .option('--split <name>', 'split the sample is drawn from (default train)')
    .option('--model <model>', 'registry name (caffenet-small, caffenet, vgg-plain-<N>, resnet-small) or path / s3:// URL of a tfjs model.json')
    .addOption(new Option('--init <name>', `initialization (default ${DEFAULT_INITIALIZATION}; see docs/cli.md)`).choices(INITIALIZATIONS))
    .addOption(new Option('--within <method>', 'removed: use --init ddinit-<method>').hideHelp())
    .addOption(new Option('--no-calibrate', 'removed: use --init ddinit-<method> (without +calibration)').hideHelp())
    .option('--sample <images>', 'images in the init sample (default: enough rows for the model, see docs/cli.md)', integer('--sample'))
    .option('--calibration-batch <images>', 'images of the sample in the calibration batch (default 16)', integer('--calibration-batch'))
    .option('--seed <n>', 'run seed (default 0)', integer('--seed'))
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto: node-gpu > node > wasm > cpu)').choices(BACKEND_CHOICES))
    .option('--out <location>', 'artifact directory or s3://bucket/prefix (default artifacts/init)')
    .option('--force', 'redo the stage even if the output holds an artifact of the same configuration')
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'));
}

export function registerInitCommand(program: Command, io: InitCommandIo = processIo): void {
  addInitFlags(program.command('init').description(STAGE_SUMMARIES.init)).action(async (flags: InitFlags) => {
    const config = loadPipelineConfig({ file: flags.config, env: io.env, flags: flagsToConfig(flags) });
    await runWithConfig(config, flags.logFormat, io);
  });

  program
    .command('sweep-run')
    .description('run one configuration of kubernetes.sweep, chosen by JOB_COMPLETION_INDEX (inside an Indexed Job)')
    .requiredOption('--config <file>', 'pipeline config with a kubernetes.sweep section')
    .addOption(new Option('--stage <stage>', 'stage to run').choices(STAGE_NAMES).default('init'))
    .addOption(new Option('--backend <backend>', 'tfjs backend').choices(BACKEND_CHOICES))
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action(async (flags: { config: string; stage: StageName; backend?: BackendChoice; logFormat?: InitFlags['logFormat'] }) => {
      const run = selectSweepRun(readPipelineDocument(flags.config), io.env);
      rejectRemovedKeys(run.config, () => `config file ${flags.config}`);
      const pipeline = PipelineConfigSchema.parse({ ...run.config, ...(flags.backend ? { backend: flags.backend } : {}) });
      const { stageDefinition } = await import('../stages/stage-registry');
      const definition = stageDefinition(flags.stage);
      const config = definition.configFrom(pipeline, run.config, {});
      await runStageCommand(definition, config, { logFormat: flags.logFormat ?? 'auto', backend: pipeline.backend, pipeline }, io);
    });
}
