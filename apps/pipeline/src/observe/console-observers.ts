/**
 * How the app shows what the libraries report: progress bars and coloured log
 * lines on a terminal, JSON lines when the output is not a TTY (Kubernetes pods,
 * CI logs), so machines can follow a run too.
 */
import type { LogFields, LogLevel, Logger, Observers, ProgressEvent, ProgressListener } from '@ddinit/core';
import cliProgress from 'cli-progress';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface ConsoleObserverOptions {
  /** `pretty` (bars, for terminals), `json` (one JSON object per line) or `auto` (pretty on a TTY). */
  format?: 'auto' | 'pretty' | 'json';
  /** Lowest level printed. */
  level?: LogLevel;
  /** Where output goes; defaults to process.stderr for pretty output and process.stdout for JSON lines. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Clock for timestamps (tests pass a fixed one). */
  now?: () => Date;
}

export interface ConsoleObservers extends Required<Observers> {
  /** Stops the progress bars (call once at the end of a run). */
  close(): void;
  format: 'pretty' | 'json';
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? `  ${parts.join(' ')}` : '';
}

/** One JSON object per line: `{"time","type":"log"|"progress",…}`. */
export function createJsonLinesObservers(
  stream: NodeJS.WritableStream,
  level: LogLevel = 'info',
  now: () => Date = () => new Date(),
): ConsoleObservers {
  const min = LEVELS.indexOf(level);
  const write = (record: Record<string, unknown>) => stream.write(`${JSON.stringify({ time: now().toISOString(), ...record })}\n`);
  const at =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(lvl) >= min) write({ type: 'log', level: lvl, message, ...(fields ? { fields } : {}) });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const progress: ProgressListener = (event) => write({ type: 'progress', ...event });
  return { logger, progress, close: () => undefined, format: 'json' };
}

/** Progress bars (cli-progress) with log lines printed above them. */
export function createTerminalObservers(stream: NodeJS.WritableStream, level: LogLevel = 'info'): ConsoleObservers {
  const min = LEVELS.indexOf(level);
  const multibar = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream & { isTTY: boolean },
      format: ' {task} |{bar}| {value}/{total} {item}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      emptyOnZero: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const at =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(lvl) < min) return;
      const tag = lvl === 'info' ? '' : `${lvl.toUpperCase()} `;
      multibar.log(`${tag}${message}${formatFields(fields)}\n`);
      multibar.update(); // flush the log line now, not at the next timer tick
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const progress: ProgressListener = (event: ProgressEvent) => {
    const payload = { task: event.task, item: event.item ?? '' };
    let bar = bars.get(event.task);
    if (!bar) {
      bar = multibar.create(event.total ?? 0, event.completed, payload);
      bars.set(event.task, bar);
    }
    if (event.total !== undefined) bar.setTotal(event.total);
    bar.update(event.completed, payload);
    if (event.phase === 'end') bars.delete(event.task);
  };
  return { logger, progress, close: () => multibar.stop(), format: 'pretty' };
}

export function createConsoleObservers(options: ConsoleObserverOptions = {}): ConsoleObservers {
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && Boolean((options.stream ?? process.stderr).isTTY));
  return pretty
    ? createTerminalObservers(options.stream ?? process.stderr, options.level)
    : createJsonLinesObservers(options.stream ?? process.stdout, options.level, options.now);
}
