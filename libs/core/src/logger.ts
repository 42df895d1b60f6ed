/**
 * Libraries never print. They report through a {@link Logger} and a
 * {@link ProgressListener} handed in by the caller; the app decides how to show
 * them (progress bars on a terminal, JSON lines in a Kubernetes pod).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields attached to a log record (layer names, counts, timings). */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LogRecord {
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

/** A logger that drops everything: the default of every library function. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that keeps its records in memory (tests, reports). */
export function createMemoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      records.push(fields === undefined ? { level, message } : { level, message, fields });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * One step of a long task. A task starts, advances (`completed` of `total`
 * units, e.g. layers or batches) and ends; `task` names it (`within-layer`,
 * `calibration`, `read shards`), `item` names the current unit (`conv3`).
 */
export interface ProgressEvent {
  task: string;
  phase: 'start' | 'advance' | 'end';
  completed: number;
  total?: number;
  item?: string;
  fields?: LogFields;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** The default progress listener: ignores every event. */
export const silentProgress: ProgressListener = () => undefined;

/** What a long-running library function takes to report on itself. */
export interface Observers {
  logger?: Logger;
  progress?: ProgressListener;
}
