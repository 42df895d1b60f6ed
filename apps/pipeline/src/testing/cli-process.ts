/**
 * The built `ddinit` CLI as a child process, for the specs that kill and restart a
 * stage as a Kubernetes pod would (pretrain-process.spec.ts, finetune-process.spec.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/ddinit.js');

export interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `ddinit <args>`; a run still alive after `giveUpMs` is SIGKILLed. */
export function startCli(args: string[], giveUpMs: number): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), giveUpMs);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      done({ code, signal });
    }),
  );
  return { child, stderr: () => stderr, exit };
}

/** The steps of the complete checkpoints (those with a record) in `out`. */
export function checkpointSteps(out: string): number[] {
  const folder = join(out, '.ddinit-checkpoints');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((name) => /^checkpoint-(\d+)\.json$/.exec(name)?.[1])
    .filter((step): step is string => step !== undefined)
    .map(Number);
}

/** Resolves once `ready()` holds, polling every 20 ms. */
export async function until(ready: () => boolean, run: Run): Promise<void> {
  let exited = false;
  void run.exit.then(() => (exited = true));
  while (!ready()) {
    if (exited) throw new Error(`ddinit exited before the awaited state:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const logMessages = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; message?: string })
    .filter((record) => record.type === 'log')
    .map((record) => record.message ?? '');
