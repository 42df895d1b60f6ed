/**
 * The PyTorch side of the training-step benchmark: finds a Python that imports
 * torch, runs tools/bench/torch/step.py (the reference networks rebuilt with
 * torch.nn, same layer shapes) and checks what it prints.
 */
import { spawnSync } from 'node:child_process';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TORCH_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../torch/step.py');

/** How to get PyTorch (Debian's package; /usr/bin/python3 then imports torch). */
export const TORCH_INSTALL_HINT = 'apt-get install python3-torch';

/** step.py's exit status for a network it has no mirror of. */
export const EXIT_UNKNOWN_NETWORK = 3;

/** One line of step.py's output. */
export interface TorchStepResult {
  network: string;
  batch: number;
  forwardMs: number;
  stepMs: number;
  threads: number;
  /** torch.__version__. */
  torch: string;
  /** Parameter count (equal to the tfjs model's countParams()). */
  params: number;
}

export type TorchPython = { found: true; python: string; version: string } | { found: false; reason: string };

/** `$DDINIT_TORCH_PYTHON` alone when set, else Debian's `/usr/bin/python3`, then `python3` on PATH. */
export function torchPythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.DDINIT_TORCH_PYTHON;
  return chosen !== undefined && chosen !== '' ? [chosen] : ['/usr/bin/python3', 'python3'];
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** The first candidate whose `import torch` works, with torch's version; else why none did. */
export function findTorchPython(candidates: string[] = torchPythonCandidates()): TorchPython {
  const failures: string[] = [];
  for (const python of candidates) {
    // cwd: `python -c` puts the working directory first on sys.path, and from tools/bench
    // the folder torch/ would pass for a (namespace) package named torch.
    const run = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
      encoding: 'utf8',
      timeout: 60_000,
      cwd: dirname(TORCH_SCRIPT),
    });
    if (run.status === 0) return { found: true, python, version: lastLine(run.stdout) };
    const why = run.error !== undefined ? run.error.message : lastLine(run.stderr) || `exit status ${run.status ?? run.signal}`;
    failures.push(`${python}: ${why}`);
  }
  return { found: false, reason: failures.join('; ') };
}

/** Per field of a result line: what it must be (for the message) and the check. */
export type FieldChecks<T> = Record<keyof T, [string, (v: unknown) => boolean]>;

const FIELD_CHECKS: FieldChecks<TorchStepResult> = {
  network: ['a non-empty string', (v) => typeof v === 'string' && v.length > 0],
  batch: ['a positive integer', (v) => Number.isInteger(v) && (v as number) > 0],
  forwardMs: ['a positive finite number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0],
  stepMs: ['a positive finite number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0],
  threads: ['a positive integer', (v) => Number.isInteger(v) && (v as number) > 0],
  torch: ['a non-empty string', (v) => typeof v === 'string' && v.length > 0],
  params: ['a positive integer', (v) => Number.isInteger(v) && (v as number) > 0],
};

/**
 * Parses a PyTorch script's stdout: one JSON object per non-empty line, each field checked.
 *
 * @throws Error naming the script, the line and the field when a line is not JSON or a field is missing or wrong.
 */
export function parseResultLines<T>(stdout: string, script: string, checks: FieldChecks<T>): T[] {
  const results: T[] = [];
  stdout.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    const where = `PyTorch ${script} output line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${where} is not JSON: ${text.slice(0, 200)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`${where} is not a JSON object: ${text.slice(0, 200)}`);
    }
    const record = value as Record<string, unknown>;
    for (const [field, [expected, ok]] of Object.entries(checks) as [string, [string, (v: unknown) => boolean]][]) {
      if (!ok(record[field])) {
        const actual = field in record ? JSON.stringify(record[field]) : 'nothing';
        throw new Error(`${where}: field "${field}" must be ${expected}, got ${actual}`);
      }
    }
    results.push(record as T);
  });
  return results;
}

/** Parses step.py's stdout (see {@link parseResultLines}). */
export function parseTorchOutput(stdout: string): TorchStepResult[] {
  return parseResultLines(stdout, 'step.py', FIELD_CHECKS);
}

/** A script's stdout, or its message for a name it has no mirror of (exit status {@link EXIT_UNKNOWN_NETWORK}). */
export type ScriptOutcome = { kind: 'ran'; stdout: string } | { kind: 'unmirrored'; message: string };

/**
 * Runs `python script args…` from the script's folder.
 * @throws Error when it cannot start or exits with another non-zero status (with its last stderr line).
 */
export function runTorchScript(python: string, script: string, args: string[], what: string): ScriptOutcome {
  const name = basename(script);
  const run = spawnSync(python, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 20, cwd: dirname(script) });
  if (run.error !== undefined) throw new Error(`PyTorch ${name} (${python}) could not run: ${run.error.message}`);
  if (run.status === EXIT_UNKNOWN_NETWORK) return { kind: 'unmirrored', message: lastLine(run.stderr) };
  if (run.status !== 0) throw new Error(`PyTorch ${name} (${python}) for ${what} exited with ${run.status ?? run.signal}: ${lastLine(run.stderr)}`);
  return { kind: 'ran', stdout: run.stdout };
}

export interface TorchRunOptions {
  repeats: number;
  warmup: number;
  seed: number;
  /** torch.set_num_threads; undefined = torch's default. */
  threads?: number;
}

/** A measured network, or one step.py has no mirror of (not an error: the row's torch columns stay empty). */
export type TorchOutcome = { kind: 'measured'; result: TorchStepResult } | { kind: 'unmirrored'; message: string };

/**
 * Times one network in PyTorch with `python` (the same batch, repeats and warm-up as the tfjs runs).
 *
 * @throws Error when step.py fails otherwise or prints something else than one valid line for `network`.
 */
export function runTorchStep(python: string, network: string, batch: number, options: TorchRunOptions): TorchOutcome {
  const args = [`${network}:${batch}`, '--repeats', String(options.repeats), '--warmup', String(options.warmup), '--seed', String(options.seed)];
  if (options.threads !== undefined) args.push('--threads', String(options.threads));
  const run = runTorchScript(python, TORCH_SCRIPT, args, network);
  if (run.kind === 'unmirrored') return run;
  const results = parseTorchOutput(run.stdout);
  if (results.length !== 1 || results[0].network !== network || results[0].batch !== batch) {
    throw new Error(`PyTorch step.py printed ${JSON.stringify(results.map((r) => [r.network, r.batch]))}, expected one line for ${network} at batch ${batch}`);
  }
  return { kind: 'measured', result: results[0] };
}
