/**
 * The PyTorch side of the pretext training-step benchmark: runs
 * tools/bench/torch/train.py (the workloads rebuilt with torch.nn, same layer
 * shapes, same optimizer) and checks what it prints. Finding PyTorch is
 * step-torch.ts's.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResultLines, runTorchScript, type FieldChecks, type TorchRunOptions } from './step-torch';

export const TORCH_TRAIN_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../torch/train.py');

/** One line of train.py's output. */
export interface TorchTrainResult {
  workload: string;
  /** Dataset images per step. */
  images: number;
  /** Network inputs per step. */
  inputs: number;
  stepMs: number;
  /** Median process CPU time of a step (all threads), ms. */
  cpuMs: number;
  threads: number;
  /** torch.__version__. */
  torch: string;
  /** Parameter count (equal to the tfjs pretext model's countParams()). */
  params: number;
}

const positiveInteger: [string, (v: unknown) => boolean] = ['a positive integer', (v) => Number.isInteger(v) && (v as number) > 0];
const nonEmpty: [string, (v: unknown) => boolean] = ['a non-empty string', (v) => typeof v === 'string' && v.length > 0];

const FIELD_CHECKS: FieldChecks<TorchTrainResult> = {
  workload: nonEmpty,
  images: positiveInteger,
  inputs: positiveInteger,
  stepMs: ['a positive finite number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0],
  cpuMs: ['a non-negative finite number', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0],
  threads: positiveInteger,
  torch: nonEmpty,
  params: positiveInteger,
};

/** Parses train.py's stdout. @throws Error naming the line and field that is wrong. */
export function parseTorchTrainOutput(stdout: string): TorchTrainResult[] {
  return parseResultLines(stdout, 'train.py', FIELD_CHECKS);
}

export type TorchTrainOutcome = { kind: 'measured'; result: TorchTrainResult } | { kind: 'unmirrored'; message: string };

/**
 * Times one workload in PyTorch (`repeats` timed steps after `warmup`, median).
 * @throws Error when train.py fails otherwise or prints something else than one valid line for `workload`.
 */
export function runTorchTrain(python: string, workload: string, images: number, options: TorchRunOptions): TorchTrainOutcome {
  const args = [`${workload}:${images}`, '--repeats', String(options.repeats), '--warmup', String(options.warmup), '--seed', String(options.seed)];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  const run = runTorchScript(python, TORCH_TRAIN_SCRIPT, args, workload);
  if (run.kind === 'unmirrored') return run;
  const results = parseTorchTrainOutput(run.stdout);
  if (results.length !== 1 || results[0].workload !== workload || results[0].images !== images) {
    throw new Error(
      `PyTorch train.py printed ${JSON.stringify(results.map((r) => [r.workload, r.images]))}, expected one line for ${workload} at ${images} images`,
    );
  }
  return { kind: 'measured', result: results[0] };
}
