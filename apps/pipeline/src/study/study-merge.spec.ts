import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '@ddinit/core/base';
import { startS3rver } from '@ddinit/data/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeArtifact } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { publishCellResults, runOfCell } from '../testing/study-artifacts';
import { planStudy, type StudyPlan } from './cells';
import { FAILURE_FILE, failureLocation, mergeStudy, readFailure, writeFailure } from './study-merge';
import { parseStudyConfig } from './study-config';

let root: string;
let plan: StudyPlan;

const cellOf = (id: string) => {
  const cell = plan.cells.find((c) => c.id === id);
  if (cell === undefined) throw new Error(`no cell ${id}`);
  return cell;
};

const GLOROT = 'glorot-uniform.caffenet-small.none.nall';
const GAUSSIAN = 'gaussian-0.01.caffenet-small.none.nall';
const KMEANS = 'ddinit-kmeans+calibration.caffenet-small.none.nall';
const cellId = (configuration: string, seed: number) => configuration.replace('.none.', `.s${seed}.none.`);

/**
 * 3 initializations × 2 seeds, 40 steps (smoothing window 2): glorot and k-means
 * finish both seeds, gaussian s1 diverges (a failure artifact, as on Argo) and
 * gaussian s2 has not run. k-means s1 also has a failure artifact older than its
 * evaluation: an attempt a retry superseded.
 */
async function writeStudy(): Promise<void> {
  plan = planStudy(
    parseStudyConfig({ out: join(root, 'study'), init: ['glorot-uniform', 'gaussian-0.01', 'ddinit-kmeans+calibration'], seed: [1, 2], budget: { steps: 40 } }),
  );
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  const retried = cellOf(cellId(KMEANS, 1));
  await writeFailure(runOfCell(plan, retried, 'finetune').location, {
    key: retried.id,
    stage: 'finetune',
    kind: 'failed',
    message: 'the pod was evicted',
  });
  vi.useRealTimers();
  await publishCellResults(plan, cellOf(cellId(GLOROT, 1)), { top1: 0.7, loss0: 2.0, slope: 0.01, steps: 40 });
  await publishCellResults(plan, cellOf(cellId(GLOROT, 2)), { top1: 0.74, loss0: 2.2, slope: 0.01, steps: 40 });
  await publishCellResults(plan, cellOf(cellId(KMEANS, 1)), { top1: 0.78, loss0: 1.5, slope: 0.02, steps: 40 });
  await publishCellResults(plan, cellOf(cellId(KMEANS, 2)), { top1: 0.79, loss0: 1.7, slope: 0.02, steps: 40 });
  const diverged = cellOf(cellId(GAUSSIAN, 1));
  await writeFailure(runOfCell(plan, diverged, 'finetune').location, {
    key: diverged.id,
    stage: 'finetune',
    kind: 'diverged',
    message: 'the loss became NaN <after> the warm-up & "stayed"',
    step: 5,
  });
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'ddinit-merge-'));
  await writeStudy();
});

afterEach(() => {
  vi.useRealTimers();
  rmSync(root, { recursive: true, force: true });
});

describe('failure artifacts', () => {
  it('round-trip beside the run location, and a run without one reads null', async () => {
    const cell = cellOf(cellId(GAUSSIAN, 1));
    const location = runOfCell(plan, cell, 'finetune').location;
    expect(failureLocation(`${location}/`)).toBe(`${location}.failure`);
    const failure = await readFailure(location);
    expect(failure).toMatchObject({ key: cell.id, stage: 'finetune', kind: 'diverged', step: 5 });
    expect(Date.parse(failure?.createdAt ?? '')).toBeGreaterThan(Date.parse('2026-01-02T00:00:00Z'));
    expect(await readFailure(runOfCell(plan, cell, 'evaluate').location)).toBeNull();
    const metadata = await openArtifactLocation(failureLocation(location)).readMetadata();
    expect(metadata?.files.map((f) => f.name)).toEqual([FAILURE_FILE]);
    expect(metadata?.seed).toBe(1);
  });
});

describe('mergeStudy', () => {
  it('gives each cell its status and the report the means, paired interval and ranking of the known answers', async () => {
    const { location, report } = await mergeStudy(plan);
    expect(location).toBe(`file://${join(root, 'study', 'reports', 'study')}`);
    expect(report.counts).toEqual({ cells: 6, done: 4, diverged: 1, failed: 0, missing: 1 });
    expect(report.cells.map((c) => [c.id, c.status])).toEqual([
      [cellId(GLOROT, 1), 'done'],
      [cellId(GLOROT, 2), 'done'],
      [cellId(GAUSSIAN, 1), 'diverged'],
      [cellId(GAUSSIAN, 2), 'missing'],
      [cellId(KMEANS, 1), 'done'],
      [cellId(KMEANS, 2), 'done'],
    ]);
    expect(report.metric).toBe('top1');
    expect(report.smoothing).toEqual({ window: 2, fractions: [0.25, 0.5, 1] });

    const [glorot, gaussian, kmeans] = report.configurations;
    expect([glorot.id, gaussian.id, kmeans.id]).toEqual([GLOROT, GAUSSIAN, KMEANS]);
    expect(glorot.metric?.mean).toBeCloseTo(0.72, 12);
    expect(glorot.metric?.std).toBeCloseTo(0.0282842712474619, 12);
    expect(kmeans.metric?.mean).toBeCloseTo(0.785, 12);
    expect(kmeans.metric?.std).toBeCloseTo(0.00707106781186548, 12);
    expect(gaussian.metric).toBeNull();
    expect(gaussian.counts).toEqual({ done: 0, diverged: 1, failed: 0, missing: 1 });
    // Loss after k steps: mean of steps k − 2 and k − 1 = loss0 − slope·(k − 1.5).
    expect(glorot.lossAt.map((l) => l.steps)).toEqual([10, 20, 40]);
    expect(glorot.lossAt[0].mean).toBeCloseTo(2.015, 12);
    expect(glorot.lossAt[0].std).toBeCloseTo(0.14142135623731, 12);
    expect(glorot.lossAt[2].mean).toBeCloseTo(1.715, 12);
    expect(kmeans.lossAt[0].mean).toBeCloseTo(1.43, 12);
    expect(kmeans.lossAt[2].mean).toBeCloseTo(0.83, 12);
    expect(glorot.meanCurve).toHaveLength(40);
    expect(glorot.meanCurve.at(-1)?.[1]).toBeCloseTo(1.715, 12);

    const [gaussianDiff, kmeansDiff] = report.paired;
    expect(kmeansDiff).toMatchObject({ configuration: KMEANS, baseline: GLOROT, n: 2 });
    expect(kmeansDiff.differences.map((d) => d.value)).toEqual([expect.closeTo(0.08, 12), expect.closeTo(0.05, 12)]);
    expect(kmeansDiff.mean).toBeCloseTo(0.065, 12);
    // 0.065 ± t(0.975, 1) · 0.0212132 / √2 = 0.065 ± 12.7062047361747 · 0.015.
    expect(kmeansDiff.interval?.low).toBeCloseTo(-0.125593071042621, 9);
    expect(kmeansDiff.interval?.high).toBeCloseTo(0.255593071042621, 9);
    expect(gaussianDiff).toMatchObject({ configuration: GAUSSIAN, n: 0, mean: null, interval: null });

    expect(report.ranking).toHaveLength(1);
    expect(report.ranking[0].entries.map((e) => [e.rank, e.init])).toEqual([
      [1, 'ddinit-kmeans+calibration'],
      [2, 'glorot-uniform'],
      [null, 'gaussian-0.01'],
    ]);
  });

  it('writes a note for the diverged, missing and superseded cells and the configuration without pairs', async () => {
    const { report } = await mergeStudy(plan);
    expect(report.notes.map((n) => [n.kind, n.subject])).toEqual([
      ['diverged', cellId(GAUSSIAN, 1)],
      ['missing', cellId(GAUSSIAN, 2)],
      ['superseded', cellId(KMEANS, 1)],
      ['no-result', GAUSSIAN],
      ['no-interval', GAUSSIAN],
    ]);
    expect(report.notes[0].message).toBe('the finetune stage diverged at step 5: the loss became NaN <after> the warm-up & "stayed"');
  });

  it('publishes report.json and an escaped report.html holding every section', async () => {
    const { location, report } = await mergeStudy(plan);
    const dir = new URL(location).pathname;
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const section of [
      'Configurations',
      'Paired differences against glorot-uniform',
      'Ranking',
      'Learning curves',
      'Final metric per seed',
      'Cells',
      'Notes',
    ]) {
      expect(html).toContain(`<h2>${section}</h2>`);
    }
    expect(html).toContain('0.7200 ± 0.0283');
    expect(html).toContain('[−0.1256, +0.2556]');
    expect(html).toContain('NaN &lt;after&gt; the warm-up &amp; &quot;stayed&quot;');
    expect(html).not.toContain('<after>');
    expect((await openArtifactLocation(location).readMetadata())?.stage).toBe('compare');
  });

  it('is idempotent: merging twice gives the same report but for createdAt', async () => {
    const first = await mergeStudy(plan);
    const metadata = await openArtifactLocation(first.location).readMetadata();
    const second = await mergeStudy(plan);
    expect({ ...second.report, createdAt: null }).toEqual({ ...first.report, createdAt: null });
    expect((await openArtifactLocation(second.location).readMetadata())?.configHash).toBe(metadata?.configHash);
  });

  it('against another baseline (rebased): the paired differences against it, the report beside the study file’s own', async () => {
    const own = await mergeStudy(plan);
    const rebased = await mergeStudy({ ...plan, study: { ...plan.study, baseline: 'ddinit-kmeans+calibration' } }, { rebased: true });
    expect(rebased.location).toBe(`file://${join(root, 'study', 'reports', 'study-vs-ddinit-kmeans+calibration')}`);
    expect(rebased.report.paired.map((p) => [p.configuration, p.baseline])).toEqual([
      [GLOROT, KMEANS],
      [GAUSSIAN, KMEANS],
    ]);
    expect(own.report.paired.map((p) => p.baseline)).not.toContain(KMEANS);
    expect((await openArtifactLocation(own.location).readMetadata())?.stage).toBe('compare');
  });

  it('counts a failure reported in-process over the artifacts, and a failure newer than the evaluation', async () => {
    const glorot2 = cellOf(cellId(GLOROT, 2));
    await writeFailure(runOfCell(plan, glorot2, 'init').location, {
      key: 'glorot-uniform.caffenet-small.s2',
      stage: 'init',
      kind: 'failed',
      message: 'bucket unreachable',
    });
    const { report } = await mergeStudy(plan, {
      failures: [{ cellId: cellId(KMEANS, 2), stage: 'evaluate', kind: 'failed', message: 'out of memory' }],
    });
    expect(report.cells.find((c) => c.id === cellId(KMEANS, 2))).toMatchObject({ status: 'failed', failure: { stage: 'evaluate', message: 'out of memory' } });
    expect(report.cells.find((c) => c.id === glorot2.id)).toMatchObject({ status: 'failed', failure: { stage: 'init', message: 'bucket unreachable' } });
    expect(report.counts).toMatchObject({ done: 2, failed: 2 });
    // One pair left (seed 1): a difference without an interval.
    expect(report.paired[1]).toMatchObject({ n: 1, interval: null });
    expect(report.paired[1].mean).toBeCloseTo(0.08, 12);
  });

  it('reports the newest failure of a chain: an earlier attempt failed at init, the retry diverged in finetune', async () => {
    const cell = cellOf(cellId(GAUSSIAN, 2));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    await writeFailure(runOfCell(plan, cell, 'init').location, {
      key: 'gaussian-0.01.caffenet-small.s2',
      stage: 'init',
      kind: 'failed',
      message: 'bucket unreachable',
    });
    vi.useRealTimers();
    await writeFailure(runOfCell(plan, cell, 'finetune').location, { key: cell.id, stage: 'finetune', kind: 'diverged', message: 'loss NaN', step: 3 });
    const { report } = await mergeStudy(plan);
    expect(report.cells.find((c) => c.id === cell.id)).toMatchObject({ status: 'diverged', failure: { stage: 'finetune', step: 3 } });
  });

  it('lets a run whose own artifact is newer than its failure record supersede it, before its cell is evaluated', async () => {
    const cell = cellOf(cellId(GAUSSIAN, 2));
    const finetune = runOfCell(plan, cell, 'finetune');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    await writeFailure(finetune.location, { key: cell.id, stage: 'finetune', kind: 'failed', message: 'the pod was evicted' });
    vi.useRealTimers();
    const retried = openArtifactLocation(finetune.location);
    await retried.prepare();
    const files = new Map([['report.json', new TextEncoder().encode('{}')]]);
    await retried.publish(files, describeArtifact(files, { stage: 'finetune', configHash: 'retry', seed: 2, codeVersion: 'spec', backend: 'cpu' }));
    const { report } = await mergeStudy(plan);
    expect(report.cells.find((c) => c.id === cell.id)).toMatchObject({ status: 'missing', failure: null });
  });

  it('refuses an evaluate report without head metrics with a DataError naming the file', async () => {
    const cell = cellOf(cellId(GLOROT, 1));
    await publishCellResults(
      plan,
      cell,
      { top1: 0.7, loss0: 2, slope: 0.01, steps: 40 },
      { evaluateReport: { schemaVersion: 1, stage: 'evaluate', head: null } },
    );
    const merged = mergeStudy(plan);
    await expect(merged).rejects.toThrow(DataError);
    await expect(merged).rejects.toThrow(`${runOfCell(plan, cell, 'evaluate').location}/report.json`);
  });
});

describe('mergeStudy on S3 (the Argo merge: another pod, only the bucket)', () => {
  it('reads the failure artifacts and reports beside the runs and publishes the report under the study prefix', async () => {
    const s3 = await startS3rver(['artifacts']);
    try {
      const store = { client: s3.client() };
      const remote = planStudy(parseStudyConfig({ out: 's3://artifacts/study/', init: ['glorot-uniform', 'lsuv'], seed: [1, 2], budget: { steps: 40 } }));
      const [glorot1, glorot2, lsuv1, lsuv2] = remote.cells;
      await publishCellResults(remote, glorot1, { top1: 0.6, loss0: 2, slope: 0.01, steps: 40 }, { store });
      await publishCellResults(remote, glorot2, { top1: 0.64, loss0: 2, slope: 0.01, steps: 40 }, { store });
      await publishCellResults(remote, lsuv1, { top1: 0.7, loss0: 2, slope: 0.01, steps: 40 }, { store });
      await writeFailure(
        runOfCell(remote, lsuv2, 'init').location,
        { key: 'lsuv.caffenet-small.s2', stage: 'init', kind: 'failed', message: 'no such model' },
        store,
      );
      const { location, report } = await mergeStudy(remote, { store });
      expect(location).toBe('s3://artifacts/study/reports/study');
      expect(report.cells.map((c) => c.status)).toEqual(['done', 'done', 'done', 'failed']);
      expect(report.paired[0]).toMatchObject({ n: 1, interval: null });
      expect(report.paired[0].mean).toBeCloseTo(0.1, 12);
      const published = openArtifactLocation(location, store);
      const json = JSON.parse(new TextDecoder().decode(await published.readFile('report.json')));
      expect(json.counts).toEqual({ cells: 4, done: 3, diverged: 0, failed: 1, missing: 0 });
    } finally {
      await s3.stop();
    }
  });
});
