import { describe, expect, it } from 'vitest';
import { formatTargets, formatTrainJsonLines, formatTrainTable, summarizeSteps, waitShare, type TrainRow } from './train-report';

function row(overrides: Partial<TrainRow> = {}): TrainRow {
  return {
    workload: 'rotation-caffenet-small',
    source: 's3',
    batches: 'worker',
    backend: 'wasm-native',
    images: 32,
    inputs: 128,
    steps: 4,
    stepMs: 300,
    waitShare: 0.02,
    runWaitShare: 0.1,
    medianWaitMs: 5,
    maxWaitMs: 12,
    maxWaitStep: 7,
    tensorsBefore: 0,
    tensorsAfter: 0,
    torchStepMs: 250,
    ...overrides,
  };
}

describe('summarizeSteps', () => {
  const steps = [
    { step: 0, waitMs: 900, stepMs: 500 }, // warm-up: the first shard read
    { step: 1, waitMs: 10, stepMs: 300 },
    { step: 2, waitMs: 30, stepMs: 200 },
    { step: 3, waitMs: 0, stepMs: 100 },
  ];

  it('leaves the warm-up out of the timed figures but not out of the run’s share', () => {
    const summary = summarizeSteps(steps, 1);
    expect(summary.steps).toBe(3);
    expect(summary.stepMs).toBe(200);
    expect(summary.waitShare).toBeCloseTo(40 / 640, 12);
    expect(summary.runWaitShare).toBeCloseTo(940 / 2040, 12);
    expect(summary.medianWaitMs).toBe(10);
    expect(summary.maxWaitMs).toBe(30);
    expect(summary.maxWaitStep).toBe(2);
  });

  it('refuses a run with no timed step', () => {
    expect(() => summarizeSteps(steps, 4)).toThrow('no timed steps: the run made 4 steps, 4 of them warm-up');
  });

  it('counts a run without time as no wait', () => {
    expect(waitShare([])).toBe(0);
  });
});

describe('formatTargets', () => {
  it('says whether each target is met', () => {
    expect(formatTargets([row()])).toEqual([
      'rotation-caffenet-small (s3, worker): step ÷ PyTorch step = 1.20× (target ≤ 1.5×: met)',
      'rotation-caffenet-small (s3, worker): data wait 2.0 % of step time over 4 timed steps (target ≤ 5.0 %: met)',
    ]);
    expect(formatTargets([row({ stepMs: 400, waitShare: 0.051 })])).toEqual([
      'rotation-caffenet-small (s3, worker): step ÷ PyTorch step = 1.60× (target ≤ 1.5×: NOT met)',
      'rotation-caffenet-small (s3, worker): data wait 5.1 % of step time over 4 timed steps (target ≤ 5.0 %: NOT met)',
    ]);
  });

  it('has no ratio line without PyTorch', () => {
    expect(formatTargets([row({ torchStepMs: null })])).toHaveLength(1);
  });
});

describe('formatTrainTable and JSON lines', () => {
  it('prints one row per workload and source, with a dash where PyTorch is missing', () => {
    const lines = formatTrainTable([row(), row({ source: 'local', torchStepMs: null })]).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(
      /^rotation-caffenet-small\s+s3\s+worker\s+32 \(128\)\s+wasm-native\s+300\s+250\s+1\.20×\s+2\.0 %\s+10\.0 %\s+5\.0\/12 \(7\)\s+0→0$/,
    );
    expect(lines[3]).toMatch(/local .* 300\s+—\s+—\s+2\.0 %/);
  });

  it('rounds the JSON figures and keeps null for a missing PyTorch figure', () => {
    const [line] = formatTrainJsonLines([row({ stepMs: 300.12345, torchStepMs: null, waitShare: 0.0123456 })]);
    expect(JSON.parse(line)).toEqual({
      workload: 'rotation-caffenet-small',
      source: 's3',
      batches: 'worker',
      backend: 'wasm-native',
      images: 32,
      inputs: 128,
      steps: 4,
      stepMs: 300.123,
      torchStepMs: null,
      waitShare: 0.012,
      runWaitShare: 0.1,
      maxWaitMs: 12,
      maxWaitStep: 7,
    });
  });
});
