/**
 * The merge of a comparison study (`ddinit compare`, the Workflow's `merge`
 * task): reads what every cell's chain left under the study's `out` and
 * publishes the comparison report at `<out>/reports/<name>` (report.json, report.html;
 * study-report.ts says what it holds).
 *
 * A cell's status:
 * - diverged / failed: a run of its chain failed — reported in this process
 *   (`options.failures`), or recorded as a failure artifact beside the run's
 *   location (`<out>/<key>/<stage>.failure`, {@link writeFailure}; on Argo the
 *   merge runs in another pod and sees only artifacts). A record older than the
 *   run's own artifact is an attempt a retry superseded (records are never
 *   removed): it does not count, and a finished cell gets a note; of the others
 *   the newest counts;
 * - missing: no evaluate artifact and no failure (not run yet, or still running);
 * - done: the evaluate and finetune artifacts are there; their report.json give
 *   the headline metric and the learning curve.
 *
 * Only reads, and one publish through the artifact store: merging twice gives
 * the same report but for `createdAt`.
 */
import { DataError, silentLogger, type Logger } from '@ddinit/core/base';
import type { StoreOptions } from '@ddinit/data/storage';
import { z } from 'zod';
import { CODE_VERSION } from '../stages/code-version';
import { describeArtifact, hashConfig } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { STUDY_STAGES, type StageRun, type StudyCell, type StudyPlan } from './cells';
import { summarizeStudy, type CellFailure, type CellResult, type StudyReport } from './study-report';
import { renderStudyHtml } from './study-report-html';

export type { CellFailure } from './study-report';

export interface MergeOptions {
  store?: StoreOptions;
  logger?: Logger;
  /** What the runner saw in-process; these count whatever artifacts say. */
  failures?: readonly CellFailure[];
  /** The paired differences were taken against another baseline than the study file's (`compare --merge --baseline`): the report goes beside the file's own. */
  rebased?: boolean;
}

/** The one file of a failure artifact. */
export const FAILURE_FILE = 'failure.json';
/** The artifact stage a failure record is published as. */
export const FAILURE_STAGE = 'failure';
/**
 * Where a study's comparison report goes: `<out>/reports/<study name>`, or
 * `<out>/reports/<study name>-vs-<baseline>` for a merge against another baseline than the
 * file's. By name, because studies may share an `out` (a slice of a larger study reuses its
 * cells) and each keeps its own report.
 */
export function reportLocation(study: Pick<StudyPlan['study'], 'out' | 'name' | 'baseline'>, rebased = false): string {
  return `${study.out.replace(/\/+$/, '')}/reports/${study.name}${rebased ? `-vs-${study.baseline}` : ''}`;
}

/** The failure of one stage run: the CellFailure of every cell sharing the run, without cellId but with the run's key. */
export type RunFailure = Omit<CellFailure, 'cellId'> & { key: string };

const RunFailureSchema = z
  .object({
    key: z.string().min(1),
    stage: z.enum(STUDY_STAGES),
    kind: z.enum(['diverged', 'failed']),
    message: z.string(),
    step: z.int().min(0).optional(),
  })
  .strict();

/** Where the failure of the run at `runLocation` is recorded: `<out>/<key>/<stage>.failure`. */
export function failureLocation(runLocation: string): string {
  return `${runLocation.replace(/\/+$/, '')}.failure`;
}

/** The seed token of a run key (`<init>.<model>.s<seed>…`, cells.ts), for the artifact metadata; 0 when it has none. */
function seedOfKey(key: string): number {
  const match = /\.s(\d+)(?:\.|$)/.exec(key);
  return match === null ? 0 : Number(match[1]);
}

/** Publishes the failure of the run at `runLocation` as a small artifact at {@link failureLocation}; returns its URL. */
export async function writeFailure(runLocation: string, failure: RunFailure, store: StoreOptions = {}): Promise<string> {
  const record = RunFailureSchema.parse(failure);
  const location = openArtifactLocation(failureLocation(runLocation), store);
  await location.prepare();
  const files = new Map([[FAILURE_FILE, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`)]]);
  const metadata = describeArtifact(files, {
    stage: FAILURE_STAGE,
    configHash: hashConfig(record),
    seed: seedOfKey(record.key),
    codeVersion: CODE_VERSION,
    backend: 'none',
  });
  await location.publish(files, metadata);
  return location.url;
}

/** A recorded failure and when it was published. */
export type RecordedFailure = RunFailure & { createdAt: string };

/** Parses `bytes` (a report.json or failure.json) with `schema`; DataError naming the file and the first bad field. */
function parseJson<T extends z.ZodType>(schema: T, bytes: Uint8Array, where: string, expected: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new DataError('not JSON', { where, expected, actual: error instanceof Error ? error.message : String(error) });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new DataError(`field ${issue.path.join('.') || '(top level)'} is not what ${expected} holds`, { where, expected, actual: issue.message });
}

/** The failure recorded for the run at `runLocation`, or null when none is. */
export async function readFailure(runLocation: string, store: StoreOptions = {}): Promise<RecordedFailure | null> {
  const location = openArtifactLocation(failureLocation(runLocation), store);
  const metadata = await location.readMetadata();
  if (metadata === null) return null;
  const where = `${location.url}/${FAILURE_FILE}`;
  if (metadata.stage !== FAILURE_STAGE)
    throw new DataError('not a failure record', { where: location.url, expected: `a ${FAILURE_STAGE} artifact`, actual: `a ${metadata.stage} artifact` });
  const failure = parseJson(RunFailureSchema, await location.readFile(FAILURE_FILE, metadata), where, 'a failure record');
  return { ...failure, createdAt: metadata.createdAt };
}

const metricSchema = z.object({ name: z.string().min(1), value: z.number() });

/** The parts of the finetune report.json the merge reads (finetune-report.ts). A non-finite loss is stored as null. */
const FinetuneReportSchema = z.object({
  stage: z.literal('finetune'),
  steps: z.int().min(1),
  curve: z.array(z.object({ step: z.int().min(0), loss: z.number().nullable() })),
  testCurve: z.array(z.object({ step: z.int().min(0), metric: z.string(), value: z.number() })),
});

/** The parts of the evaluate report.json the merge reads (evaluate-report.ts): the head's metrics. */
const EvaluateReportSchema = z.object({
  stage: z.literal('evaluate'),
  head: z.object({ primary: metricSchema, scalars: z.record(z.string(), z.number()) }, 'the head metrics of a fine-tuned network'),
});

/** The finished cell's results from its finetune and evaluate report.json. */
async function readResults(
  finetune: StageRun,
  evaluate: StageRun,
  store: StoreOptions,
): Promise<Pick<CellResult, 'metric' | 'scalars' | 'steps' | 'curve' | 'testCurve'> | 'missing' | 'no finetune'> {
  const tuned = openArtifactLocation(finetune.location, store);
  const evaluated = openArtifactLocation(evaluate.location, store);
  const [tunedMetadata, evaluatedMetadata] = await Promise.all([tuned.readMetadata(), evaluated.readMetadata()]);
  if (evaluatedMetadata === null) return 'missing';
  if (tunedMetadata === null) return 'no finetune';
  const training = parseJson(FinetuneReportSchema, await tuned.readFile('report.json', tunedMetadata), `${tuned.url}/report.json`, 'a finetune report');
  const evaluation = parseJson(
    EvaluateReportSchema,
    await evaluated.readFile('report.json', evaluatedMetadata),
    `${evaluated.url}/report.json`,
    'an evaluate report',
  );
  return {
    metric: evaluation.head.primary,
    scalars: evaluation.head.scalars,
    steps: training.steps,
    curve: training.curve.flatMap((p) => (p.loss === null ? [] : [{ step: p.step, loss: p.loss }])),
    testCurve: training.testCurve,
  };
}

/** A run's failure record, and whether the run's own artifact is newer (a retry that succeeded: the record is stale). */
type FailureState = RecordedFailure & { superseded: boolean };

async function runFailureState(run: StageRun, store: StoreOptions): Promise<FailureState | null> {
  const failure = await readFailure(run.location, store);
  if (failure === null) return null;
  const published = (await openArtifactLocation(run.location, store).readMetadata())?.createdAt;
  return { ...failure, superseded: published !== undefined && Date.parse(published) > Date.parse(failure.createdAt) };
}

const runOf = (runs: ReadonlyMap<string, StageRun>, cell: StudyCell, stage: StageRun['stage']): StageRun | undefined =>
  cell.chain.map((name) => runs.get(name)).find((run) => run?.stage === stage);

/** One cell's status and results (see the module comment for the rules). */
async function collectCell(
  cell: StudyCell,
  runs: ReadonlyMap<string, StageRun>,
  recorded: ReadonlyMap<string, FailureState>,
  reported: CellFailure | undefined,
  store: StoreOptions,
): Promise<CellResult> {
  const empty = { id: cell.id, axes: cell.axes, metric: null, scalars: {}, steps: null, curve: [], testCurve: [], detail: null };
  if (reported !== undefined) {
    const { cellId: _cellId, ...failure } = reported;
    return { ...empty, status: reported.kind, failure };
  }
  const [finetune, evaluate] = [runOf(runs, cell, 'finetune'), runOf(runs, cell, 'evaluate')];
  if (finetune === undefined || evaluate === undefined)
    throw new DataError('the plan has no finetune or evaluate run for the cell', { where: `cell ${cell.id}` });
  // Newest first: records are never removed, and an attempt stops at its first failed run.
  const failures = cell.chain.flatMap((name) => recorded.get(name) ?? []).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const current = failures.find((f) => !f.superseded);
  if (current !== undefined) {
    const { key: _key, createdAt: _createdAt, superseded: _superseded, ...failure } = current;
    return { ...empty, status: failure.kind, failure };
  }
  const results = await readResults(finetune, evaluate, store);
  if (results === 'missing') return { ...empty, status: 'missing', failure: null, detail: null };
  if (results === 'no finetune') {
    return { ...empty, status: 'missing', failure: null, detail: `the evaluate artifact is there but not the finetune artifact at ${finetune.location}` };
  }
  const superseded = failures.at(0);
  const detail =
    superseded === undefined
      ? null
      : `an earlier attempt of the ${superseded.stage} stage ${superseded.kind} (${superseded.createdAt}); the run's newer artifact counts`;
  return { ...empty, ...results, status: 'done', failure: null, detail };
}

/** `work` on every item, at most `limit` at once (S3 reads overlap; results in order). */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads each cell's finetune and evaluate artifacts under plan.study.out, writes
 * the report artifact at {@link reportLocation} (report.json, report.html) atomically
 * through the artifact store; returns it.
 * @throws DataError (exit 2) when a report.json or failure record is not what the stage writes;
 *   ConfigError when that location holds files ddinit did not write; StorageError when the store fails.
 */
export async function mergeStudy(plan: StudyPlan, options: MergeOptions = {}): Promise<{ location: string; report: StudyReport }> {
  const logger = options.logger ?? silentLogger;
  const store = { ...options.store, logger };
  const runs = new Map(plan.runs.map((run) => [run.name, run]));
  const failures = await mapLimit(plan.runs, 8, async (run) => [run.name, await runFailureState(run, store)] as const);
  const recorded = new Map(failures.flatMap(([name, failure]) => (failure === null ? [] : [[name, failure] as const])));
  const reported = new Map([...(options.failures ?? [])].reverse().map((failure) => [failure.cellId, failure]));
  const cells = await mapLimit(plan.cells, 8, (cell) => collectCell(cell, runs, recorded, reported.get(cell.id), store));
  const report = summarizeStudy(plan.study, cells, { codeVersion: CODE_VERSION, createdAt: new Date().toISOString() });
  const location = openArtifactLocation(reportLocation(plan.study, options.rebased), store);
  await location.prepare();
  const files = new Map([
    ['report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`)],
    ['report.html', new TextEncoder().encode(renderStudyHtml(report))],
  ]);
  // The merge's result is a function of its inputs: the report without its time identifies them.
  const configHash = hashConfig({ ...report, createdAt: null });
  await location.publish(files, describeArtifact(files, { stage: 'compare', configHash, seed: 0, codeVersion: CODE_VERSION, backend: 'none' }));
  logger.info('comparison report published', { out: location.url, cells: report.counts.cells, done: report.counts.done, notes: report.notes.length });
  return { location: location.url, report };
}
