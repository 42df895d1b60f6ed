/**
 * The study runner: every run's document is what its stage's own schema accepts;
 * bad settings are refused before anything runs; a tiny study runs end to end in
 * this process, a second run reuses everything, and a diverging budget is recorded
 * as a result (failures beside the runs, the dependants skipped, the merge told).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NumericalError, StorageError } from '@ddinit/core';
import { expectNoLeakedTensors, useBackend } from '@ddinit/core/testing';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellGroups } from '../k8s/study-sweep';
import { planStudy, type StudyPlan } from './cells';
import { DEFAULT_STUDY, parseStudyConfig, type StudyConfigInput } from './study-config';
import { prepareRuns, runFailure, runStudy, studyStatus, type CellFailure, type RunFailure, type StudyRecorder } from './study-runner';

const study = (input: StudyConfigInput) => planStudy(parseStudyConfig(input));
const WITH_PRETRAIN: StudyConfigInput = {
  init: ['he-normal', 'ddinit-pca+calibration'],
  seed: [1, 2],
  labelsPerClass: [10, null],
  pretrain: [false, { task: 'rotation', steps: 20 }],
};

describe('the documents of a study', () => {
  it.each([
    ['the default study', DEFAULT_STUDY],
    ['a study with pretraining and labels per class', parseStudyConfig(WITH_PRETRAIN)],
  ])("every run's document of %s parses with its stage's own schema, reading its upstream's location", (_name, config) => {
    const plan = planStudy(config);
    const prepared = prepareRuns(plan);
    expect(prepared.map((p) => p.run.name)).toEqual(plan.runs.map((run) => run.name));
    const locations = new Map(plan.runs.map((run) => [run.name, run.location]));
    for (const { run, definition, config: parsed } of prepared) {
      expect(definition.name).toBe(run.stage);
      expect(definition.schema.parse(parsed)).toEqual(parsed);
      expect(parsed.out).toBe(run.location);
      expect(parsed.force).toBe(false);
      if (run.upstream !== null) expect((parsed as { from?: string }).from).toBe(locations.get(run.upstream));
    }
  });

  it('carries the axes into the stage configurations: the seed into every seeded stage, labels per class into finetune, steps into pretrain', () => {
    const plan = study(WITH_PRETRAIN);
    const prepared = prepareRuns(plan);
    const finetunes = prepared.filter((p) => p.run.stage === 'finetune');
    expect(finetunes).toHaveLength(16);
    expect(new Set(finetunes.map((p) => (p.config as unknown as { labelsPerClass: number | null }).labelsPerClass))).toEqual(new Set([10, null]));
    // The evaluate runs of a study score the head only (no probes, no k-NN): nothing there draws from a seed.
    for (const p of prepared.filter((q) => q.run.stage !== 'evaluate')) expect(p.config.seed).toBe(p.run.key.includes('.s1') ? 1 : 2);
    const pretrain = prepared.find((p) => p.run.stage === 'pretrain');
    expect(pretrain?.config).toMatchObject({ task: 'rotation', steps: 20 });
  });

  it('refuses a setting a stage rejects before anything runs, naming the run', () => {
    const plan = study({ ...WITH_PRETRAIN, pretrain: [{ task: 'rotation', steps: 5, taskOptions: { gridSize: 3 } }] });
    expect(() => prepareRuns(plan)).toThrow(ConfigError);
    expect(() => prepareRuns(plan)).toThrow(
      /pretrain run he-normal\.caffenet-small\.s1\.rot5: the study gives the pretrain stage a setting it rejects.*gridSize/s,
    );
  });

  it('refuses a cell position outside the study', () => {
    expect(() => prepareRuns(planStudy(DEFAULT_STUDY), [6])).toThrow(/cell: no such cell in the study \(expected a position in \[0, 5\], got 6\)/);
  });

  it('groups the cells by the init run they read, so no two groups share a run', () => {
    const plan = study(WITH_PRETRAIN);
    const groups = cellGroups(plan);
    expect(groups).toHaveLength(4);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(plan.cells.map((_, index) => index));
    const runsOf = (group: number[]) => new Set(prepareRuns(plan, group).map((p) => p.run.name));
    const [first, ...rest] = groups.map(runsOf);
    for (const other of rest) expect([...first].filter((name) => other.has(name))).toEqual([]);
  });
});

describe('a failed run', () => {
  const run = planStudy(DEFAULT_STUDY).runs[1];
  it('is a divergence at the step the NumericalError names', () => {
    const failure = runFailure(run, new NumericalError('the loss is not finite', { where: 'step 7', actual: NaN }));
    expect(failure).toEqual({ stage: 'finetune', key: run.key, kind: 'diverged', message: 'step 7: the loss is not finite (got NaN)', step: 7 });
  });
  it('is a failure for any other error', () => {
    expect(runFailure(run, new StorageError('cannot write', { where: 'x' }))).toEqual({
      stage: 'finetune',
      key: run.key,
      kind: 'failed',
      message: 'x: cannot write',
    });
  });
});

/** A recorder that keeps what the runner tells the merge. */
function memoryRecorder(): StudyRecorder & { failures: { location: string; failure: RunFailure }[]; merged: (readonly CellFailure[])[] } {
  const failures: { location: string; failure: RunFailure }[] = [];
  const merged: (readonly CellFailure[])[] = [];
  return {
    failures,
    merged,
    writeFailure: async (location, failure) => {
      failures.push({ location, failure });
    },
    mergeStudy: async (plan, options) => {
      merged.push(options?.failures ?? []);
      return { location: `${plan.study.out}/reports/${plan.study.name}` };
    },
  };
}

describe('runStudy on the embedded data', () => {
  let dir: string;
  let plan: StudyPlan;
  const tiny = (budget: Record<string, unknown>) =>
    study({ init: ['glorot-uniform', 'he-normal'], seed: [1], budget: { steps: 4, batchSize: 8, checkpointEvery: 2, ...budget }, out: dir });
  // Awaited: a selection still initializing wasm when runStudy selects it again made that one fail, uncaught.
  beforeAll(async () => {
    await useBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'ddinit-study-'));
    tf.env().set('IS_TEST', false);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every stage run of every cell once, then merges; run again, reuses them all', async () => {
    plan = tiny({});
    const recorder = memoryRecorder();
    await expectNoLeakedTensors(async () => {
      const result = await runStudy(plan, { backend: 'wasm', recorder });
      expect(result).toMatchObject({
        interrupted: false,
        counts: { ran: 6, upToDate: 0, failed: 0, blocked: 0 },
        failures: [],
        report: `${dir}/reports/study`,
      });
    });
    for (const run of plan.runs) expect(existsSync(join(run.location, 'report.json'))).toBe(true);
    const evaluation = JSON.parse(readFileSync(join(plan.runs[2].location, 'report.json'), 'utf8')) as { head: { primary: { value: number } } };
    expect(evaluation.head.primary.value).toBeGreaterThanOrEqual(0);
    expect(recorder.merged).toEqual([[]]);
    expect((await studyStatus(plan)).map((s) => s.status)).toEqual(Array(6).fill('up to date'));
    const again = await runStudy(plan, { backend: 'wasm', recorder });
    expect(again.counts).toEqual({ ran: 0, upToDate: 6, failed: 0, blocked: 0 });
  }, 300_000);

  it('records a diverging fine-tuning as a result: failures beside the runs, their evaluations skipped, the merge told', async () => {
    const diverging = tiny({ learningRate: 1e12, steps: 6 });
    const recorder = memoryRecorder();
    const result = await runStudy(diverging, { backend: 'wasm', recorder });
    expect(result.counts).toEqual({ ran: 0, upToDate: 2, failed: 2, blocked: 2 });
    expect(result.failures.map((f) => [f.cellId, f.stage, f.kind])).toEqual(diverging.cells.map((cell) => [cell.id, 'finetune', 'diverged']));
    for (const failure of result.failures) expect(failure.step).toBeGreaterThanOrEqual(0);
    const finetunes = diverging.runs.filter((run) => run.stage === 'finetune');
    expect(recorder.failures.map((f) => f.location)).toEqual(finetunes.map((run) => run.location));
    expect(recorder.merged).toEqual([result.failures]);
  }, 300_000);
});
