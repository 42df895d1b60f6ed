/**
 * Training-step benchmark: forward and forward+backward+update time of the
 * reference networks on the wasm and cpu backends, medians of several runs,
 * ratios measured side by side in one run (the machine is shared and noisy).
 *
 * On wasm it compares, step by step on the same model, wasm 4.22's own kernels
 * (plus only the kernels wasm lacks) with all of ddinit's kernels
 * (`--kernels both`, the default). See tools/bench/README.md.
 *
 * @example
 * npx nx run bench:step -- --models caffenet,caffenet-small --repeats 5 --profile
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { registerWasmTrainingKernels, selectBackend } from '@ddinit/core/backend';
import { parseStepOptions, USAGE, type KernelMode, type StepBenchOptions } from './step-options';
import { BACKEND_LABELS, formatProfiles, formatRatios, formatStepTable, type KernelProfile, type StepRow } from './step-report';
import { createWorkload, median, profileKernels, timeMs } from './step-workload';

type KernelSet = 'baseline' | 'ddinit';

/** A transient status line on stderr (overwritten by the next one). */
function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text.padEnd(60)}\r`);
}


function kernelSets(mode: KernelMode): KernelSet[] {
  return mode === 'both' ? ['baseline', 'ddinit'] : [mode];
}

function useKernels(set: KernelSet): void {
  registerWasmTrainingKernels({ kernels: set === 'baseline' ? 'missing' : 'all' });
}

async function benchModel(
  model: string,
  backend: 'wasm' | 'cpu',
  options: StepBenchOptions,
): Promise<{ rows: StepRow[]; profiles: [string, KernelProfile][] }> {
  progress(`${model} ${backend}: building`);
  const batch = options.batch[model];
  const sets: (KernelSet | undefined)[] = backend === 'wasm' ? kernelSets(options.kernels) : [undefined];
  const select = (set: KernelSet | undefined) => {
    if (set !== undefined) useKernels(set);
  };
  const workload = createWorkload(model, batch, options.seed);
  const tensorsBefore = tf.memory().numTensors;
  let tensorsAfter = tensorsBefore;
  const forward: number[] = [];
  const steps = sets.map((): number[] => []);
  const profiles: [string, KernelProfile][] = [];
  try {
    for (let i = 0; i < options.warmup; i++) {
      workload.forward();
      for (const set of sets) {
        select(set);
        workload.step();
      }
    }
    for (let r = 0; r < options.repeats; r++) {
      forward.push(timeMs(() => workload.forward()));
      sets.forEach((set, i) => {
        select(set);
        steps[i].push(timeMs(() => workload.step()));
      });
      progress(`${model} ${backend} run ${r + 1}/${options.repeats}`);
    }
    tensorsAfter = tf.memory().numTensors;
    if (options.profile && backend === 'wasm') {
      for (const set of sets) {
        select(set);
        profiles.push([BACKEND_LABELS[set as KernelSet], await profileKernels(() => workload.step())]);
      }
    }
  } finally {
    workload.dispose();
    if (backend === 'wasm') useKernels('ddinit');
  }
  const rows = sets.map((set, i) => ({
    model,
    batch,
    backend: set === undefined ? backend : BACKEND_LABELS[set],
    forwardMs: median(forward),
    stepMs: median(steps[i]),
    tensorsBefore,
    tensorsAfter,
  }));
  return { rows, profiles };
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
  const rows: StepRow[] = [];
  const profiles: [string, [string, KernelProfile][]][] = [];
  for (const backend of options.backends) {
    await selectBackend(backend);
    const models = backend === 'cpu' ? options.models.filter((m) => options.cpuModels.includes(m)) : options.models;
    const skipped = options.models.filter((m) => !models.includes(m));
    if (skipped.length > 0) {
      console.log(
        `cpu: skipping ${skipped.join(', ')} (the cpu backend trains 200–400× slower than wasm; add them with --cpu-models)`,
      );
    }
    for (const model of models) {
      const result = await benchModel(model, backend, options);
      rows.push(...result.rows);
      if (result.profiles.length > 0) profiles.push([model, result.profiles]);
    }
  }
  progress('');
  console.log('');
  console.log(formatStepTable(rows));
  console.log('');
  for (const line of formatRatios(rows)) console.log(line);
  for (const [model, columns] of profiles) {
    console.log('');
    console.log(`per-kernel time of one ${model} training step at batch ${options.batch[model]} (tf.profile):`);
    console.log(formatProfiles(columns));
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
