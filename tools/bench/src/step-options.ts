/**
 * Command-line options of the training-step benchmark (`npx nx run bench:step -- …`).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@ddinit/core';

export type BenchBackend = 'wasm' | 'cpu';
/** `ddinit`: all ddinit wasm kernels; `baseline`: only the kernels wasm 4.22 lacks; `both`: the two, step by step. */
export type KernelMode = 'ddinit' | 'baseline' | 'both';

export interface StepBenchOptions {
  models: string[];
  backends: BenchBackend[];
  /** Models also run on the cpu backend (the others are skipped there). */
  cpuModels: string[];
  /** Batch size per model. */
  batch: Record<string, number>;
  repeats: number;
  warmup: number;
  kernels: KernelMode;
  profile: boolean;
  seed: number;
}

/** Default batch sizes: CaffeNet at 16 (the paper-scale step), the small nets at 32. */
export const DEFAULT_BATCH: Record<string, number> = { caffenet: 16 };
const OTHER_MODELS_BATCH = 32;

/** The cpu backend trains 200–400× slower than wasm with ddinit's kernels: by default it runs only the small net. */
export const DEFAULT_CPU_MODELS = ['caffenet-small'];

export const USAGE = `usage: npx nx run bench:step -- [options]
  --models a,b        networks (default caffenet,caffenet-small; e.g. vgg-plain-11, resnet-small)
  --backends a,b      wasm and/or cpu (default wasm,cpu)
  --cpu-models a,b    networks also run on cpu (default caffenet-small: cpu trains 200–400× slower than wasm)
  --batch n           batch size for every network (default caffenet 16, others 32)
  --repeats n         timed runs per measurement; the median is reported (default 5)
  --warmup n          untimed runs first (default 1)
  --kernels mode      ddinit | baseline | both (default both: wasm 4.22's own kernels vs ddinit's, step by step)
  --profile           also print the per-kernel time of one training step on wasm
  --seed n            seed of weights and data (default 1)`;

function list(value: string | undefined, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function positiveInt(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new ConfigError('invalid option', { where: `--${name}`, expected: `an integer ≥ ${min}`, actual: value });
  }
  return n;
}

/**
 * Parses the benchmark's arguments.
 *
 * @throws ConfigError naming the option, what it accepts and what arrived.
 */
export function parseStepOptions(argv: string[]): StepBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      backends: { type: 'string' },
      'cpu-models': { type: 'string' },
      batch: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      kernels: { type: 'string' },
      profile: { type: 'boolean', default: false },
      seed: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const models = list(values.models, ['caffenet', 'caffenet-small']);
  const backends = list(values.backends, ['wasm', 'cpu']);
  for (const b of backends) {
    if (b !== 'wasm' && b !== 'cpu') {
      throw new ConfigError('unknown backend', { where: '--backends', expected: 'wasm and/or cpu', actual: b });
    }
  }
  const kernels = values.kernels ?? 'both';
  if (kernels !== 'ddinit' && kernels !== 'baseline' && kernels !== 'both') {
    throw new ConfigError('unknown kernel mode', { where: '--kernels', expected: 'ddinit, baseline or both', actual: kernels });
  }
  if (models.length === 0) throw new ConfigError('no network given', { where: '--models', expected: 'at least one name' });
  const batchAll = values.batch === undefined ? undefined : positiveInt('batch', values.batch, 1);
  const batch = Object.fromEntries(models.map((m) => [m, batchAll ?? DEFAULT_BATCH[m] ?? OTHER_MODELS_BATCH]));
  return {
    models,
    backends: backends as BenchBackend[],
    cpuModels: list(values['cpu-models'], DEFAULT_CPU_MODELS),
    batch,
    repeats: positiveInt('repeats', values.repeats, 5),
    warmup: positiveInt('warmup', values.warmup, 1, 0),
    kernels,
    profile: values.profile ?? false,
    seed: positiveInt('seed', values.seed, 1, 0),
  };
}
