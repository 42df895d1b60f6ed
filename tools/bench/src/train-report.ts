/**
 * Printing the pretext training-step benchmark: one table of medians with
 * PyTorch beside, the ratio and data-wait lines against the targets,
 * and one JSON line per row for scripts.
 */
import type { TrainedStep } from '@ddinit/train';
import type { BatchBuilding, DataSource } from './train-options';
import { median } from './step-workload';

/** The targets: the step at most 1.5× PyTorch's, data wait at most 5 % of step time. */
export const TARGET_TORCH_RATIO = 1.5;
export const TARGET_WAIT_SHARE = 0.05;

export interface TrainRow {
  workload: string;
  source: DataSource;
  /** Where the batches were built: the training thread or a batch worker. */
  batches: BatchBuilding;
  backend: string;
  images: number;
  /** Network inputs per step. */
  inputs: number;
  /** Timed steps (after the warm-up). */
  steps: number;
  /** Median time of the training step itself (Trainer.runStep) over the timed steps. */
  stepMs: number;
  /** Σ wait / Σ (wait + step) over the timed steps. */
  waitShare: number;
  /** The same over every step of the run, warm-up included (what `TrainResult.dataWaitShare` reports). */
  runWaitShare: number;
  medianWaitMs: number;
  maxWaitMs: number;
  /** The step (0-based, warm-up counted) that waited longest. */
  maxWaitStep: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** PyTorch's median step on the same workload (null when PyTorch is absent, off, or has no mirror of it). */
  torchStepMs: number | null;
}

/** Σ wait / Σ (wait + step) of `steps` (0 for none). */
export function waitShare(steps: Pick<TrainedStep, 'waitMs' | 'stepMs'>[]): number {
  const wait = steps.reduce((a, s) => a + s.waitMs, 0);
  const total = wait + steps.reduce((a, s) => a + s.stepMs, 0);
  return total > 0 ? wait / total : 0;
}

/** A row's timing fields from a run's steps, the first `warmup` left out of the timed figures. */
export function summarizeSteps(
  steps: Pick<TrainedStep, 'step' | 'waitMs' | 'stepMs'>[],
  warmup: number,
): Pick<TrainRow, 'steps' | 'stepMs' | 'waitShare' | 'runWaitShare' | 'medianWaitMs' | 'maxWaitMs' | 'maxWaitStep'> {
  const timed = steps.slice(warmup);
  if (timed.length === 0) throw new Error(`no timed steps: the run made ${steps.length} steps, ${warmup} of them warm-up`);
  const longest = timed.reduce((a, b) => (b.waitMs > a.waitMs ? b : a));
  return {
    steps: timed.length,
    stepMs: median(timed.map((s) => s.stepMs)),
    waitShare: waitShare(timed),
    runWaitShare: waitShare(steps),
    medianWaitMs: median(timed.map((s) => s.waitMs)),
    maxWaitMs: longest.waitMs,
    maxWaitStep: longest.step,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [pad(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(pad)].join('\n');
}

const percent = (v: number) => `${(v * 100).toFixed(1)} %`;
/** `a ÷ b` as `1.23×`, or `—` without `b`. */
export const ratio = (a: number, b: number | null): string => (b === null ? '—' : `${(a / b).toFixed(2)}×`);

/** One row per workload × data source. */
export function formatTrainTable(rows: TrainRow[]): string {
  return table(
    [
      'workload',
      'data',
      'batches',
      'images (inputs)',
      'backend',
      'step ms',
      'torch step ms',
      'step ÷ torch',
      'data wait',
      'wait incl. warm-up',
      'wait ms median/max (step)',
      'tensors',
    ],
    rows.map((r) => [
      r.workload,
      r.source,
      r.batches,
      `${r.images} (${r.inputs})`,
      r.backend,
      r.stepMs.toFixed(0),
      r.torchStepMs === null ? '—' : r.torchStepMs.toFixed(0),
      ratio(r.stepMs, r.torchStepMs),
      percent(r.waitShare),
      percent(r.runWaitShare),
      `${r.medianWaitMs.toFixed(1)}/${r.maxWaitMs.toFixed(0)} (${r.maxWaitStep})`,
      `${r.tensorsBefore}→${r.tensorsAfter}`,
    ]),
  );
}

/** Each row against the targets: the step ratio to PyTorch and the data-wait share. */
export function formatTargets(rows: TrainRow[]): string[] {
  return rows.flatMap((r) => {
    const lines: string[] = [];
    if (r.torchStepMs !== null) {
      const met = r.stepMs / r.torchStepMs <= TARGET_TORCH_RATIO ? 'met' : 'NOT met';
      lines.push(
        `${r.workload} (${r.source}, ${r.batches}): step ÷ PyTorch step = ${ratio(r.stepMs, r.torchStepMs)} (target ≤ ${TARGET_TORCH_RATIO}×: ${met})`,
      );
    }
    const met = r.waitShare <= TARGET_WAIT_SHARE ? 'met' : 'NOT met';
    lines.push(
      `${r.workload} (${r.source}, ${r.batches}): data wait ${percent(r.waitShare)} of step time over ${r.steps} timed steps (target ≤ ${percent(TARGET_WAIT_SHARE)}: ${met})`,
    );
    return lines;
  });
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** One JSON object per row (milliseconds to 0.001, shares to 1e-3). */
export function formatTrainJsonLines(rows: TrainRow[]): string[] {
  return rows.map((r) =>
    JSON.stringify({
      workload: r.workload,
      source: r.source,
      batches: r.batches,
      backend: r.backend,
      images: r.images,
      inputs: r.inputs,
      steps: r.steps,
      stepMs: round3(r.stepMs),
      torchStepMs: r.torchStepMs === null ? null : round3(r.torchStepMs),
      waitShare: round3(r.waitShare),
      runWaitShare: round3(r.runWaitShare),
      maxWaitMs: round3(r.maxWaitMs),
      maxWaitStep: r.maxWaitStep,
    }),
  );
}
