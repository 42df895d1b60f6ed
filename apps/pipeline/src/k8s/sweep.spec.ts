import { ConfigError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { INITIALIZATIONS } from '../config/initializations';
import { applySweepAssignment, completionIndexFromEnv, listSweepAssignments, selectSweepRun, sweepAssignmentAt, sweepRunName, sweepSize } from './sweep';

const axes = { init: ['he-normal', 'ddinit-pca', 'ddinit-zca+calibration'], seed: [0, 1] };

describe('sweepAssignmentAt', () => {
  it('maps indexes like nested loops, first axis slowest', () => {
    expect(listSweepAssignments(axes)).toEqual([
      { init: 'he-normal', seed: 0 },
      { init: 'he-normal', seed: 1 },
      { init: 'ddinit-pca', seed: 0 },
      { init: 'ddinit-pca', seed: 1 },
      { init: 'ddinit-zca+calibration', seed: 0 },
      { init: 'ddinit-zca+calibration', seed: 1 },
    ]);
  });

  it('is a bijection onto the Cartesian product, with index = Σ c_j · Π_{l>j} n_l', () => {
    const three = { model: ['a', 'b'], init: ['ddinit-pca', 'ddinit-zca', 'lsuv'], seed: [7, 8, 9, 10] };
    const entries = Object.entries(three);
    const size = sweepSize(three);
    expect(size).toBe(24);
    const names = new Set<string>();
    for (let index = 0; index < size; index++) {
      const assignment = sweepAssignmentAt(three, index);
      expect(Object.keys(assignment)).toEqual(['model', 'init', 'seed']);
      let recomputed = 0;
      for (const [axis, values] of entries) {
        const position = (values as unknown[]).indexOf(assignment[axis]);
        expect(position).toBeGreaterThanOrEqual(0);
        recomputed = recomputed * values.length + position;
      }
      expect(recomputed).toBe(index);
      names.add(sweepRunName(assignment));
    }
    expect(names.size).toBe(size);
  });

  it('rejects indexes outside [0, size) and non-integers, naming the variable and the range', () => {
    for (const bad of [-1, 6, 2.5, Number.NaN]) {
      expect(() => sweepAssignmentAt(axes, bad)).toThrow(ConfigError);
    }
    expect(() => sweepAssignmentAt(axes, 6)).toThrow('JOB_COMPLETION_INDEX: sweep index out of range (expected an integer in [0, 5], got 6)');
  });

  it('rejects empty and oversized sweeps', () => {
    expect(() => sweepSize({})).toThrow(/at least one axis/);
    expect(() => sweepSize({ init: [] })).toThrow(/kubernetes\.sweep\.axes\.init/);
    const big = { a: Array.from({ length: 101 }, (_, i) => i), b: Array.from({ length: 100 }, (_, i) => i) };
    expect(() => sweepSize(big)).toThrow(/at most 10000 configurations, got 10100 \(a: 101 × b: 100\)/);
  });
});

describe('completionIndexFromEnv', () => {
  it('reads the decimal index the Job controller sets', () => {
    expect(completionIndexFromEnv({ JOB_COMPLETION_INDEX: '0' })).toBe(0);
    expect(completionIndexFromEnv({ JOB_COMPLETION_INDEX: '17' })).toBe(17);
  });

  it('rejects a missing or malformed index', () => {
    expect(() => completionIndexFromEnv({})).toThrow(/JOB_COMPLETION_INDEX: .*got unset/);
    for (const bad of ['', '-1', '01', '1.5', ' 3', 'three']) {
      expect(() => completionIndexFromEnv({ JOB_COMPLETION_INDEX: bad }), bad).toThrow(ConfigError);
    }
  });
});

describe('applySweepAssignment', () => {
  it('sets top-level and nested paths and moves the output one folder down, without touching the input', () => {
    const config = { out: 's3://bucket/runs/', init: 'he-normal', pretrain: { task: 'rotation' } };
    const frozen = structuredClone(config);
    const result = applySweepAssignment(config, { init: 'ddinit-pca+calibration', 'pretrain.seed': 3, 'deep.new.key': false }, 'out');
    expect(result).toEqual({
      out: 's3://bucket/runs/init=ddinit-pca+calibration,pretrain.seed=3,deep.new.key=false',
      init: 'ddinit-pca+calibration',
      pretrain: { task: 'rotation', seed: 3 },
      deep: { new: { key: false } },
    });
    expect(config).toEqual(frozen);
  });

  it('finds the output location at a nested outKey', () => {
    const result = applySweepAssignment({ output: { dir: 'artifacts' } }, { seed: 1 }, 'output.dir');
    expect(result).toEqual({ output: { dir: 'artifacts/seed=1' }, seed: 1 });
  });

  it('refuses a sweep without an output location, naming the key', () => {
    expect(() => applySweepAssignment({ model: 'x' }, { seed: 1 }, 'out')).toThrow(/^out: .*got missing\)$/);
    expect(() => applySweepAssignment({ out: 3 }, { seed: 1 }, 'out')).toThrow(/got 3\)$/);
  });

  it('refuses a path through a non-object value', () => {
    expect(() => applySweepAssignment({ out: 'o', init: 'pca' }, { 'init.seed': 1 }, 'out')).toThrow(
      /^init: a sweep axis goes through a value that is not an object/,
    );
  });
});

describe('selectSweepRun', () => {
  const pipelineConfig = {
    model: 'caffenet-small',
    out: 's3://bucket/runs',
    kubernetes: { sweep: { axes: { init: ['ddinit-pca', 'ddinit-kmeans+calibration'], seed: [0, 1, 2] } } },
  };

  it('selects the configuration of the pod from JOB_COMPLETION_INDEX', () => {
    const run = selectSweepRun(pipelineConfig, { JOB_COMPLETION_INDEX: '4' });
    expect(run).toEqual({
      index: 4,
      size: 6,
      assignment: { init: 'ddinit-kmeans+calibration', seed: 1 },
      name: 'init=ddinit-kmeans+calibration,seed=1',
      config: { ...pipelineConfig, init: 'ddinit-kmeans+calibration', seed: 1, out: 's3://bucket/runs/init=ddinit-kmeans+calibration,seed=1' },
    });
  });

  it('uses the default axes (every initialization × 3 seeds) when the config has no kubernetes section', () => {
    const run = selectSweepRun({ out: 'artifacts' }, { JOB_COMPLETION_INDEX: String(3 * INITIALIZATIONS.length - 1) });
    expect(run.size).toBe(3 * INITIALIZATIONS.length);
    expect(run.name).toBe('init=ddinit-patches+calibration,seed=2');
  });

  it('rejects an index past the sweep and a bad kubernetes section', () => {
    expect(() => selectSweepRun(pipelineConfig, { JOB_COMPLETION_INDEX: '6' })).toThrow(/\[0, 5\]/);
    expect(() => selectSweepRun({ ...pipelineConfig, kubernetes: { sweep: { axis: {} } } }, { JOB_COMPLETION_INDEX: '0' })).toThrow(ZodError);
  });
});
