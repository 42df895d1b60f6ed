/**
 * The real `ddinit finetune` process, as a Kubernetes pod runs it: SIGKILLed
 * after its first checkpoint and started again with the same command, it says
 * that it resumed and ends with the weights of an uninterrupted run, byte for
 * byte (every step's batch depends only on the seed and the step); SIGTERMed, it
 * writes a checkpoint and exits 1. Tiny settings (an init artifact of 48 images,
 * 8 images a step) keep each case under a minute on two cores.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@ddinit/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from './config/pipeline-config';
import { runInitStage } from './stages/init-stage';
import { checkpointSteps, logMessages, startCli, until, type Run } from './testing/cli-process';

const STEPS = 6;
const GIVE_UP_MS = 120_000;

let dir: string;
let init: string;
beforeAll(async () => {
  await selectBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ddinit-finetune-process-'));
  init = join(dir, 'init');
  await runInitStage(PipelineConfigSchema.parse({ out: init, sample: 48, calibrationBatch: 8, init: 'ddinit-gaussian+calibration', backend: 'wasm' }), {
    backend: 'wasm',
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function finetuneArgs(out: string, checkpointEvery: number): string[] {
  return [
    'finetune',
    ...['--from', init, '--labels-per-class', '8', '--flip', '--crop-padding', '2'],
    ...['--steps', String(STEPS), '--batch-size', '8', '--checkpoint-every', String(checkpointEvery), '--test-every', '3', '--curve-examples', '50'],
    ...['--backend', 'wasm', '--log-format', 'json', '--out', out],
  ];
}

const start = (args: string[]): Run => startCli(args, GIVE_UP_MS);

describe('ddinit finetune, killed and started again', () => {
  it('SIGKILL after the first checkpoint, then the same command: "resumed", and the weights of an uninterrupted run', async () => {
    const straight = start(finetuneArgs(join(dir, 'straight'), 2));
    const killedOut = join(dir, 'killed');
    const killed = start(finetuneArgs(killedOut, 2));
    await until(() => checkpointSteps(killedOut).length > 0, killed);
    killed.child.kill('SIGKILL');
    expect((await killed.exit).signal).toBe('SIGKILL');
    const resumedAt = Math.max(...checkpointSteps(killedOut));
    expect(resumedAt).toBeLessThan(STEPS);
    expect(existsSync(join(killedOut, 'weights.bin'))).toBe(false);

    const again = start(finetuneArgs(killedOut, 2));
    expect(await again.exit, again.stderr()).toEqual({ code: 0, signal: null });
    expect(logMessages(again.stderr())).toContain('resumed from a checkpoint');
    const report = JSON.parse(readFileSync(join(killedOut, 'report.json'), 'utf8'));
    expect(report.resumedFrom).toBeGreaterThanOrEqual(resumedAt);
    expect(await straight.exit, straight.stderr()).toEqual({ code: 0, signal: null });
    expect(readFileSync(join(killedOut, 'weights.bin')).equals(readFileSync(join(dir, 'straight', 'weights.bin')))).toBe(true);
    // The same weights score the same on the test split.
    expect(report.test.primary).toEqual(JSON.parse(readFileSync(join(dir, 'straight', 'report.json'), 'utf8')).test.primary);
    expect(existsSync(join(killedOut, '.ddinit-checkpoints'))).toBe(false);
  }, 300_000);

  it('SIGTERM during training: a checkpoint of the step it reached, exit 1 saying how to resume', async () => {
    const out = join(dir, 'terminated');
    const run = start(finetuneArgs(out, 0));
    await until(() => /"task":"train","phase":"advance"/.test(run.stderr()), run);
    run.child.kill('SIGTERM');
    const exit = await run.exit;
    expect(exit, run.stderr()).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toMatch(/^ddinit: stopped on SIGTERM after writing a checkpoint; run the same command again to resume from it$/m);
    expect(checkpointSteps(out)).toHaveLength(1);
    expect(existsSync(join(out, 'weights.bin'))).toBe(false);
  }, 300_000);

  it('bad input: a layer the network lacks exits 2 naming the layers, and nothing is published', async () => {
    const out = join(dir, 'bad');
    const run = start([...finetuneArgs(out, 0), '--train-from', 'conv9']);
    expect((await run.exit).code).toBe(2);
    expect(run.stderr()).toMatch(/^ddinit: trainFrom: no such layer to train from \(expected one of data, conv1, .*, got conv9\)$/m);
    expect(existsSync(join(out, 'metadata.json'))).toBe(false);
  }, 300_000);
});
