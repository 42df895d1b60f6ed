/**
 * README examples as tests: every ```ts block of a README is a program, and the
 * ```text block after it (introduced by a line such as "prints (wasm backend):")
 * is what it prints. `readme-examples.spec.ts` runs each program with tsx from the
 * repository root, exactly as a reader would, and compares the output with
 * {@link outputMismatch}.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface ReadmeExample {
  /** 1-based line of the opening ```ts fence. */
  line: number;
  code: string;
  /** The following ```text block, or undefined when the README has none. */
  expected: string | undefined;
}

/** The ```ts blocks of a README and the ```text block that follows each (only blank lines and one prose paragraph may sit between). */
export function readmeExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`unclosed \`\`\`ts block at line ${i + 1}`);
    const code = lines.slice(i + 1, end).join('\n');
    let expected: string | undefined;
    for (let j = end + 1; j < lines.length && !lines[j].startsWith('```') && !lines[j].startsWith('#'); j++) {
      if (lines[j + 1]?.trim() === '```text') {
        const close = lines.indexOf('```', j + 2);
        if (close < 0) throw new Error(`unclosed \`\`\`text block at line ${j + 2}`);
        expected = lines.slice(j + 2, close).join('\n');
        break;
      }
    }
    examples.push({ line: i + 1, code, expected });
    i = end;
  }
  return examples;
}

const NUMBER = /[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi;
const ELLIPSIS = '…';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `actual` agrees with an expected number written as `written`: integers
 * exactly; a number with d decimals (in its mantissa, for 1.5e-7) within one unit of
 * its last digit plus 0.1 % (float32 sums in another order, e.g. with more OpenBLAS
 * threads, move the last digit).
 */
export function numberMatches(written: string, actual: number): boolean {
  const expected = Number(written);
  const [mantissa, exponent] = written.toLowerCase().split('e');
  const decimals = /\.(\d+)/.exec(mantissa)?.[1].length ?? 0;
  if (decimals === 0 && exponent === undefined) return actual === expected;
  const unit = 10 ** (Number(exponent ?? 0) - decimals);
  return Math.abs(actual - expected) <= unit + 1e-3 * Math.abs(expected);
}

/** Why one output line does not match one expected line, or undefined when it does. */
function lineMismatch(expected: string, actual: string): string | undefined {
  const parts = expected.trim().split(new RegExp(`(${NUMBER.source}|${ELLIPSIS})`, 'i'));
  const pattern = parts
    .map((part, k) => (k % 2 === 0 ? escapeRegExp(part).replace(/\s+/g, '\\s+') : part === ELLIPSIS ? '.*?' : `(${NUMBER.source})`))
    .join('');
  const match = new RegExp(`^${pattern}$`, 'i').exec(actual.trim());
  if (match === null) return `expected "${expected.trim()}", got "${actual.trim()}"`;
  const written = parts.filter((part, k) => k % 2 === 1 && part !== ELLIPSIS);
  for (let k = 0; k < written.length; k++) {
    if (!numberMatches(written[k], Number(match[k + 1]))) return `expected ${written[k]}, got ${match[k + 1]} in "${actual.trim()}"`;
  }
  return undefined;
}

/**
 * Compares a program's output with the README's: line by line, numbers within
 * {@link numberMatches}, `…` inside a line matches any text, a line that is only `…`
 * matches any number of lines. Returns the first difference, or undefined.
 */
export function outputMismatch(expected: string, actual: string): string | undefined {
  const want = expected.trimEnd().split('\n');
  const got = actual.trimEnd().split('\n');
  const failures: { at: number; why: string }[] = [];
  const walk = (w: number, g: number): boolean => {
    if (w === want.length) {
      if (g === got.length) return true;
      failures.push({ at: g, why: `unexpected extra output "${got[g]}"` });
      return false;
    }
    if (want[w].trim() === ELLIPSIS) {
      for (let skip = g; skip <= got.length; skip++) if (walk(w + 1, skip)) return true;
      return false;
    }
    if (g === got.length) {
      // Ranked one line earlier: a real mismatch after a `…` says more than running out of output.
      failures.push({ at: g - 1, why: `missing output line "${want[w].trim()}"` });
      return false;
    }
    const why = lineMismatch(want[w], got[g]);
    if (why !== undefined) {
      failures.push({ at: g, why });
      return false;
    }
    return walk(w + 1, g + 1);
  };
  if (walk(0, 0)) return undefined;
  const furthest = failures.reduce((a, b) => (b.at > a.at ? b : a));
  return `output line ${Math.min(furthest.at + 1, got.length)}: ${furthest.why}`;
}

/** What a run printed. */
export interface ExampleRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs one example as `npx tsx example.ts` would, from `root` (so `@ddinit/*` resolve as
 * for a reader of the README), in a file under `root/tmp/readme-examples/`.
 */
export async function runExample(root: string, name: string, code: string, timeoutMs: number): Promise<ExampleRun> {
  const file = resolve(root, 'tmp/readme-examples', `${basename(name)}.ts`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, code);
  try {
    return await new Promise((done) => {
      // Plain text as in a pipe, also when the test runner forces colours (nx sets FORCE_COLOR).
      const { FORCE_COLOR: _forced, ...env } = process.env;
      const options = { cwd: root, timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...env, NO_COLOR: '1' } };
      execFile(process.execPath, ['--import', 'tsx', file], options, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        done({ stdout, stderr: error?.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr, exitCode: code });
      });
    });
  } finally {
    await rm(file, { force: true });
  }
}
