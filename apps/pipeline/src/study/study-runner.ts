/**
 * Running a study on this machine (`ddinit compare`): every stage run of the plan
 * (study/cells.ts) in its dependency order, each through the code path of
 * `ddinit <stage> --config <its document>` — the document parsed by the stage's own
 * `configFrom`, the stage run by `runStage` — on one backend selected once.
 *
 * - Reuse: `runStage` skips a run whose output holds an artifact of the same
 *   configuration hash, so a study run again, resumed or extended does only what is
 *   missing.
 * - Bad input is refused before any work: every run's document is parsed by its
 *   stage's schema, the models are checked and the dataset's splits opened first.
 * - A run that fails (a divergence is a NumericalError) is a result, not a crash: its
 *   failure is recorded beside its output (`writeFailure`), the runs reading from it
 *   are skipped, the other cells go on, and the merge notes the failure.
 * - An abort (SIGTERM) stops after the current training step: the stage has written a
 *   checkpoint, and the same command resumes from it.
 */
import { ConfigError, isDdinitError, silentLogger, silentProgress, type Logger, type Observers } from '@ddinit/core';
import { selectBackend, type BackendChoice } from '@ddinit/core/backend';
import type { StoreOptions } from '@ddinit/data';
import { ZodError, z } from 'zod';
import { backendDescription } from '../commands/stage-on-backend';
import { PipelineConfigSchema, type PipelineConfig } from '../config/pipeline-config';
import { openInitData } from '../stages/init-sample';
import { runStage, stageStatus } from '../stages/run-stage';
import type { StageConfigBase, StageDefinition } from '../stages/stage-contract';
import { stageDefinition } from '../stages/stage-registry';
import type { StageRun, StudyPlan, StudyStage } from './cells';

import type { CellFailure } from './study-report';

export type { CellFailure };

/** What a failed run leaves beside its output for the merge (the merge's `writeFailure` argument). */
export interface RunFailure {
  stage: StudyStage;
  key: string;
  kind: 'diverged' | 'failed';
  message: string;
  step?: number;
}

/** The merge's side of the study (study-merge.ts): recording failures and writing the comparison report. */
export interface StudyRecorder {
  writeFailure(runLocation: string, failure: RunFailure, store?: StoreOptions): Promise<unknown>;
  mergeStudy(plan: StudyPlan, options?: { store?: StoreOptions; logger?: Logger; failures?: readonly CellFailure[] }): Promise<{ location: string }>;
}

/** A run of the plan with its document parsed: what `ddinit <stage> --config <document>` would run. */
export interface PreparedRun {
  run: StageRun;
  definition: StageDefinition;
  pipeline: PipelineConfig;
  config: StageConfigBase;
  /** Positions (1-based) of the cells whose chain holds this run. */
  cells: number[];
}

export interface StudyRunOptions extends Observers {
  backend?: BackendChoice;
  store?: StoreOptions;
  /** Aborting it stops the study after the current training step (SIGTERM). */
  signal?: AbortSignal;
  /** Only the chains of these cells (0-based positions in `plan.cells`); default: every cell. */
  cells?: readonly number[];
  /** Write the comparison report at the end (default true; false for one part of a sweep, merged later). */
  merge?: boolean;
  recorder: StudyRecorder;
}

export interface StudyRunResult {
  /** True when the signal stopped the study (checkpoints hold the progress). */
  interrupted: boolean;
  /** Runs done now, found up to date, failed, and skipped because a run they read failed. */
  counts: { ran: number; upToDate: number; failed: number; blocked: number };
  failures: CellFailure[];
  /** The comparison report's location, when merged. */
  report: string | null;
}

/** `ddinit <stage> --config <document>`'s configuration of `run`, or ConfigError naming the run and what its stage rejects. */
export function parseRun(run: Pick<StageRun, 'stage' | 'key' | 'document'>): {
  definition: StageDefinition;
  pipeline: PipelineConfig;
  config: StageConfigBase;
} {
  const definition = stageDefinition(run.stage);
  try {
    const pipeline = PipelineConfigSchema.parse(run.document);
    return { definition, pipeline, config: definition.configFrom(pipeline, run.document, {}) };
  } catch (error) {
    if (!(error instanceof ZodError)) throw error;
    throw new ConfigError(`the study gives the ${run.stage} stage a setting it rejects`, {
      where: `${run.stage} run ${run.key}`,
      expected: `settings \`ddinit ${run.stage}\` accepts`,
      actual: z.prettifyError(error),
      cause: error,
    });
  }
}

/**
 * The runs of the chosen cells (all by default) in plan order, each parsed by its stage.
 * @throws ConfigError for a cell position out of range or a document its stage rejects.
 */
export function prepareRuns(plan: StudyPlan, cells?: readonly number[]): PreparedRun[] {
  const chosen = cells ?? plan.cells.map((_, index) => index);
  for (const index of chosen) {
    if (!Number.isInteger(index) || index < 0 || index >= plan.cells.length) {
      throw new ConfigError('no such cell in the study', { where: 'cell', expected: `a position in [0, ${plan.cells.length - 1}]`, actual: index });
    }
  }
  const cellsOf = new Map<string, number[]>();
  for (const index of chosen) for (const name of plan.cells[index].chain) cellsOf.set(name, [...(cellsOf.get(name) ?? []), index + 1]);
  return plan.runs.filter((run) => cellsOf.has(run.name)).map((run) => ({ run, ...parseRun(run), cells: cellsOf.get(run.name) as number[] }));
}

/**
 * The checks that need no training, before any run starts: every model reference
 * (the init stage's precheck) and every split a run reads (manifest only).
 * @throws ConfigError / DataError naming the model, dataset or split.
 */
async function checkInputs(runs: readonly PreparedRun[], store: StoreOptions): Promise<void> {
  const seen = new Set<string>();
  for (const { definition, config } of runs) {
    if (definition.precheck) await definition.precheck(config, store);
    const { data, split } = definition.dataset(config, store);
    if (seen.has(`${data}\n${split}`)) continue;
    seen.add(`${data}\n${split}`);
    await openInitData({ data, split, store });
  }
}

/** The failure record of `run` from what it threw: a NumericalError is a divergence, at the step its `where` names. */
export function runFailure(run: Pick<StageRun, 'stage' | 'key'>, error: unknown): RunFailure {
  const message = error instanceof Error ? error.message : String(error);
  const diverged = isDdinitError(error) && error.kind === 'numerical';
  const step = diverged ? /^step (\d+)/.exec(error.where ?? '')?.[1] : undefined;
  return { stage: run.stage, key: run.key, kind: diverged ? 'diverged' : 'failed', message, ...(step === undefined ? {} : { step: Number(step) }) };
}

/** One record per cell of `failed` runs (a cell is stopped by the first failed run of its chain). */
function cellFailures(plan: StudyPlan, chosen: readonly PreparedRun[], failed: ReadonlyMap<string, RunFailure>): CellFailure[] {
  const cells = new Set(chosen.flatMap((prepared) => prepared.cells));
  return plan.cells.flatMap((cell, index) => {
    if (!cells.has(index + 1)) return [];
    const first = cell.chain.find((name) => failed.has(name));
    if (first === undefined) return [];
    const { key: _key, ...failure } = failed.get(first) as RunFailure;
    return [{ cellId: cell.id, ...failure }];
  });
}

/** The progress line of a run: the first cell it serves, its stage and key. */
function announce(logger: Logger, prepared: PreparedRun, position: number, total: number, cellCount: number): void {
  const { run, cells } = prepared;
  logger.info(`cell ${cells[0]}/${cellCount} ${run.stage} ${run.key}`, { run: `${position}/${total}`, ...(cells.length > 1 ? { cells } : {}) });
}

/**
 * Runs the study's stage runs (those of `options.cells`, default all) in plan order,
 * then merges (see the module comment).
 * @throws ConfigError / DataError before any run when a document, model or split is bad (exit 2);
 *   BackendError when the backend cannot be selected; StorageError when a failure cannot be recorded.
 */
export async function runStudy(plan: StudyPlan, options: StudyRunOptions): Promise<StudyRunResult> {
  const logger = options.logger ?? silentLogger;
  const store = options.store ?? {};
  const runs = prepareRuns(plan, options.cells);
  await checkInputs(runs, store);
  const backend = backendDescription(await selectBackend(options.backend ?? 'auto', { logger }));
  const context = { backend, logger, progress: options.progress ?? silentProgress, store, signal: options.signal };
  const failed = new Map<string, RunFailure>();
  const blocked = new Set<string>();
  const counts = { ran: 0, upToDate: 0, failed: 0, blocked: 0 };
  for (const [index, prepared] of runs.entries()) {
    const { run } = prepared;
    if (options.signal?.aborted) return { interrupted: true, counts, failures: cellFailures(plan, runs, failed), report: null };
    if (run.upstream !== null && (failed.has(run.upstream) || blocked.has(run.upstream))) {
      blocked.add(run.name);
      counts.blocked += 1;
      logger.info(`skipped ${run.stage} ${run.key}: the run it reads did not finish`, { upstream: run.upstream });
      continue;
    }
    announce(logger, prepared, index + 1, runs.length, plan.cells.length);
    try {
      const outcome = await runStage(prepared.definition, prepared.config, context, prepared.pipeline);
      if (outcome.interrupted) return { interrupted: true, counts, failures: cellFailures(plan, runs, failed), report: null };
      counts[outcome.skipped ? 'upToDate' : 'ran'] += 1;
    } catch (error) {
      // Stopped on purpose: not a result of the cell.
      if (options.signal?.aborted) throw error;
      const failure = runFailure(run, error);
      failed.set(run.name, failure);
      counts.failed += 1;
      logger.warn(`${run.stage} ${run.key} ${failure.kind}; the cells reading it are skipped`, { message: failure.message, location: run.location });
      await options.recorder.writeFailure(run.location, failure, store);
    }
  }
  const failures = cellFailures(plan, runs, failed);
  const merged = options.merge === false ? null : await options.recorder.mergeStudy(plan, { store, logger, failures });
  return { interrupted: false, counts, failures, report: merged?.location ?? null };
}

/** A run's state for `ddinit compare --dry-run`. */
export interface RunStatus {
  run: StageRun;
  cells: number[];
  /** `up to date`: its artifact is there; `to run`: its inputs are, it is not; `waits`: a run it reads is not done. */
  status: 'up to date' | 'to run' | 'waits';
}

/**
 * What `runStudy` would do, changing nothing: each run's state, its configuration hash
 * computed as `runStage` computes it (a run whose input is not there yet waits for it).
 */
export async function studyStatus(plan: StudyPlan, options: { store?: StoreOptions; cells?: readonly number[] } = {}): Promise<RunStatus[]> {
  const store = options.store ?? {};
  const runs = prepareRuns(plan, options.cells);
  const done = new Set<string>();
  const statuses: RunStatus[] = [];
  for (const { run, definition, config, pipeline, cells } of runs) {
    let status: RunStatus['status'] = 'waits';
    if (run.upstream === null || done.has(run.upstream)) {
      status = (await stageStatus(definition, config, store, pipeline)).upToDate ? 'up to date' : 'to run';
    }
    if (status === 'up to date') done.add(run.name);
    statuses.push({ run, cells, status });
  }
  return statuses;
}
