/**
 * Pretext training-step benchmark: the pretext training step of each workload
 * (train-workloads.ts) through @ddinit/train's `trainModel` on the best CPU
 * backend (wasm, with the OpenBLAS addon when built), reading its batches
 * through @ddinit/data from a loopback S3 server (s3rver) with the loop's
 * prefetch, beside the same step in PyTorch (tools/bench/torch/train.py) in the
 * same run. Prints the median step time, the ratio to PyTorch and the share of
 * step time spent waiting for data, then one JSON line per row.
 * See tools/bench/README.md.
 *
 * @example
 * npx nx run bench:train -- --steps 60
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { selectBackend, type BackendSelection } from '@ddinit/core/backend';
import { startS3rver } from '@ddinit/data/testing';
import { findTorchPython } from './step-torch';
import { formatTargets, formatTrainJsonLines, formatTrainTable, type TrainRow } from './train-report';
import { backendLabel, benchWorkload, imagesOf, openWorkloadDataset, stepsOf } from './train-run';
import { parseTrainOptions, TRAIN_USAGE, type TrainBenchOptions } from './train-options';
import { runTorchTrain, type TorchTrainResult } from './train-torch';
import { TRAIN_WORKLOADS, type TrainWorkload } from './train-workloads';

/** A transient status line on stderr (overwritten by the next one). */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text.padEnd(60)}\r`);
}

function describeBackend(selection: BackendSelection): string {
  const blas = selection.nativeBlas;
  if (blas === undefined) return `backend ${selection.name}`;
  return blas.active
    ? `backend wasm with @ddinit/native-blas (${blas.config}, ${blas.threads} threads) for convolutions and matrix products`
    : `backend wasm without native BLAS (${blas.reason})`;
}

/** PyTorch's figure for `workload`, a note when train.py has no mirror of it, or an error message. */
function benchTorch(
  python: string,
  workload: TrainWorkload<unknown>,
  options: TrainBenchOptions,
): { result?: TorchTrainResult; note?: string; error?: string } {
  progress(`${workload.name}: PyTorch`);
  try {
    const outcome = runTorchTrain(python, workload.name, imagesOf(workload, options), {
      repeats: stepsOf(workload, options),
      warmup: options.warmup,
      seed: options.seed,
      threads: options.torchThreads,
    });
    return outcome.kind === 'measured' ? { result: outcome.result } : { note: `${outcome.message}: no torch figures for ${workload.name}` };
  } catch (error) {
    return { error: `${workload.name}: ${(error as Error).message}` };
  }
}

async function main(): Promise<void> {
  const parsed = parseTrainOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(TRAIN_USAGE);
    return;
  }
  const options = parsed;
  const selection = await selectBackend('wasm');
  console.log(
    `pretext training-step benchmark: node ${process.version}, tfjs ${tf.version.tfjs}, ${os.cpus().length} cores, ` +
      `load average ${os.loadavg()[0].toFixed(2)}, timed steps (median) after ${options.warmup} warm-up, seed ${options.seed}`,
  );
  const args = process.argv.slice(2);
  console.log(`command: npx nx run bench:train${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`);
  console.log(describeBackend(selection));
  const torch = options.torch === 'off' ? undefined : findTorchPython();
  const workloads = TRAIN_WORKLOADS.filter((w) => options.workloads.includes(w.name));
  const rows: TrainRow[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const s3 = options.sources.includes('s3') ? await startS3rver(['bench']) : undefined;
  try {
    for (const workload of workloads) {
      for (const source of options.sources) {
        const data = await openWorkloadDataset(workload, source, s3);
        try {
          for (const batches of options.batches) rows.push(await benchWorkload(workload, data, source, backendLabel(selection), options, progress, batches));
        } finally {
          await data.close();
        }
      }
      if (torch?.found === true) {
        const { result, note, error } = benchTorch(torch.python, workload, options);
        for (const row of rows.filter((r) => r.workload === workload.name)) row.torchStepMs = result?.stepMs ?? null;
        if (result !== undefined) notes.push(`torch: PyTorch ${result.torch}, ${result.threads} thread(s), ${result.params} parameters (${workload.name})`);
        if (note !== undefined) notes.push(`torch: ${note}`);
        if (error !== undefined) errors.push(error);
      }
    }
  } finally {
    await s3?.stop();
  }
  progress('');
  console.log('');
  console.log(formatTrainTable(rows));
  console.log('');
  for (const workload of workloads) console.log(`${workload.name}: ${workload.description}`);
  console.log(
    'step ms: median time of Trainer.runStep (forward, softmax cross-entropy and accuracy, backward, gradient norm and divergence guard, ' +
      'L2 decay, SGD momentum update, loss and accuracy read back); data wait: time the loop waited for the next batch (one batch prefetched), ' +
      'as a share of wait + step time',
  );
  if (options.torch === 'off') console.log('torch: not run (--torch off)');
  else if (torch?.found === false) console.log(`torch: PyTorch was not found (${torch.reason}); install it with \`apt-get install python3-torch\``);
  for (const line of notes) console.log(line);
  for (const error of errors) console.log(`torch failed: ${error}`);
  console.log('');
  for (const line of formatTargets(rows)) console.log(line);
  console.log('');
  for (const line of formatTrainJsonLines(rows)) console.log(line);
  if (errors.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  if (isDdinitError(error)) {
    console.error(error.message);
    if (error.kind === 'config') console.error(TRAIN_USAGE);
    process.exitCode = 2;
    return;
  }
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${TRAIN_USAGE}`);
    process.exitCode = 2;
    return;
  }
  throw error;
});
