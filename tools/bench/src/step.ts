/**
 * Training-step benchmark: forward and forward+backward+update time of the
 * reference networks on the wasm and cpu backends, medians of several runs,
 * ratios measured side by side in one run (the machine is shared and noisy).
 *
 * On wasm it times, step by step on the same model, each wasm kernel variant of
 * step-variants.ts (wasm 4.22's own kernels, ddinit's, …). When a Python with
 * torch is found (`--torch auto`, the default) it also times the same networks
 * in PyTorch (tools/bench/torch/step.py) and prints the ratios. After the tables
 * it prints one JSON line per row. See tools/bench/README.md.
 *
 * @example
 * npx nx run bench:step -- --models caffenet,caffenet-small --repeats 5 --profile
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import { parseStepOptions, USAGE, type StepBenchOptions } from './step-options';
import {
  CPU_BACKEND,
  formatJsonLines,
  formatLegend,
  formatProfiles,
  formatRatios,
  formatStepTable,
  type KernelProfile,
  type StepRow,
  type TorchStatus,
} from './step-report';
import { findTorchPython, runTorchStep, type TorchStepResult } from './step-torch';
import { REFERENCE_VARIANT, wasmKernelVariant, type WasmKernelVariant } from './step-variants';
import { createWorkload, median, profileKernels, timeMs } from './step-workload';

/** A transient status line on stderr (overwritten by the next one). */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text.padEnd(60)}\r`);
}

type TfjsRow = Omit<StepRow, 'torchForwardMs' | 'torchStepMs'>;

async function benchModel(
  model: string,
  backend: 'wasm' | 'cpu',
  options: StepBenchOptions,
): Promise<{ rows: TfjsRow[]; profiles: [string, KernelProfile][] }> {
  progress(`${model} ${backend}: building`);
  const batch = options.batch[model];
  const variants: (WasmKernelVariant | undefined)[] =
    backend === 'wasm' ? options.kernels.map(wasmKernelVariant).filter((v) => v.unavailable?.() === undefined) : [undefined];
  const select = async (variant: WasmKernelVariant | undefined) => {
    if (variant !== undefined) await variant.use();
  };
  const workload = createWorkload(model, batch, options.seed);
  const tensorsBefore = tf.memory().numTensors;
  let tensorsAfter = tensorsBefore;
  const forwards = variants.map((): number[] => []);
  const steps = variants.map((): number[] => []);
  const profiles: [string, KernelProfile][] = [];
  try {
    for (let i = 0; i < options.warmup; i++) {
      for (const variant of variants) {
        await select(variant);
        workload.forward();
        workload.step();
      }
    }
    for (let r = 0; r < options.repeats; r++) {
      for (const [i, variant] of variants.entries()) {
        await select(variant);
        forwards[i].push(timeMs(() => workload.forward()));
        steps[i].push(timeMs(() => workload.step()));
      }
      progress(`${model} ${backend} run ${r + 1}/${options.repeats}`);
    }
    tensorsAfter = tf.memory().numTensors;
    if (options.profile && backend === 'wasm') {
      for (const variant of variants) {
        await select(variant);
        profiles.push([(variant as WasmKernelVariant).backend, await profileKernels(() => workload.step())]);
      }
    }
  } finally {
    workload.dispose();
    if (backend === 'wasm') await wasmKernelVariant(REFERENCE_VARIANT).use();
  }
  const rows = variants.map((variant, i) => ({
    model,
    batch,
    backend: variant === undefined ? CPU_BACKEND : variant.backend,
    forwardMs: median(forwards[i]),
    stepMs: median(steps[i]),
    tensorsBefore,
    tensorsAfter,
  }));
  return { rows, profiles };
}

/** Where PyTorch is, as found before any timing (`--torch off` never looks). */
function probeTorch(options: StepBenchOptions): TorchStatus {
  if (options.torch === 'off') return { mode: 'off' };
  const found = findTorchPython();
  return found.found ? { mode: 'found', python: found.python, version: found.version, threads: [], notes: [] } : { mode: 'missing', reason: found.reason };
}

/**
 * Times `model` in PyTorch right after its tfjs rows (same batch, repeats, warm-up, seed).
 * A network step.py has no mirror of becomes a note; any other failure is
 * returned as an error message (the run goes on and exits 1 at the end).
 */
function benchTorch(model: string, options: StepBenchOptions, torch: TorchStatus): { result?: TorchStepResult; error?: string } {
  if (torch.mode !== 'found') return {};
  progress(`${model} PyTorch`);
  try {
    const outcome = runTorchStep(torch.python, model, options.batch[model], {
      repeats: options.repeats,
      warmup: options.warmup,
      seed: options.seed,
      threads: options.torchThreads,
    });
    if (outcome.kind === 'unmirrored') {
      torch.notes.push(`${outcome.message}: no torch figures for ${model}`);
      return {};
    }
    torch.threads.push(outcome.result.threads);
    return { result: outcome.result };
  } catch (error) {
    return { error: `${model}: ${(error as Error).message}` };
  }
}

async function main(): Promise<void> {
  const parsed = parseStepOptions(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const options = parsed;
  console.log(
    `training-step benchmark: node ${process.version}, tfjs ${tf.version.tfjs}, ${os.cpus().length} cores, ` +
      `load average ${os.loadavg()[0].toFixed(2)}, ${options.repeats} timed runs (median), ${options.warmup} warm-up`,
  );
  console.log(`command: npx nx run bench:step -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  const torch = probeTorch(options);
  const torchResults = new Map<string, TorchStepResult>();
  const torchErrors: string[] = [];
  const torchTried = new Set<string>();
  const rows: TfjsRow[] = [];
  const profiles: [string, [string, KernelProfile][]][] = [];
  for (const backend of options.backends) {
    await selectBackend(backend);
    const models = backend === 'cpu' ? options.models.filter((m) => options.cpuModels.includes(m)) : options.models;
    const skipped = options.models.filter((m) => !models.includes(m));
    if (skipped.length > 0) {
      console.log(`cpu: skipping ${skipped.join(', ')} (the cpu backend trains 200–400× slower than wasm; add them with --cpu-models)`);
    }
    for (const model of models) {
      const result = await benchModel(model, backend, options);
      rows.push(...result.rows);
      if (result.profiles.length > 0) profiles.push([model, result.profiles]);
      if (!torchTried.has(model)) {
        torchTried.add(model);
        const { result: measured, error } = benchTorch(model, options, torch);
        if (measured !== undefined) torchResults.set(model, measured);
        if (error !== undefined) torchErrors.push(error);
      }
    }
  }
  const table: StepRow[] = rows.map((r) => ({
    ...r,
    torchForwardMs: torchResults.get(r.model)?.forwardMs ?? null,
    torchStepMs: torchResults.get(r.model)?.stepMs ?? null,
  }));
  progress('');
  console.log('');
  console.log(formatStepTable(table));
  console.log('');
  for (const line of formatLegend(table, torch)) console.log(line);
  for (const error of torchErrors) console.log(`torch failed: ${error}`);
  console.log('');
  for (const line of formatRatios(table)) console.log(line);
  for (const [model, columns] of profiles) {
    console.log('');
    console.log(`per-kernel time of one ${model} training step at batch ${options.batch[model]} (tf.profile):`);
    console.log(formatProfiles(columns));
  }
  console.log('');
  for (const line of formatJsonLines(table)) console.log(line);
  if (torchErrors.length > 0) {
    for (const error of torchErrors) console.error(`PyTorch run failed: ${error}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  if (isDdinitError(error)) {
    console.error(error.message);
    if (error.kind === 'config') console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  throw error;
});
