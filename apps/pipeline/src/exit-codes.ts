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

/**
 * The failure's message. An error of a class neither ddinit's, the schema's nor a plain `Error`
 * (which the commands throw on purpose, e.g. after a SIGTERM) — a TypeError or RangeError from a
 * bug, a library's own class — gets its stack when `DDINIT_DEBUG=1`, and otherwise a hint that it can.
 */
export function describeError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  if (error instanceof ZodError) return `invalid configuration:\n${z.prettifyError(error)}`;
  if (!(error instanceof Error)) return String(error);
  if (isDdinitError(error) || Object.getPrototypeOf(error) === Error.prototype) return error.message;
  return env.DDINIT_DEBUG === '1' ? (error.stack ?? error.message) : `${error.message} (DDINIT_DEBUG=1 prints where it was thrown)`;
}
