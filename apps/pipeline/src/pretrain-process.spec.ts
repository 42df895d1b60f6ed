/**
 * The real `ddinit pretrain` process, as a Kubernetes pod runs it: SIGKILLed
 * after its first checkpoint (a node lost, an OOM kill) and started again with
 * the same command, it says that it resumed and ends with the weights of an
 * uninterrupted run, byte for byte; SIGTERMed (what Kubernetes sends before it
 * kills a pod), it writes a checkpoint of the step it reached and exits 1, so the
 * Job's next pod resumes from it; another configuration on the same `--out` is
 * refused (exit 2), naming the checkpoint. Tiny settings (a baseline caffenet-small, 8
 * images a step) keep each case under a minute on two cores.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSteps, logMessages, startCli, until, type Run } from './testing/cli-process';

const STEPS = 6;
const GIVE_UP_MS = 90_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-pretrain-process-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pretrainArgs(out: string, checkpointEvery: number): string[] {
  return [
    'pretrain',
    ...['--baseline', 'he-normal', '--model', 'caffenet-small', '--sample', '32'],
    ...['--steps', String(STEPS), '--batch-size', '8', '--checkpoint-every', String(checkpointEvery)],
    ...['--backend', 'wasm', '--log-format', 'json', '--out', out],
  ];
}

const start = (args: string[]): Run => startCli(args, GIVE_UP_MS);

describe('ddinit pretrain, killed and started again', () => {
  it('SIGKILL after the first checkpoint, then the same command: "resumed", and the weights of an uninterrupted run', async () => {
    const straight = start(pretrainArgs(join(dir, 'straight'), 2));
    const killedOut = join(dir, 'killed');
    const killed = start(pretrainArgs(killedOut, 2));
    await until(() => checkpointSteps(killedOut).length > 0, killed);
    killed.child.kill('SIGKILL');
    expect((await killed.exit).signal).toBe('SIGKILL');
    const resumedAt = Math.max(...checkpointSteps(killedOut));
    expect(resumedAt).toBeLessThan(STEPS);
    expect(existsSync(join(killedOut, 'weights.bin'))).toBe(false);

    const again = start(pretrainArgs(killedOut, 2));
    expect(await again.exit, again.stderr()).toEqual({ code: 0, signal: null });
    expect(logMessages(again.stderr())).toContain('resumed from a checkpoint');
    expect(JSON.parse(readFileSync(join(killedOut, 'report.json'), 'utf8')).resumedFrom).toBeGreaterThanOrEqual(resumedAt);
    expect(await straight.exit, straight.stderr()).toEqual({ code: 0, signal: null });
    expect(logMessages(straight.stderr())).not.toContain('resumed from a checkpoint');
    expect(readFileSync(join(killedOut, 'weights.bin')).equals(readFileSync(join(dir, 'straight', 'weights.bin')))).toBe(true);
    // Published: the checkpoints are gone.
    expect(existsSync(join(killedOut, '.ddinit-checkpoints'))).toBe(false);
  }, 120_000);

  it('SIGTERM during training: a checkpoint of the step it reached, exit 1 saying how to resume', async () => {
    const out = join(dir, 'terminated');
    // No periodic checkpoints: any checkpoint there was written on SIGTERM.
    const run = start(pretrainArgs(out, 0));
    await until(() => /"task":"train","phase":"advance"/.test(run.stderr()), run);
    run.child.kill('SIGTERM');
    const exit = await run.exit;
    expect(exit, run.stderr()).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toMatch(/^ddinit: stopped on SIGTERM after writing a checkpoint; run the same command again to resume from it$/m);
    const steps = checkpointSteps(out);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toBeGreaterThanOrEqual(1);
    expect(steps[0]).toBeLessThan(STEPS);
    expect(existsSync(join(out, 'weights.bin'))).toBe(false);

    // Another configuration on the same --out: exit 2 naming the checkpoint, nothing published.
    const other = start([...pretrainArgs(out, 0), '--learning-rate', '0.02']);
    expect((await other.exit).code).toBe(2);
    expect(other.stderr()).toMatch(
      /^ddinit: .*\.ddinit-checkpoints\/checkpoint-\d{9}\.ddts: the checkpoint in --out was written by another configuration; use another --out, or --force to start over/m,
    );
    expect(existsSync(join(out, 'weights.bin'))).toBe(false);
    // The same command resumes from the SIGTERM's checkpoint.
    const again = start(pretrainArgs(out, 0));
    expect(await again.exit, again.stderr()).toEqual({ code: 0, signal: null });
    expect(logMessages(again.stderr())).toContain('resumed from a checkpoint');
  }, 120_000);
});
