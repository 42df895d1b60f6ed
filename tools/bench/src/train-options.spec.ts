import { describe, expect, it } from 'vitest';
import { DEFAULT_WARMUP, parseTrainOptions, type TrainBenchOptions } from './train-options';
import { TRAIN_WORKLOADS } from './train-workloads';

function parse(argv: string[]): TrainBenchOptions {
  const options = parseTrainOptions(argv);
  if (options === 'help') throw new Error('unexpected help');
  return options;
}

describe('parseTrainOptions', () => {
  it('defaults to every workload read from the loopback S3 server at its own batch, and PyTorch when found', () => {
    expect(parse([])).toEqual({
      workloads: TRAIN_WORKLOADS.map((w) => w.name),
      sources: ['s3'],
      batches: ['worker'],
      images: undefined,
      steps: undefined,
      warmup: DEFAULT_WARMUP,
      seed: 1,
      torch: 'auto',
      torchThreads: undefined,
    });
    expect(parseTrainOptions(['--help'])).toBe('help');
  });

  it('takes sources, sizes and PyTorch settings', () => {
    const options = parse([
      '--sources',
      's3,local',
      '--batches',
      'main,worker',
      '--images',
      '8',
      '--steps',
      '4',
      '--warmup',
      '0',
      '--seed',
      '3',
      '--torch',
      'off',
      '--torch-threads',
      '2',
    ]);
    expect(options).toMatchObject({
      sources: ['s3', 'local'],
      batches: ['main', 'worker'],
      images: 8,
      steps: 4,
      warmup: 0,
      seed: 3,
      torch: 'off',
      torchThreads: 2,
    });
  });

  it('names the option, what it accepts and what arrived', () => {
    expect(() => parse(['--workloads', 'jigsaw-caffenet'])).toThrow(
      `--workloads: unknown value (expected a comma list of ${TRAIN_WORKLOADS.map((w) => w.name).join(', ')}, got jigsaw-caffenet)`,
    );
    expect(() => parse(['--sources', 'gcs'])).toThrow('--sources: unknown value (expected a comma list of s3, local, got gcs)');
    expect(() => parse(['--sources', ','])).toThrow('--sources: nothing given');
    expect(() => parse(['--batches', 'gpu'])).toThrow('--batches: unknown value (expected a comma list of main, worker, got gpu)');
    expect(() => parse(['--steps', '0'])).toThrow('--steps: invalid option (expected an integer ≥ 1, got 0)');
    expect(() => parse(['--seed', '0'])).toThrow('--seed: invalid option (expected an integer ≥ 1, got 0)');
    expect(() => parse(['--torch', 'yes'])).toThrow('--torch: unknown value (expected a comma list of auto, off, got yes)');
  });
});
