/**
 * `ddinit compare` end to end on the embedded data (the CI study): a tiny study
 * (2 initializations × 1 seed, 4 steps) runs every cell and writes the comparison
 * report with every section and finite numbers; --dry-run then finds every run up
 * to date; a stage run of an Argo task (`ddinit study-run`) that diverges leaves its
 * failure record for the merge; bad input exits 2 before anything is written; the
 * flags that exclude each other are refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main';
import { registerCompareCommand } from './compare-command';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-compare-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function compare(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return ddinit(['compare', ...argv, '--log-format', 'json']);
}

async function ddinit(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: {} };
  // main writes the error message (and commander its usage errors) to the process's stderr.
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, [(program) => registerCompareCommand(program, io)]);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

function writeStudy(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Paths of every number in `value` that is not finite (JSON writes NaN and ±Infinity as null, so those show as nulls where numbers belong). */
function nonFinite(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => nonFinite(item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => nonFinite(item, `${path}.${key}`));
  return [];
}

describe('ddinit compare', () => {
  it('runs a tiny study end to end and writes the comparison report with every section, its numbers finite', async () => {
    const out = join(dir, 'tiny');
    const study = writeStudy(
      'tiny.yaml',
      `name: tiny\ninit: [glorot-uniform, he-normal]\nseed: [1]\nbudget: { steps: 4, batchSize: 8, checkpointEvery: 2 }\nout: ${out}\n`,
    );
    const { code, stdout, stderr } = await compare(['--config', study, '--backend', 'wasm']);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('"message":"cell 2/2 evaluate he-normal.caffenet-small.s1.none.nall"');
    expect(JSON.parse(stdout)).toMatchObject({ type: 'result', counts: { ran: 6, upToDate: 0, failed: 0, blocked: 0 }, failures: [] });
    const report = JSON.parse(readFileSync(join(out, 'reports', 'tiny', 'report.json'), 'utf8')) as Record<string, unknown>;
    for (const section of ['study', 'baseline', 'metric', 'counts', 'cells', 'configurations', 'paired', 'ranking', 'notes'])
      expect(report).toHaveProperty(section);
    expect(report.counts).toMatchObject({ cells: 2, done: 2, diverged: 0, failed: 0, missing: 0 });
    expect(report.baseline).toBe('glorot-uniform');
    expect((report.configurations as { metric: { mean: number } }[]).map((c) => c.metric.mean)).toHaveLength(2);
    for (const configuration of report.configurations as { metric: { mean: number } }[]) {
      expect(configuration.metric.mean).toBeGreaterThanOrEqual(0);
      expect(configuration.metric.mean).toBeLessThanOrEqual(1);
    }
    expect(nonFinite(report)).toEqual([]);
    expect(readFileSync(join(out, 'reports', 'tiny', 'report.html'), 'utf8')).toContain('<svg');

    const dryRun = await compare(['--config', study, '--dry-run']);
    expect(dryRun.code).toBe(0);
    const listed = JSON.parse(dryRun.stdout) as { cells: string[]; runs: { status: string }[] };
    expect(listed.cells).toEqual(['glorot-uniform.caffenet-small.s1.none.nall', 'he-normal.caffenet-small.s1.none.nall']);
    expect(listed.runs.map((run) => run.status)).toEqual(Array(6).fill('up to date'));

    // An Argo stage task (`ddinit study-run`): the first cell's fine-tuning with a diverging learning rate.
    const finetune = JSON.parse(readFileSync(join(out, 'glorot-uniform.caffenet-small.s1.none.nall', 'finetune', 'report.json'), 'utf8')) as object;
    expect(finetune).toHaveProperty('test');
    const diverging = join(dir, 'diverging', 'finetune');
    const document = {
      finetune: { from: join(out, 'glorot-uniform.caffenet-small.s1', 'init'), steps: 6, batchSize: 8, learningRate: 1e12, seed: 1, out: diverging },
    };
    const task = await ddinit([
      'study-run',
      '--stage',
      'finetune',
      '--key',
      'k.s1',
      '--config',
      writeStudy('run.json', JSON.stringify(document)),
      '--log-format',
      'json',
    ]);
    expect(task.code).toBe(3); // a divergence: Argo's retryStrategy does not retry it
    expect(task.stderr).toMatch(/ddinit: step \d+(, layer \w+)?: the (loss is not finite|update diverges)/);
    const record = JSON.parse(readFileSync(join(`${diverging}.failure`, 'failure.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ stage: 'finetune', key: 'k.s1', kind: 'diverged', step: expect.any(Number) as number });
    expect(existsSync(join(diverging, 'report.json'))).toBe(false);
  }, 300_000);

  it('exits 2 before writing anything when a stage rejects a setting of the study, naming the run', async () => {
    const out = join(dir, 'bad');
    const study = writeStudy('bad.yaml', `init: [he-normal]\nseed: [1]\npretrain: [{ task: rotation, steps: 5, taskOptions: { gridSize: 3 } }]\nout: ${out}\n`);
    const { code, stderr } = await compare(['--config', study]);
    expect(code).toBe(2);
    expect(stderr).toContain('pretrain run he-normal.caffenet-small.s1.rot5: the study gives the pretrain stage a setting it rejects');
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 for a misspelt study key, an unknown model, and flags that exclude each other', async () => {
    const typo = await compare(['--config', writeStudy('typo.yaml', 'seeds: [1]\n')]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "seed"?');
    const model = await compare(['--config', writeStudy('model.yaml', `model: [no-such-net]\ninit: [he-normal]\nseed: [1]\nout: ${join(dir, 'model')}\n`)]);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain('no-such-net');
    expect(existsSync(join(dir, 'model'))).toBe(false);
    const both = await compare(['--merge', '--dry-run']);
    expect(both.code).toBe(2);
    const group = await compare(['--group', '6', '--dry-run']);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('--group: no such cell group in the study (expected an integer in [0, 5], got 6)');
  });
});
