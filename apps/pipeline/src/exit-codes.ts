/**
 * How a failure becomes an exit code and a message. Kept apart from main.ts so
 * that `ddinit --help` loads neither zod nor tfjs (through @ddinit/core): main
 * imports this module only when a command failed.
 */
import { isDdinitError } from '@ddinit/core/base';
import { ZodError, z } from 'zod';
import { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_NUMERICAL } from './exit-status';

/**
 * 2 for errors caused by what the user gave us (config, data, shapes), 3 for numerical failures
 * (a divergence: the same configuration fails again), 1 for bugs and I/O failures (worth a retry).
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ZodError) return EXIT_BAD_INPUT;
  if (isDdinitError(error)) {
    if (error.kind === 'numerical') return EXIT_NUMERICAL;
    return error.kind === 'config' || error.kind === 'data' || error.kind === 'shape' ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
  return EXIT_FAILURE;
}

export function describeError(error: unknown): string {
  if (error instanceof ZodError) return `invalid configuration:\n${z.prettifyError(error)}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
