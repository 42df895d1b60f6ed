/**
 * Command-line options of the pretext training-step benchmark (`npx nx run bench:train -- …`).
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@ddinit/core';
import { list, positiveInt } from './option-values';
import { TRAIN_WORKLOADS } from './train-workloads';

/** Where the tfjs run reads its batches: the loopback S3 server (s3rver) or the dataset's local directory. */
export type DataSource = 's3' | 'local';
/** Where a step's batch is built: on the training thread, or on a `@ddinit/train` BatchWorker while the previous step runs. */
export type BatchBuilding = 'main' | 'worker';
/** `auto`: time the workloads in PyTorch too when a Python with torch is found; `off`: never. */
export type TorchMode = 'auto' | 'off';

export interface TrainBenchOptions {
  workloads: string[];
  sources: DataSource[];
  /** One training run per way of building batches (and per source). */
  batches: BatchBuilding[];
  /** Dataset images per step (the loss sees `inputsPerImage` × as many examples); undefined: each workload's default. */
  images: number | undefined;
  /** Timed steps (the median is reported) after `warmup` untimed ones, in one training run per source; undefined: each workload's default. */
  steps: number | undefined;
  warmup: number;
  seed: number;
  torch: TorchMode;
  /** `torch.set_num_threads` of the PyTorch runs; undefined = torch's default. */
  torchThreads: number | undefined;
}

export const DEFAULT_WARMUP = 3;

const WORKLOAD_NAMES = TRAIN_WORKLOADS.map((w) => w.name);

export const TRAIN_USAGE = `usage: npx nx run bench:train -- [options]
  --workloads a,b     pretext workloads (default all: ${WORKLOAD_NAMES.join(', ')})
  --sources a,b       where the tfjs run reads batches: s3 (a loopback s3rver, default) and/or local
  --batches a,b       where each step's batch is built: worker (default: a worker thread, during the previous
                      step) and/or main (the training thread, between steps; the same batches)
  --images n          dataset images per step (default: the workload's, ${TRAIN_WORKLOADS.map((w) => `${w.name} ${w.defaultImages}`).join(', ')})
  --steps n           timed steps; the median step time is reported (default: the workload's, ${TRAIN_WORKLOADS.map((w) => `${w.name} ${w.defaultSteps}`).join(', ')})
  --warmup n          untimed steps first (default ${DEFAULT_WARMUP})
  --seed n            seed of weights and data order, ≥ 1 (default 1)
  --torch mode        auto (default): also time the workloads in PyTorch (tools/bench/torch/train.py) with
                      $DDINIT_TORCH_PYTHON, else /usr/bin/python3, else python3, if it imports torch;
                      off: don't (install PyTorch with: apt-get install python3-torch)
  --torch-threads n   torch.set_num_threads of the PyTorch runs (default: torch's own)`;

function oneOf<T extends string>(name: string, values: string[], allowed: readonly T[]): T[] {
  for (const v of values) {
    if (!allowed.includes(v as T)) throw new ConfigError('unknown value', { where: `--${name}`, expected: `a comma list of ${allowed.join(', ')}`, actual: v });
  }
  if (values.length === 0) throw new ConfigError('nothing given', { where: `--${name}`, expected: `a comma list of ${allowed.join(', ')}` });
  return values as T[];
}

/**
 * Parses the benchmark's arguments.
 * @throws ConfigError naming the option, what it accepts and what arrived.
 */
export function parseTrainOptions(argv: string[]): TrainBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      workloads: { type: 'string' },
      sources: { type: 'string' },
      batches: { type: 'string' },
      images: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      torch: { type: 'string' },
      'torch-threads': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const [torch] = oneOf('torch', [values.torch ?? 'auto'], ['auto', 'off'] as const);
  return {
    workloads: oneOf('workloads', list(values.workloads, WORKLOAD_NAMES), WORKLOAD_NAMES),
    sources: oneOf('sources', list(values.sources, ['s3']), ['s3', 'local'] as const),
    batches: oneOf('batches', list(values.batches, ['worker']), ['main', 'worker'] as const),
    images: values.images === undefined ? undefined : positiveInt('images', values.images, 1, 1),
    steps: values.steps === undefined ? undefined : positiveInt('steps', values.steps, 1, 1),
    warmup: positiveInt('warmup', values.warmup, DEFAULT_WARMUP, 0),
    seed: positiveInt('seed', values.seed, 1, 1), // tfjs reads seed 0 as unseeded
    torch,
    torchThreads: values['torch-threads'] === undefined ? undefined : positiveInt('torch-threads', values['torch-threads'], 1, 1),
  };
}
