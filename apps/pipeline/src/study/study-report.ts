/**
 * The comparison report of a study (`<out>/reports/<name>/report.json`, docs/report.md
 * "Comparison report"): one row per cell as the merge read it, and the pure
 * summary over them — per configuration (every axis but the seed) the mean and
 * sample std over seeds of the final metric and of the smoothed training loss
 * after 25 %, 50 % and 100 % of the budget; paired differences against the
 * baseline initialization with a 95 % t-interval; a ranking within each (model,
 * pretraining, labels) group; a note for every cell that diverged, failed or is
 * missing. Every head's headline metric (top1, mAP, mIoU) is higher-is-better.
 */
import { listCells, type CellAxes, type StudyStage } from './cells';
import { mergeDocument } from './stage-documents';
import type { StudyConfig } from './study-config';
import { lossAfter, mean, meanLossCurve, sampleStd, smoothingWindow, tInterval, thin, type LossCurve, type TInterval } from './study-statistics';

/** A stage run that did not finish: diverged (a non-finite loss, a result) or failed (an error). */
export interface CellFailure {
  cellId: string;
  stage: StudyStage;
  kind: 'diverged' | 'failed';
  message: string;
  /** The training step it happened at, when known. */
  step?: number;
}

export type CellStatus = 'done' | 'diverged' | 'failed' | 'missing';

/** One cell as the merge found it. */
export interface CellResult {
  id: string;
  axes: CellAxes;
  status: CellStatus;
  /** What stopped the chain (status diverged or failed), else null. */
  failure: Omit<CellFailure, 'cellId'> | null;
  /** The evaluate report's headline metric of the head (status done), else null. */
  metric: { name: string; value: number } | null;
  /** Every scalar metric of the head (empty unless done). */
  scalars: Record<string, number>;
  /** The finetune run's steps (null unless done). */
  steps: number | null;
  /** The finetune report's batch loss per step (steps from 0); in report.json thinned to at most {@link CURVE_POINTS} points. */
  curve: { step: number; loss: number }[];
  /** The finetune report's test metric every `testEvery` steps. */
  testCurve: { step: number; metric: string; value: number }[];
  /** Why a cell is missing, or what else the merge noticed (an earlier failed attempt superseded by a newer result). */
  detail: string | null;
}

/** A cell row of the report: the cell and the configuration it belongs to. */
export interface CellRow extends CellResult {
  configuration: string;
}

export interface LossAtSummary {
  /** Fraction of the budget and the step count k it gives. */
  fraction: number;
  steps: number;
  /** Mean and sample std over the seeds with a loss there (null std: one seed; null mean: none). */
  mean: number | null;
  std: number | null;
  n: number;
}

/** The seeds of one configuration: every axis but the seed. */
export interface ConfigurationSummary {
  /** The cell id without its seed token, e.g. `glorot-uniform.caffenet-small.none.nall`. */
  id: string;
  init: CellAxes['init'];
  model: string;
  pretrain: CellAxes['pretrain'];
  labelsPerClass: number | null;
  /** The (model, pretrain, labels) group it is ranked in. */
  group: string;
  counts: Record<CellStatus, number>;
  /** The headline metric over the finished seeds (null: none finished). */
  metric: { name: string; mean: number; std: number | null; n: number; values: { seed: number; value: number }[] } | null;
  lossAt: LossAtSummary[];
  /** Mean training loss over the finished seeds per step, smoothed over `smoothing.window` (the figure's line). */
  meanCurve: [number, number][];
}

export interface PairedDifference {
  configuration: string;
  baseline: string;
  metric: string;
  /** metric(configuration, seed) − metric(baseline, seed) for each seed where both finished. */
  differences: { seed: number; value: number }[];
  n: number;
  mean: number | null;
  std: number | null;
  /** The 95 % t-interval of the mean difference; null below two pairs. */
  interval: TInterval | null;
}

export interface GroupRanking {
  group: string;
  model: string;
  pretrain: CellAxes['pretrain'];
  labelsPerClass: number | null;
  /** Best first by mean final metric; equal means share a rank; configurations without a finished seed last, rank null. */
  entries: { rank: number | null; configuration: string; init: CellAxes['init']; mean: number | null; std: number | null; n: number }[];
}

export interface StudyNote {
  kind: 'diverged' | 'failed' | 'missing' | 'superseded' | 'no-interval' | 'no-result';
  /** The cell or configuration it is about. */
  subject: string;
  message: string;
}

export interface StudyReport {
  schemaVersion: 1;
  stage: 'compare';
  /** The study as merged, every default written out (without its kubernetes section). */
  study: Record<string, unknown>;
  baseline: string;
  /** The headline metric's name (null: no cell finished). */
  metric: string | null;
  /** How the loss after k steps is smoothed: the mean batch loss of steps k − window … k − 1. */
  smoothing: { window: number; fractions: number[] };
  counts: Record<CellStatus, number> & { cells: number };
  cells: CellRow[];
  configurations: ConfigurationSummary[];
  paired: PairedDifference[];
  ranking: GroupRanking[];
  notes: StudyNote[];
  codeVersion: string;
  createdAt: string;
}

/** Points of a curve in report.json (a cell's, a configuration's mean): enough for a figure, a bounded file for a large study. */
export const CURVE_POINTS = 300;

/** The budget fractions the loss is reported after. */
export const LOSS_FRACTIONS = [0.25, 0.5, 1] as const;

const STATUSES: readonly CellStatus[] = ['done', 'diverged', 'failed', 'missing'];
const countStatuses = (cells: readonly CellResult[]): Record<CellStatus, number> =>
  Object.fromEntries(STATUSES.map((s) => [s, cells.filter((c) => c.status === s).length])) as Record<CellStatus, number>;

/** Configuration and group ids of each cell id: its tokens without the seed, and without init and seed. */
function configurationIds(study: StudyConfig): Map<string, { configuration: string; group: string }> {
  return new Map(
    listCells(study).map(({ id, tokens: [init, model, , pretrain, labels] }) => [
      id,
      { configuration: [init, model, pretrain, labels].join('.'), group: [model, pretrain, labels].join('.') },
    ]),
  );
}

/** Items grouped by key, groups in order of first appearance (Map.groupBy needs Node 21). */
function groupBy<T>(items: readonly T[], key: (item: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const members = groups.get(key(item));
    if (members === undefined) groups.set(key(item), [item]);
    else members.push(item);
  }
  return [...groups];
}

function summarizeConfiguration(id: string, group: string, cells: readonly CellRow[], budget: number, window: number): ConfigurationSummary {
  const { init, model, pretrain, labelsPerClass } = cells[0].axes;
  const done = cells.filter((c) => c.status === 'done' && c.metric !== null);
  const values = done.map((c) => ({ seed: c.axes.seed, value: (c.metric as { value: number }).value }));
  const metric =
    done.length === 0
      ? null
      : {
          name: (done[0].metric as { name: string }).name,
          mean: mean(values.map((v) => v.value)),
          std: sampleStd(values.map((v) => v.value)),
          n: values.length,
          values,
        };
  const lossAt = LOSS_FRACTIONS.map((fraction) => {
    const k = Math.max(1, Math.round(fraction * budget));
    const losses = done.map((c) => lossAfter(c.curve, k, window)).filter((v): v is number => v !== null);
    return { fraction, steps: k, mean: losses.length === 0 ? null : mean(losses), std: sampleStd(losses), n: losses.length };
  });
  const meanCurve = meanLossCurve(
    done.map((c): LossCurve => c.curve),
    window,
    CURVE_POINTS,
  );
  return { id, init, model, pretrain, labelsPerClass, group, counts: countStatuses(cells), metric, lossAt, meanCurve };
}

function pairedDifference(configuration: ConfigurationSummary, baseline: ConfigurationSummary, metric: string): PairedDifference {
  const base = new Map((baseline.metric?.values ?? []).map((v) => [v.seed, v.value]));
  const differences = (configuration.metric?.values ?? []).flatMap((v) =>
    base.has(v.seed) ? [{ seed: v.seed, value: v.value - (base.get(v.seed) as number) }] : [],
  );
  const values = differences.map((d) => d.value);
  return {
    configuration: configuration.id,
    baseline: baseline.id,
    metric,
    differences,
    n: values.length,
    mean: values.length === 0 ? null : mean(values),
    std: sampleStd(values),
    interval: tInterval(values, 0.95),
  };
}

function rankGroup(group: string, members: readonly ConfigurationSummary[]): GroupRanking {
  const sorted = [...members].sort((a, b) => (b.metric?.mean ?? Number.NEGATIVE_INFINITY) - (a.metric?.mean ?? Number.NEGATIVE_INFINITY));
  const entries = sorted.map((c) => ({
    rank: null as number | null,
    configuration: c.id,
    init: c.init,
    mean: c.metric?.mean ?? null,
    std: c.metric?.std ?? null,
    n: c.metric?.n ?? 0,
  }));
  entries.forEach((entry, i) => {
    if (entry.mean === null) return;
    entry.rank = i > 0 && entries[i - 1].mean === entry.mean ? entries[i - 1].rank : i + 1;
  });
  const { model, pretrain, labelsPerClass } = members[0];
  return { group, model, pretrain, labelsPerClass, entries };
}

function cellNotes(cells: readonly CellRow[]): StudyNote[] {
  return cells.flatMap((cell): StudyNote[] => {
    const f = cell.failure;
    if (f !== null && cell.status !== 'done') {
      const at = f.step === undefined ? '' : ` at step ${f.step}`;
      return [{ kind: f.kind, subject: cell.id, message: `the ${f.stage} stage ${f.kind === 'diverged' ? 'diverged' : 'failed'}${at}: ${f.message}` }];
    }
    if (cell.status === 'missing')
      return [{ kind: 'missing', subject: cell.id, message: cell.detail ?? 'no evaluate artifact yet (not run, or still running)' }];
    return cell.detail === null ? [] : [{ kind: 'superseded', subject: cell.id, message: cell.detail }];
  });
}

function pairedNotes(paired: readonly PairedDifference[]): StudyNote[] {
  return paired.flatMap((p): StudyNote[] =>
    p.n >= 2
      ? []
      : [
          {
            kind: 'no-interval',
            subject: p.configuration,
            message:
              p.n === 1
                ? `one seed finished for both it and ${p.baseline}: the difference has no interval`
                : `no seed finished for both it and ${p.baseline}: no paired difference`,
          },
        ],
  );
}

/**
 * The report over `cells` (one per cell of the study, any order): configurations
 * in the order of the study's cells, paired differences of every non-baseline
 * configuration against the baseline's of its group, the ranking per group, notes.
 */
export function summarizeStudy(study: StudyConfig, cells: readonly CellResult[], stamp: { codeVersion: string; createdAt: string }): StudyReport {
  const ids = configurationIds(study);
  const order = new Map(listCells(study).map((cell, i) => [cell.id, i]));
  const rows: CellRow[] = [...cells]
    .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
    .map((cell) => ({ ...cell, configuration: ids.get(cell.id)?.configuration ?? cell.id }));
  // Statistics use the whole curves; the rows keep a thinned copy, the whole one stays in each cell's finetune report.
  const published = rows.map((row) => ({ ...row, curve: thin(row.curve, CURVE_POINTS) }));
  const window = smoothingWindow(study.budget.steps);
  const byConfiguration = groupBy(rows, (row) => row.configuration);
  const configurations = byConfiguration.map(([id, members]) =>
    summarizeConfiguration(id, ids.get(members[0].id)?.group ?? id, members, study.budget.steps, window),
  );
  const metric = configurations.find((c) => c.metric !== null)?.metric?.name ?? null;
  const baselineOf = (c: ConfigurationSummary) => configurations.find((b) => b.group === c.group && b.init === study.baseline);
  const paired = configurations.flatMap((c) => {
    const baseline = baselineOf(c);
    return c.init === study.baseline || baseline === undefined ? [] : [pairedDifference(c, baseline, metric ?? '')];
  });
  const ranking = groupBy(configurations, (c) => c.group).map(([group, members]) => rankGroup(group, members));
  const unranked = configurations
    .filter((c) => c.metric === null)
    .map((c) => ({ kind: 'no-result' as const, subject: c.id, message: 'no seed finished: not ranked' }));
  return {
    schemaVersion: 1,
    stage: 'compare',
    study: mergeDocument(study),
    baseline: study.baseline,
    metric,
    smoothing: { window, fractions: [...LOSS_FRACTIONS] },
    counts: { cells: rows.length, ...countStatuses(rows) },
    cells: published,
    configurations,
    paired,
    ranking,
    notes: [...cellNotes(rows), ...unranked, ...pairedNotes(paired)],
    codeVersion: stamp.codeVersion,
    createdAt: stamp.createdAt,
  };
}
