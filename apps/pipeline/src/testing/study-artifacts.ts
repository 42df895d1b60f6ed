/**
 * Hand-made finetune and evaluate artifacts of a study cell, published through
 * the artifact store where the study's runs would write them, for specs of the
 * merge (not measured results: the numbers are chosen so the statistics have
 * known answers).
 */
import type { StoreOptions } from '@ddinit/data/storage';
import type { StageRun, StudyCell, StudyPlan } from '../study/cells';
import { describeArtifact } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';

/** What a cell's hand-made results are: the headline metric, and a loss falling linearly from `loss0` by `slope` per step. */
export interface CellOutcome {
  top1: number;
  loss0: number;
  slope: number;
  steps: number;
}

/** The run of `stage` in `cell`'s chain. */
export function runOfCell(plan: StudyPlan, cell: StudyCell, stage: StageRun['stage']): StageRun {
  const run = plan.runs.find((r) => r.stage === stage && cell.chain.includes(r.name));
  if (run === undefined) throw new Error(`no ${stage} run in the chain of ${cell.id}`);
  return run;
}

async function publishReport(location: string, stage: string, report: Record<string, unknown>, seed: number, store: StoreOptions): Promise<void> {
  const out = openArtifactLocation(location, store);
  await out.prepare();
  const files = new Map([['report.json', new TextEncoder().encode(JSON.stringify(report))]]);
  await out.publish(files, describeArtifact(files, { stage, configHash: `${stage}-${seed}`, seed, codeVersion: 'spec', backend: 'cpu' }));
}

/** Publishes the cell's finetune report (curve, test curve) and evaluate report (head metrics) as the stages shape them. */
export async function publishCellResults(
  plan: StudyPlan,
  cell: StudyCell,
  outcome: CellOutcome,
  options: { evaluateReport?: Record<string, unknown>; store?: StoreOptions } = {},
): Promise<void> {
  const { evaluateReport, store = {} } = options;
  const seed = cell.axes.seed;
  const curve = Array.from({ length: outcome.steps }, (_, step) => ({ step, loss: outcome.loss0 - outcome.slope * step, accuracy: null, learningRate: 0.01 }));
  const primary = { name: 'top1', value: outcome.top1 };
  await publishReport(
    runOfCell(plan, cell, 'finetune').location,
    'finetune',
    {
      schemaVersion: 1,
      stage: 'finetune',
      task: 'classify',
      steps: outcome.steps,
      curve,
      testCurve: [{ step: outcome.steps / 2, metric: 'top1', value: outcome.top1 / 2 }],
      test: { primary },
    },
    seed,
    store,
  );
  await publishReport(
    runOfCell(plan, cell, 'evaluate').location,
    'evaluate',
    evaluateReport ?? {
      schemaVersion: 1,
      stage: 'evaluate',
      task: 'classify',
      head: { split: 'test', examples: 100, primary, scalars: { top1: outcome.top1, examples: 100 } },
    },
    seed,
    store,
  );
}
