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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../bin/ddinit.js');
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

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      done({ code, signal });
    }),
  );
  return { child, stderr: () => stderr, exit };
}

/** The steps of the complete checkpoints (those with a record) in `out`. */
function checkpointSteps(out: string): number[] {
  const folder = join(out, '.ddinit-checkpoints');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((name) => /^checkpoint-(\d+)\.json$/.exec(name)?.[1])
    .filter((step): step is string => step !== undefined)
    .map(Number);
}

/** Resolves once `ready()` holds, polling every 20 ms. */
async function until(ready: () => boolean, run: Run): Promise<void> {
  let exited = false;
  void run.exit.then(() => (exited = true));
  while (!ready()) {
    if (exited) throw new Error(`ddinit exited before the awaited state:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const logMessages = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; message?: string })
    .filter((record) => record.type === 'log')
    .map((record) => record.message ?? '');

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
