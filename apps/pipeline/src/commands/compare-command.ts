/**
 * `ddinit compare`: the initialization comparison study on this machine — every
 * cell's chain init → [pretrain] → finetune → evaluate, then the comparison report.
 *
 *   ddinit compare [--config study.yaml] [--out artifacts/study] [--dry-run]
 *   ddinit compare --merge [--config study.yaml]       the report only (the Argo merge step)
 *   ddinit compare --indexed --config study.yaml       one cell group of an Indexed Job (k8s/study-sweep.ts)
 *
 * Runs found up to date (same configuration hash) are reused, so the same command
 * resumes an interrupted study or extends one given a new value on an axis. A
 * diverged run is a result (noted in the report, exit 0); a run that fails otherwise
 * is noted too, and the command exits 1 after writing the report.
 */
import type { BackendChoice } from '@ddinit/core/backend';
import { Command, Option } from 'commander';
import { INITIALIZATIONS, type Initialization } from '../config/initializations';
import { BACKEND_CHOICES } from '../config/pipeline-config';
import { completionIndexFromEnv, COMPLETION_INDEX_ENV } from '../k8s/sweep';
import { cellsOfGroup } from '../k8s/study-sweep';
import { createConsoleObservers, createResultPrinter, defaultLogLevel, type ConsoleObservers, type LogFormat } from '../observe/console-observers';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { planStudy, STUDY_STAGES, type StudyPlan, type StudyStage } from '../study/cells';
import { loadStudyConfig } from '../study/load-study';
import type { RunStatus, StudyRunResult } from '../study/study-runner';
import { parseNumber } from './number-flag';
import { processIo, runStageCommand, type StageCommandIo } from './stage-command';

interface CompareFlags {
  config?: string;
  out?: string;
  merge?: boolean;
  dryRun?: boolean;
  group?: number;
  indexed?: boolean;
  baseline?: Initialization;
  backend?: BackendChoice;
  logFormat: LogFormat;
}

/** main.ts lists the same words (main.spec checks), without loading this module. */
const STUDY_RUN_SUMMARY =
  "run one stage run of a study as `ddinit <stage>` does, recording a failure beside its output for the merge (the Argo Workflow's stage tasks)";

const COMPARE_SUMMARY =
  'the initialization comparison study: every cell (init × model × seed × labels × pretraining) initialized, fine-tuned and evaluated, then a report comparing them; reuses finished runs';

/** The cell positions the flags choose: a group (`--group`, or `--indexed`: the pod's completion index), or every cell. */
function chosenCells(plan: StudyPlan, flags: CompareFlags, io: StageCommandIo): number[] | undefined {
  if (flags.indexed === true) return cellsOfGroup(plan, completionIndexFromEnv(io.env), COMPLETION_INDEX_ENV);
  return flags.group === undefined ? undefined : cellsOfGroup(plan, flags.group, '--group');
}

/** `--dry-run`: each cell's chain with the state of every run (nothing is written). */
function describeStatus(plan: StudyPlan, statuses: readonly RunStatus[]): { text: string; json: Record<string, unknown> } {
  const byName = new Map(statuses.map((status) => [status.run.name, status]));
  const cells = plan.cells.filter((cell) => byName.has(cell.chain[0]));
  const lines = cells.flatMap((cell) => [
    `${plan.cells.indexOf(cell) + 1}/${plan.cells.length} ${cell.id}`,
    ...cell.chain.map((name) => {
      const { run, status } = byName.get(name) as RunStatus;
      return `  ${run.stage.padEnd(9)} ${status.padEnd(10)} ${run.location}`;
    }),
  ]);
  const count = (status: RunStatus['status']) => statuses.filter((s) => s.status === status).length;
  const summary = `${cells.length} cells, ${statuses.length} stage runs: ${count('up to date')} up to date, ${count('to run')} to run, ${count('waits')} waiting for a run they read`;
  return {
    text: `${lines.join('\n')}\n${summary}`,
    json: {
      cells: cells.map((cell) => cell.id),
      runs: statuses.map(({ run, status }) => ({ stage: run.stage, key: run.key, location: run.location, status })),
    },
  };
}

function describeRun(result: StudyRunResult, cellCount: number): { text: string; json: Record<string, unknown> } {
  const { ran, upToDate, failed, blocked } = result.counts;
  const diverged = result.failures.filter((failure) => failure.kind === 'diverged').length;
  const text =
    `study: ${cellCount} cells, ${ran} stage runs done, ${upToDate} up to date, ${failed} failed (${diverged} cells diverged), ${blocked} skipped` +
    (result.report === null ? '' : ` → ${result.report}`);
  return { text, json: { report: result.report, counts: result.counts, failures: result.failures } };
}

/** Runs the study with SIGTERM wired to a stop after the current step; the result printed, failures turned into exit 1. */
async function runCompare(plan: StudyPlan, flags: CompareFlags, observers: ConsoleObservers, io: StageCommandIo): Promise<void> {
  const cells = chosenCells(plan, flags, io);
  const [{ runStudy }, recorder] = await Promise.all([import('../study/study-runner'), import('../study/study-merge')]);
  const stop = new AbortController();
  const onTerm = (): void => stop.abort();
  process.once('SIGTERM', onTerm);
  try {
    const result = await runStudy(plan, { ...observers, backend: flags.backend, signal: stop.signal, cells, merge: cells === undefined, recorder });
    if (result.interrupted) throw new Error('stopped on SIGTERM after writing a checkpoint; run the same command again to resume from it');
    observers.close();
    createResultPrinter(flags.logFormat, io.stdout).print(describeRun(result, cells?.length ?? plan.cells.length));
    const failed = result.failures.filter((failure) => failure.kind === 'failed');
    if (failed.length > 0) {
      throw new Error(
        `${failed.length} cells failed (first: ${failed[0].cellId}, ${failed[0].stage}: ${failed[0].message}); every failure is recorded beside its run's output`,
      );
    }
  } finally {
    process.off('SIGTERM', onTerm);
  }
}

async function compare(flags: CompareFlags, io: StageCommandIo): Promise<void> {
  const plan = planStudy(loadStudyConfig(flags.config, { out: flags.out, baseline: flags.baseline }));
  const observers = (io.observers ?? ((format) => createConsoleObservers({ format, stream: io.stderr, level: defaultLogLevel(io.env) })))(flags.logFormat);
  try {
    if (flags.merge === true) {
      const { mergeStudy } = await import('../study/study-merge');
      const { location } = await mergeStudy(plan, { logger: observers.logger, rebased: flags.baseline !== undefined });
      observers.close();
      createResultPrinter(flags.logFormat, io.stdout).print({ text: `comparison report → ${location}`, json: { report: location } });
    } else if (flags.dryRun === true) {
      const { studyStatus } = await import('../study/study-runner');
      const statuses = await studyStatus(plan, { cells: chosenCells(plan, flags, io) });
      createResultPrinter(flags.logFormat, io.stdout).print(describeStatus(plan, statuses));
    } else {
      await runCompare(plan, flags, observers, io);
    }
  } finally {
    observers.close();
  }
}

interface StudyRunFlags {
  stage: StudyStage;
  key: string;
  config: string;
  backend?: BackendChoice;
  logFormat: LogFormat;
}

/**
 * `ddinit study-run`: one stage run of a study, exactly as `ddinit <stage> --config <its document>`,
 * and when it fails, its failure recorded beside its output for the merge (a divergence is a
 * result the report notes) before the command fails as the stage would (exit 1 or 2).
 * A SIGTERM stop is no failure: nothing is recorded.
 */
async function studyRun(flags: StudyRunFlags, io: StageCommandIo): Promise<void> {
  const document = readPipelineDocument(flags.config);
  const [{ parseRun, runFailure }, { writeFailure }] = await Promise.all([import('../study/study-runner'), import('../study/study-merge')]);
  const { definition, pipeline, config } = parseRun({ stage: flags.stage, key: flags.key, document });
  let terminated = false;
  const onTerm = (): void => {
    terminated = true;
  };
  process.once('SIGTERM', onTerm);
  try {
    await runStageCommand(definition, config, { logFormat: flags.logFormat, backend: flags.backend ?? pipeline.backend, pipeline }, io);
  } catch (error) {
    if (!terminated) await writeFailure(config.out, runFailure({ stage: flags.stage, key: flags.key }, error));
    throw error;
  } finally {
    process.off('SIGTERM', onTerm);
  }
}

export function registerCompareCommand(program: Command, io: StageCommandIo = processIo): void {
  program
    .command('study-run')
    .description(STUDY_RUN_SUMMARY)
    .addOption(new Option('--stage <stage>', 'the stage of the run').choices(STUDY_STAGES).makeOptionMandatory())
    .requiredOption('--key <key>', "the run's key, the prefix of the cell ids it serves (e.g. he-normal.caffenet-small.s1)")
    .requiredOption('--config <file>', "the run's pipeline config, as `ddinit <stage> --config` reads it")
    .addOption(new Option('--backend <backend>', 'tfjs backend (default: the config’s)').choices(BACKEND_CHOICES))
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .action((flags: StudyRunFlags) => studyRun(flags, io));

  program
    .command('compare')
    .description(COMPARE_SUMMARY)
    .option('--config <file>', 'study config, YAML or JSON (default: the default study, 3 initializations × 2 seeds on the embedded data; see docs/cli.md)')
    .option('--out <location>', "the study's root directory or s3://bucket/prefix (default: the config's out, artifacts/study)")
    .option('--dry-run', 'list the cells and their stage runs, each up to date, to run, or waiting for a run it reads; run nothing')
    .addOption(
      new Option('--merge', 'only write the comparison report from the runs there are (the Argo Workflow’s merge step)').conflicts([
        'dryRun',
        'group',
        'indexed',
      ]),
    )
    .addOption(
      new Option('--group <index>', 'only the cells reading the index-th init run, 0-based (see `ddinit k8s render --sweep --study`); no report')
        .argParser(parseNumber('--group', true))
        .conflicts('indexed'),
    )
    .option('--indexed', `like --group, the group of this pod's ${COMPLETION_INDEX_ENV} (inside the study's Indexed Job)`)
    .addOption(
      new Option(
        '--baseline <init>',
        "with --merge: take the paired differences against this initialization (on the study's init axis); the report goes to <out>/reports/<name>-vs-<init>, beside the study's own",
      )
        .choices(INITIALIZATIONS)
        .implies({ merge: true }),
    )
    .addOption(new Option('--backend <backend>', 'tfjs backend (default auto)').choices(BACKEND_CHOICES))
    .addOption(new Option('--log-format <format>', 'progress bars on a terminal, JSON lines otherwise').choices(['auto', 'pretty', 'json']).default('auto'))
    .addHelpText(
      'after',
      '\nExit codes: 0 every cell finished or diverged (a divergence is a result in the report); 1 a run failed otherwise (the report notes it)' +
        ' or SIGTERM stopped the study (run it again to resume); 2 bad study, model or data, found before anything runs.\n' +
        '\nExample:\n  ddinit compare --config study.yaml --dry-run\n',
    )
    .action((flags: CompareFlags) => compare(flags, io));
}
