import { describe, expect, it } from 'vitest';
import { planStudy } from './cells';
import { parseStudyConfig } from './study-config';
import { CURVE_POINTS, summarizeStudy, type CellResult } from './study-report';

/** 2 initializations × 2 seeds × labels {10, all} × pretraining {none, rotation}: four groups; lsuv is the baseline. */
const STUDY = parseStudyConfig({
  init: ['glorot-uniform', 'lsuv'],
  seed: [1, 2],
  labelsPerClass: [10, null],
  pretrain: [false, { task: 'rotation', steps: 50 }],
  baseline: 'lsuv',
  budget: { steps: 4 },
});

/** Every cell done with top-1 `metric(cell)` and a flat loss of 1. */
function results(metric: (cell: CellResult['axes']) => number | null): CellResult[] {
  return planStudy(STUDY).cells.map((cell): CellResult => {
    const value = metric(cell.axes);
    return {
      id: cell.id,
      axes: cell.axes,
      status: value === null ? 'missing' : 'done',
      failure: null,
      metric: value === null ? null : { name: 'top1', value },
      scalars: value === null ? {} : { top1: value },
      steps: 4,
      curve: value === null ? [] : [0, 1, 2, 3].map((step) => ({ step, loss: 1 })),
      testCurve: [],
      detail: null,
    };
  });
}

const stamp = { codeVersion: 'spec', createdAt: '2026-12-07T00:00:00.000Z' };

describe('summarizeStudy', () => {
  it('groups configurations by model, pretraining and labels and pairs each with the baseline of its own group', () => {
    // glorot beats lsuv by 0.1 with labels, by 0.2 + 0.01·seed without, whatever the pretraining.
    const report = summarizeStudy(
      STUDY,
      results((a) => (a.init === 'lsuv' ? 0.5 : a.labelsPerClass === null ? 0.7 + 0.01 * a.seed : 0.6)),
      stamp,
    );
    expect(report.configurations.map((c) => c.id)).toEqual([
      'glorot-uniform.caffenet-small.none.n10',
      'glorot-uniform.caffenet-small.none.nall',
      'glorot-uniform.caffenet-small.rot50.n10',
      'glorot-uniform.caffenet-small.rot50.nall',
      'lsuv.caffenet-small.none.n10',
      'lsuv.caffenet-small.none.nall',
      'lsuv.caffenet-small.rot50.n10',
      'lsuv.caffenet-small.rot50.nall',
    ]);
    expect(report.ranking.map((g) => g.group)).toEqual([
      'caffenet-small.none.n10',
      'caffenet-small.none.nall',
      'caffenet-small.rot50.n10',
      'caffenet-small.rot50.nall',
    ]);
    expect(report.paired.map((p) => [p.configuration, p.baseline])).toEqual([
      ['glorot-uniform.caffenet-small.none.n10', 'lsuv.caffenet-small.none.n10'],
      ['glorot-uniform.caffenet-small.none.nall', 'lsuv.caffenet-small.none.nall'],
      ['glorot-uniform.caffenet-small.rot50.n10', 'lsuv.caffenet-small.rot50.n10'],
      ['glorot-uniform.caffenet-small.rot50.nall', 'lsuv.caffenet-small.rot50.nall'],
    ]);
    const [few, all] = report.paired;
    // Equal differences: std 0, an interval of zero width.
    expect(few.mean).toBeCloseTo(0.1, 12);
    expect(few.interval?.high).toBeCloseTo(0.1, 12);
    expect(few.interval?.low).toBeCloseTo(0.1, 12);
    // Differences 0.21 and 0.22: mean 0.215 ± 12.7062047361747 · 0.00707107 / √2.
    expect(all.mean).toBeCloseTo(0.215, 12);
    expect(all.interval?.low).toBeCloseTo(0.215 - 12.7062047361747 * 0.005, 9);
    expect(report.study).not.toHaveProperty('kubernetes');
    expect(report.notes).toEqual([]);
  });

  it('gives equal means one rank, ranks configurations without a result last, and notes a pair of one seed', () => {
    const report = summarizeStudy(
      STUDY,
      results((a) => (a.labelsPerClass === 10 && a.pretrain === false ? (a.init === 'lsuv' && a.seed === 2 ? null : 0.5) : 0.4)),
      stamp,
    );
    expect(report.ranking[0].entries.map((e) => [e.rank, e.init, e.n])).toEqual([
      [1, 'glorot-uniform', 2],
      [1, 'lsuv', 1],
    ]);
    expect(report.paired[0]).toMatchObject({ n: 1, interval: null, std: null });
    expect(report.notes).toContainEqual({
      kind: 'no-interval',
      subject: 'glorot-uniform.caffenet-small.none.n10',
      message: 'one seed finished for both it and lsuv.caffenet-small.none.n10: the difference has no interval',
    });
    expect(report.notes).toContainEqual(expect.objectContaining({ kind: 'missing', subject: 'lsuv.caffenet-small.s2.none.n10' }));
    // A budget of 4 steps: k = 1, 2, 4 with a window of one step.
    expect(report.configurations[0].lossAt.map((l) => [l.steps, l.mean])).toEqual([
      [1, 1],
      [2, 1],
      [4, 1],
    ]);
  });

  it('computes the loss after k steps from the whole curves and publishes them thinned', () => {
    const study = parseStudyConfig({ init: ['glorot-uniform'], seed: [1], budget: { steps: 1000 } });
    const [cell] = planStudy(study).cells;
    const curve = Array.from({ length: 1000 }, (_, step) => ({ step, loss: step }));
    const done: CellResult = {
      ...cell,
      status: 'done',
      failure: null,
      metric: { name: 'top1', value: 0.5 },
      scalars: {},
      steps: 1000,
      curve,
      testCurve: [],
      detail: null,
    };
    const report = summarizeStudy(study, [done], stamp);
    expect(report.cells[0].curve).toHaveLength(250);
    expect(report.cells[0].curve.length).toBeLessThanOrEqual(CURVE_POINTS);
    expect(report.cells[0].curve.at(-1)).toEqual({ step: 999, loss: 999 });
    // After 250 steps, window 50: steps 200…249 of the whole curve (every 4th of them would give 225).
    expect(report.configurations[0].lossAt[0]).toMatchObject({ steps: 250, mean: 224.5, n: 1 });
  });
});
