/**
 * Running one stage of the registry from the command line, the same for every
 * stage: console observers, the backend, SIGTERM wired to a checkpoint-and-stop
 * for a stage that checkpoints (what Kubernetes sends before it kills a pod), the
 * result printed as a table / one line for people or one JSON line for machines.
 * Nothing here loads tfjs: the backend and the stage's run are imported when there
 * is work to do (stage-on-backend.ts), so an up-to-date check that needs no tfjs
 * (`upToDate`) ends the command before it loads (docs/RESULTS.md, "Start-up").
 */
import type { Logger } from '@ddinit/core/base';
import type { BackendChoice } from '@ddinit/core/backend';
import type { PipelineConfig } from '../config/pipeline-config';
import {
  createConsoleObservers,
  createResultPrinter,
  defaultLogLevel,
  type ConsoleObservers,
  type LogFormat,
  type OutputStream,
} from '../observe/console-observers';
import type { StageConfigBase, StageDefinition, StageOutcome } from '../stages/stage-contract';

export interface StageCommandIo {
  /** The result only: the per-layer table for people, one JSON line for machines. */
  stdout: OutputStream;
  /** Logs and progress. */
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** Observers for the run (tests pass memory ones); default: console observers on `stderr`. */
  observers?: (format: LogFormat) => ConsoleObservers;
}

export const processIo: StageCommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

export interface StageCommandOptions {
  logFormat?: LogFormat;
  backend: BackendChoice;
  /** The pipeline config upstream stages are found by (see `runStage`). */
  pipeline?: PipelineConfig;
  /** Decides "up to date" from the configuration alone, without tfjs (init: stages/init-up-to-date.ts); null: run the stage. */
  upToDate?: (logger: Logger) => Promise<StageOutcome<unknown> | null>;
}

/**
 * Runs `definition` on `config`.
 * @throws what the stage throws; an Error after a SIGTERM stopped a checkpointing stage (exit 1, so the Job retries and resumes).
 */
export async function runStageCommand<C extends StageConfigBase, R>(
  stage: StageDefinition<C, R> | (() => Promise<StageDefinition<C, R>>),
  config: C,
  options: StageCommandOptions,
  io: StageCommandIo,
): Promise<StageOutcome<R>> {
  const format = options.logFormat ?? 'auto';
  const observers = (io.observers ?? ((f) => createConsoleObservers({ format: f, stream: io.stderr, level: defaultLogLevel(io.env) })))(format);
  const stop = new AbortController();
  const onTerm = (): void => stop.abort();
  try {
    const skipped = options.upToDate ? ((await options.upToDate(observers.logger)) as StageOutcome<R> | null) : null;
    const definition = skipped ? undefined : typeof stage === 'function' ? await stage() : stage;
    // Only a stage that checkpoints catches SIGTERM; the others end at once, as Node does by default.
    if (definition?.checkpoints) process.once('SIGTERM', onTerm);
    const outcome =
      skipped ??
      (await (
        await import('./stage-on-backend')
      ).runStageOnBackend(definition as StageDefinition<C, R>, config, { ...options, signal: stop.signal }, observers));
    observers.close();
    if (outcome.interrupted) throw new Error('stopped on SIGTERM after writing a checkpoint; run the same command again to resume from it');
    const result = createResultPrinter(format, io.stdout);
    result.print(
      outcome.report !== undefined && definition
        ? definition.describe(outcome.report, outcome.location)
        : {
            text: `up to date: ${outcome.location} (config ${outcome.configHash.slice(0, 12)}; --force to redo)`,
            json: { out: outcome.location, skipped: true },
          },
    );
    return outcome;
  } finally {
    process.off('SIGTERM', onTerm);
    observers.close();
  }
}
