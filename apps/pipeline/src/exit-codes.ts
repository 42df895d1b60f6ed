/**
 * How a failure becomes an exit code and a message. Kept apart from main.ts so
 * that `ddinit --help` loads neither zod nor tfjs (through @ddinit/core): main
 * imports this module only when a command failed.
 */
import { isDdinitError } from '@ddinit/core/base';
import { ZodError, z } from 'zod';
import { EXIT_BAD_INPUT, EXIT_FAILURE } from './exit-status';

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
