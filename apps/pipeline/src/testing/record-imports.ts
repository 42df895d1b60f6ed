/**
 * Runs the built `ddinit` in a child process and records which packages it
 * imported (module hooks on `--import`, every resolved ESM URL), for specs about
 * what a command loads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/ddinit.js');
const RECORDER = resolve(import.meta.dirname, 'import-recorder.mjs');

export interface RecordedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The npm packages the process imported, by name (`@tensorflow/tfjs`, `zod`…), sorted. */
  packages: string[];
}

/** The package a `file:` URL under node_modules belongs to, else undefined. */
function packageOf(url: string): string | undefined {
  return /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
}

/** Runs `ddinit <args>` (the build, bin/ddinit.js) and returns its output and imported packages. */
export async function runRecordingImports(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RecordedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ddinit-imports-'));
  const record = join(dir, 'imports.txt');
  try {
    const child = spawn(process.execPath, ['--import', RECORDER, BIN, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env, DDINIT_RECORD_IMPORTS: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('close', done));
    const urls = readFileSync(record, 'utf8').split('\n').filter(Boolean);
    const packages = [...new Set(urls.map(packageOf).filter((p): p is string => p !== undefined))].sort();
    return { code, stdout, stderr, packages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
