/**
 * The ddinit error hierarchy. Every error says where (layer, shard, key, field),
 * what was expected and what arrived, so a user can fix the input without
 * reading a stack trace.
 *
 * @example
 * throw new ShapeError('kernel shape does not match the layer', {
 *   where: 'layer conv2',
 *   expected: '[5,5,48,256]',
 *   actual: '[5,5,96,256]',
 * });
 * // message: "layer conv2: kernel shape does not match the layer (expected [5,5,48,256], got [5,5,96,256])"
 */

/** Which part of the system an error comes from; stable strings for reports and exit codes. */
export type ErrorKind = 'config' | 'data' | 'shape' | 'numerical' | 'storage' | 'backend';

export interface ErrorContext {
  /** The layer, shard, key or field the problem is about, e.g. `layer conv1`, `shard train-00003.arrow`. */
  where?: string;
  /** What was expected, in words or as a value. */
  expected?: unknown;
  /** What arrived instead. */
  actual?: unknown;
  /** The underlying error, kept for debugging. */
  cause?: unknown;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(describe).join(',')}]`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Composes `where: message (expected X, got Y)`, omitting the parts that are absent. */
export function formatErrorMessage(message: string, context: ErrorContext = {}): string {
  const prefix = context.where ? `${context.where}: ` : '';
  const parts: string[] = [];
  if ('expected' in context) parts.push(`expected ${describe(context.expected)}`);
  if ('actual' in context) parts.push(`got ${describe(context.actual)}`);
  return `${prefix}${message}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

/** Base class of every error ddinit throws on purpose. */
export class DdinitError extends Error {
  readonly kind: ErrorKind;
  readonly where?: string;
  readonly expected?: unknown;
  readonly actual?: unknown;

  constructor(kind: ErrorKind, message: string, context: ErrorContext = {}) {
    super(formatErrorMessage(message, context), context.cause === undefined ? undefined : { cause: context.cause });
    this.kind = kind;
    this.where = context.where;
    if ('expected' in context) this.expected = context.expected;
    if ('actual' in context) this.actual = context.actual;
  }
}

/** A configuration value is missing, of the wrong type, or out of range. */
export class ConfigError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('config', message, context);
    this.name = 'ConfigError';
  }
}

/** Input data is malformed: a truncated shard, a schema mismatch, an empty split. */
export class DataError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('data', message, context);
    this.name = 'DataError';
  }
}

/** A tensor or weight has the wrong shape or layout. */
export class ShapeError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('shape', message, context);
    this.name = 'ShapeError';
  }
}

/** A computation produced (or would produce) NaN, Inf or a degenerate result. */
export class NumericalError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('numerical', message, context);
    this.name = 'NumericalError';
  }
}

/** Reading or writing an artifact, a file or an object failed. */
export class StorageError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('storage', message, context);
    this.name = 'StorageError';
  }
}

/** A requested tfjs backend is not installed or failed to initialize. */
export class BackendError extends DdinitError {
  constructor(message: string, context: ErrorContext = {}) {
    super('backend', message, context);
    this.name = 'BackendError';
  }
}

/** True for errors ddinit raised on purpose (as opposed to bugs). */
export function isDdinitError(error: unknown): error is DdinitError {
  return error instanceof DdinitError;
}
