/**
 * How the app shows what the libraries report, and where each kind of output
 * goes (docs/cli.md, "Output"):
 *
 * - stderr carries logs and progress: progress bars and log lines on a
 *   terminal, one JSON object per line otherwise (Kubernetes pods, CI logs);
 * - stdout carries only the command's result: a table or sentence for people
 *   on a terminal, one JSON line otherwise.
 *
 * One stream per kind, so `ddinit … | jq` and `2> log.jsonl` each get lines of
 * a single format.
 */
import type { LogFields, LogLevel, Logger, Observers, ProgressEvent, ProgressListener } from '@ddinit/core';
import cliProgress from 'cli-progress';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `pretty` (people), `json` (machines) or `auto`: pretty where the stream is a terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** What the commands write to: `process.stdout`/`process.stderr`, or a spec's capture. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ConsoleObserverOptions {
  format?: LogFormat;
  /** Lowest level printed; default `DDINIT_LOG_LEVEL` or `info`. */
  level?: LogLevel;
  /** Where logs and progress go; default process.stderr. */
  stream?: OutputStream;
  /** Clock for timestamps (tests pass a fixed one). */
  now?: () => Date;
}

export interface ConsoleObservers extends Required<Observers> {
  /** Stops the progress bars (call once at the end of a run). */
  close(): void;
  format: 'pretty' | 'json';
}

/** The format a stream gets: forced by `--log-format`, else pretty exactly when it is a terminal. */
export function streamFormat(format: LogFormat, stream: { isTTY?: boolean }): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** `DDINIT_LOG_LEVEL` (debug, info, warn, error), else info. */
export function defaultLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.DDINIT_LOG_LEVEL?.toLowerCase();
  return LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info';
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? `  ${parts.join(' ')}` : '';
}

/**
 * The event with `total` only where it bounds `completed`: a task that does not
 * know its length (or reported one it then overran) shows a count, never
 * `320/100` or `300/0`.
 */
export function boundedProgress(event: ProgressEvent): ProgressEvent {
  const { total, ...rest } = event;
  return total !== undefined && Number.isFinite(total) && total > 0 && event.completed <= total ? event : rest;
}

/** One JSON object per line: `{"time","type":"log"|"progress",…}`. */
export function createJsonLinesObservers(stream: OutputStream, level: LogLevel = defaultLogLevel(), now: () => Date = () => new Date()): ConsoleObservers {
  const min = LEVELS.indexOf(level);
  const write = (record: Record<string, unknown>) => stream.write(`${JSON.stringify({ time: now().toISOString(), ...record })}\n`);
  const at =
    (lvl: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (LEVELS.indexOf(lvl) >= min) write({ type: 'log', level: lvl, message, ...(fields ? { fields } : {}) });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const progress: ProgressListener = (event) => write({ type: 'progress', ...boundedProgress(event) });
  return { logger, progress, close: () => undefined, format: 'json' };
}

/** ` task |████░░░░| 3/8 conv3` with a known total, ` task 320 conv3` without. */
const BOUNDED_LINE = ' {task} |{bar}| {value}/{total} {item}';
const COUNTER_LINE = ' {task} {value} {item}';

function formatBarLine(options: cliProgress.Options, params: cliProgress.Params, payload: { bounded?: boolean }): string {
  return cliProgress.Format.Formatter({ ...options, format: payload.bounded ? BOUNDED_LINE : COUNTER_LINE }, params, payload);
}

/** Progress bars (cli-progress) with log lines printed above them. */
export function createTerminalObservers(stream: NodeJS.WritableStream, level: LogLevel = defaultLogLevel()): ConsoleObservers {
  const min = LEVELS.indexOf(level);
  const multibar = new cliProgress.MultiBar(
    {
      stream: stream as NodeJS.WritableStream & { isTTY: boolean },
      format: formatBarLine,
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
  const progress: ProgressListener = (raw: ProgressEvent) => {
    const event = boundedProgress(raw);
    const payload = { task: event.task, item: event.item ?? '', bounded: event.total !== undefined };
    // Without a total the bar draws only the count; its own total just has to stay ahead of it.
    const total = event.total ?? event.completed + 1;
    let bar = bars.get(event.task);
    if (!bar) {
      bar = multibar.create(total, event.completed, payload);
      bars.set(event.task, bar);
    }
    bar.setTotal(total);
    bar.update(event.completed, payload);
    if (event.phase === 'end') bars.delete(event.task);
  };
  return { logger, progress, close: () => multibar.stop(), format: 'pretty' };
}

/** Logs and progress on `stream` (default stderr), in the format `format` resolves to there. */
export function createConsoleObservers(options: ConsoleObserverOptions = {}): ConsoleObservers {
  const stream = options.stream ?? process.stderr;
  return streamFormat(options.format ?? 'auto', stream) === 'pretty'
    ? createTerminalObservers(stream as NodeJS.WritableStream, options.level)
    : createJsonLinesObservers(stream, options.level, options.now);
}

/** A command's result on stdout: `text` for people, one `{"type":"result",…}` line for machines. */
export interface ResultPrinter {
  format: 'pretty' | 'json';
  print(result: { text: string; json: Record<string, unknown> }): void;
}

export function createResultPrinter(format: LogFormat, stdout: OutputStream): ResultPrinter {
  const resolved = streamFormat(format, stdout);
  return {
    format: resolved,
    print: ({ text, json }) => {
      stdout.write(resolved === 'pretty' ? `${text.replace(/\n$/, '')}\n` : `${JSON.stringify({ type: 'result', ...json })}\n`);
    },
  };
}
