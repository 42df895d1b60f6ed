import { ConfigError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { applySweepAssignment, completionIndexFromEnv, listSweepAssignments, selectSweepRun, sweepAssignmentAt, sweepRunName, sweepSize } from './sweep';

const axes = { within: ['gaussian', 'pca', 'zca'], seed: [0, 1] };

describe('sweepAssignmentAt', () => {
  it('maps indexes like nested loops, first axis slowest', () => {
    expect(listSweepAssignments(axes)).toEqual([
      { within: 'gaussian', seed: 0 },
      { within: 'gaussian', seed: 1 },
      { within: 'pca', seed: 0 },
      { within: 'pca', seed: 1 },
      { within: 'zca', seed: 0 },
      { within: 'zca', seed: 1 },
    ]);
  });

  it('is a bijection onto the Cartesian product, with index = Σ c_j · Π_{l>j} n_l', () => {
    const three = { model: ['a', 'b'], within: ['pca', 'zca', 'kmeans'], seed: [7, 8, 9, 10] };
    const entries = Object.entries(three);
    const size = sweepSize(three);
    expect(size).toBe(24);
    const names = new Set<string>();
    for (let index = 0; index < size; index++) {
      const assignment = sweepAssignmentAt(three, index);
      expect(Object.keys(assignment)).toEqual(['model', 'within', 'seed']);
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
    expect(() => sweepSize({ within: [] })).toThrow(/kubernetes\.sweep\.axes\.within/);
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
    const config = { out: 's3://bucket/runs/', within: 'gaussian', init: { calibrate: true } };
    const frozen = structuredClone(config);
    const result = applySweepAssignment(config, { within: 'pca', 'init.seed': 3, 'deep.new.key': false }, 'out');
    expect(result).toEqual({
      out: 's3://bucket/runs/within=pca,init.seed=3,deep.new.key=false',
      within: 'pca',
      init: { calibrate: true, seed: 3 },
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
    kubernetes: { sweep: { axes: { within: ['pca', 'kmeans'], seed: [0, 1, 2] } } },
  };

  it('selects the configuration of the pod from JOB_COMPLETION_INDEX', () => {
    const run = selectSweepRun(pipelineConfig, { JOB_COMPLETION_INDEX: '4' });
    expect(run).toEqual({
      index: 4,
      size: 6,
      assignment: { within: 'kmeans', seed: 1 },
      name: 'within=kmeans,seed=1',
      config: { ...pipelineConfig, within: 'kmeans', seed: 1, out: 's3://bucket/runs/within=kmeans,seed=1' },
    });
  });

  it('uses the default axes (6 methods × 3 seeds) when the config has no kubernetes section', () => {
    const run = selectSweepRun({ out: 'artifacts' }, { JOB_COMPLETION_INDEX: '17' });
    expect(run.size).toBe(18);
    expect(run.name).toBe('within=patches,seed=2');
  });

  it('rejects an index past the sweep and a bad kubernetes section', () => {
    expect(() => selectSweepRun(pipelineConfig, { JOB_COMPLETION_INDEX: '6' })).toThrow(/\[0, 5\]/);
    expect(() => selectSweepRun({ ...pipelineConfig, kubernetes: { sweep: { axis: {} } } }, { JOB_COMPLETION_INDEX: '0' })).toThrow(ZodError);
  });
});
