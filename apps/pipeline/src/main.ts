/**
 * The `ddinit` command line. Exit codes: 0 success, 2 bad configuration or input
 * (the message names the field, file, shard or layer), 1 any other failure.
 */
import { isDdinitError } from '@ddinit/core';
import { Command, CommanderError } from 'commander';
import { ZodError, z } from 'zod';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** A subcommand module adds itself to the program. */
export type CommandModule = (program: Command) => void;

/** Errors caused by what the user gave us (config, data, shapes), as opposed to bugs or I/O failures. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ZodError) return EXIT_BAD_INPUT;
  if (isDdinitError(error)) {
    return error.kind === 'config' || error.kind === 'data' || error.kind === 'shape' ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
  return EXIT_FAILURE;
}

export function describeError(error: unknown): string {
  if (error instanceof ZodError) return `invalid configuration:\n${z.prettifyError(error)}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function createProgram(modules: CommandModule[]): Command {
  const program = new Command('ddinit')
    .description('Data-dependent initialization of convolutional networks (Krähenbühl et al., ICLR 2016)')
    .showHelpAfterError()
    .exitOverride();
  for (const add of modules) add(program);
  return program;
}

async function loadModules(): Promise<CommandModule[]> {
  const [{ registerInitCommand }, { registerConfigCommand }, { registerK8sCommand }, { registerDataCommand }] = await Promise.all([
    import('./commands/init-command'),
    import('./commands/config-command'),
    import('./k8s/command'),
    import('./commands/data-command'),
  ]);
  return [
    (program) => registerInitCommand(program),
    (program) => registerConfigCommand(program),
    (program) => registerK8sCommand(program),
    (program) => registerDataCommand(program),
  ];
}

/** Runs the CLI with `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: string[], modules?: CommandModule[]): Promise<number> {
  const program = createProgram(modules ?? (await loadModules()));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
    }
    process.stderr.write(`ddinit: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
