/**
 * Command-line options of the training-step benchmark (`npx nx run bench:step -- …`).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@ddinit/core';
import { list, positiveInt } from './option-values';
import { WASM_KERNEL_VARIANTS } from './step-variants';

export type BenchBackend = 'wasm' | 'cpu';
/** `auto`: time the networks in PyTorch too when a Python with torch is found; `off`: never. */
export type TorchMode = 'auto' | 'off';

export interface StepBenchOptions {
  models: string[];
  backends: BenchBackend[];
  /** Models also run on the cpu backend (the others are skipped there). */
  cpuModels: string[];
  /** Batch size per model. */
  batch: Record<string, number>;
  repeats: number;
  warmup: number;
  /** Names of the wasm kernel variants to time (see step-variants.ts), in table order. */
  kernels: string[];
  profile: boolean;
  seed: number;
  torch: TorchMode;
  /** `torch.set_num_threads` of the PyTorch runs; undefined = torch's default. */
  torchThreads: number | undefined;
}

/** Default batch sizes: CaffeNet at 16 (the paper-scale step), the small nets at 32. */
export const DEFAULT_BATCH: Record<string, number> = { caffenet: 16 };
const OTHER_MODELS_BATCH = 32;

/** The cpu backend trains 200–400× slower than wasm with ddinit's kernels: by default it runs only the small net. */
export const DEFAULT_CPU_MODELS = ['caffenet-small'];

const VARIANT_NAMES = WASM_KERNEL_VARIANTS.map((v) => v.name);

/** `--kernels both`, as in the commands recorded in docs/RESULTS.md: the two original variants. */
const BOTH = ['baseline', 'ddinit'];

export const USAGE = `usage: npx nx run bench:step -- [options]
  --models a,b        networks (default caffenet,caffenet-small; e.g. vgg-plain-11, resnet-small)
  --backends a,b      wasm and/or cpu (default wasm,cpu)
  --cpu-models a,b    networks also run on cpu (default caffenet-small: cpu trains 200–400× slower than wasm)
  --batch n           batch size for every network (default caffenet 16, others 32)
  --repeats n         timed runs per measurement; the median is reported (default 5)
  --warmup n          untimed runs first (default 1)
  --kernels k         wasm kernel variants timed step by step on the same model: all (default), both
                      (= baseline,ddinit) or a comma list of ${VARIANT_NAMES.join(', ')}
  --profile           also print the per-kernel time of one training step on wasm
  --seed n            seed of weights and data (default 1)
  --torch mode        auto (default): also time the networks in PyTorch (tools/bench/torch/step.py) with
                      $DDINIT_TORCH_PYTHON, else /usr/bin/python3, else python3, if it imports torch;
                      off: don't (install PyTorch with: apt-get install python3-torch)
  --torch-threads n   torch.set_num_threads of the PyTorch runs (default: torch's own)`;

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
      torch: { type: 'string' },
      'torch-threads': { type: 'string' },
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
  const kernels = kernelVariants(values.kernels);
  const torch = values.torch ?? 'auto';
  if (torch !== 'auto' && torch !== 'off') {
    throw new ConfigError('unknown PyTorch mode', { where: '--torch', expected: 'auto or off', actual: torch });
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
    torch,
    torchThreads: values['torch-threads'] === undefined ? undefined : positiveInt('torch-threads', values['torch-threads'], 1),
  };
}

/** `--kernels`: all, both or a comma list of variant names → names in table order. */
function kernelVariants(value: string | undefined): string[] {
  const asked = value === undefined || value === 'all' ? VARIANT_NAMES : value === 'both' ? BOTH : list(value, []);
  for (const name of asked) {
    if (!VARIANT_NAMES.includes(name)) {
      throw new ConfigError('unknown wasm kernel variant', {
        where: '--kernels',
        expected: `all, both or a comma list of ${VARIANT_NAMES.join(', ')}`,
        actual: name,
      });
    }
  }
  if (asked.length === 0) throw new ConfigError('no wasm kernel variant given', { where: '--kernels', expected: 'at least one name' });
  return VARIANT_NAMES.filter((name) => asked.includes(name));
}
