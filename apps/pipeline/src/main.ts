/**
 * The `ddinit` command line. Exit codes: 0 success, 2 bad configuration or input
 * (the message names the field, file, shard or layer), 1 any other failure.
 *
 * Start-up is lazy: the program knows each command by name and summary only, and
 * imports the module that defines a command (tfjs, the data library, the AWS SDK…)
 * when the command line names it, so `ddinit --help` and `--version` load commander
 * alone (docs/RESULTS.md, "Start-up").
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-status';
import { STAGE_SUMMARIES } from './stages/stage-contract';

export { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK } from './exit-status';

/** The version `ddinit --version` prints: the pipeline package's. */
export const VERSION: string = packageJson.version;

/** A subcommand module adds itself (and possibly sibling commands) to the program. */
export type CommandModule = (program: Command) => void;

/** A top-level command as `ddinit --help` lists it, and the module that defines it. */
export interface CommandEntry {
  name: string;
  /** The command's description; a spec checks it equals the one the module registers. */
  summary: string;
  load: () => Promise<CommandModule>;
}

const loadInit = async (): Promise<CommandModule> => (await import('./commands/init-command')).registerInitCommand;
const loadCompare = async (): Promise<CommandModule> => (await import('./commands/compare-command')).registerCompareCommand;

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    summary: STAGE_SUMMARIES.init,
    load: loadInit,
  },
  {
    name: 'pretrain',
    summary: STAGE_SUMMARIES.pretrain,
    load: async () => (await import('./commands/pretrain-command')).registerPretrainCommand,
  },
  {
    name: 'finetune',
    summary: STAGE_SUMMARIES.finetune,
    load: async () => (await import('./commands/finetune-command')).registerFinetuneCommand,
  },
  {
    name: 'evaluate',
    summary: STAGE_SUMMARIES.evaluate,
    load: async () => (await import('./commands/evaluate-command')).registerEvaluateCommand,
  },
  {
    name: 'compare',
    summary:
      'the initialization comparison study: every cell (init × model × seed × labels × pretraining) initialized, fine-tuned and evaluated, then a report comparing them; reuses finished runs',
    load: loadCompare,
  },
  {
    name: 'study-run',
    summary: "run one stage run of a study as `ddinit <stage>` does, recording a failure beside its output for the merge (the Argo Workflow's stage tasks)",
    load: loadCompare,
  },
  { name: 'sweep-run', summary: 'run one configuration of kubernetes.sweep, chosen by JOB_COMPLETION_INDEX (inside an Indexed Job)', load: loadInit },
  {
    name: 'config',
    summary: 'the pipeline configuration: JSON Schema for editors, resolved values',
    load: async () => (await import('./commands/config-command')).registerConfigCommand,
  },
  {
    name: 'k8s',
    summary: 'Kubernetes objects (ConfigMap, Secret, Jobs, Indexed Jobs for sweeps) from a pipeline config; Argo Workflows for studies',
    load: async () => (await import('./k8s/command')).registerK8sCommand,
  },
  {
    name: 'data',
    summary: 'convert datasets into ddinit shards and inspect them',
    load: async () => (await import('./commands/data-command')).registerDataCommand,
  },
];

export function createProgram(modules: CommandModule[]): Command {
  const program = new Command('ddinit')
    .description('Data-dependent initialization of convolutional networks (Krähenbühl et al., ICLR 2016)')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const add of modules) add(program);
  return program;
}

/** The command `argv` runs (`ddinit help <command>` included), if any. */
function commandNamed(argv: string[]): CommandEntry | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/**
 * The modules `argv` needs: the named command's module, and a summary-only
 * stand-in for every other command (enough for the help listing).
 */
async function modulesFor(argv: string[]): Promise<CommandModule[]> {
  const chosen = commandNamed(argv);
  const load = chosen ? await chosen.load() : undefined;
  const standIns: CommandModule = (program) => {
    for (const c of COMMANDS) {
      if (!program.commands.some((existing) => existing.name() === c.name)) program.command(c.name).description(c.summary);
    }
  };
  return load ? [load, standIns] : [standIns];
}

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: string[], modules?: CommandModule[]): Promise<number> {
  const program = createProgram(modules ?? (await modulesFor(argv)));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    const { describeError, exitCodeFor } = await import('./exit-codes');
    process.stderr.write(`ddinit: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
