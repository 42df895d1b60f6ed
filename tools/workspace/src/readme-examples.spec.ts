/**
 * Every library README's ```ts example runs as written (from the repository root,
 * on the backend it selects) and prints what the README's ```text block shows.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadNativeBlas } from '@ddinit/native-blas';
import { describe, expect, it } from 'vitest';
import { numberMatches, outputMismatch, readmeExamples, runExample } from './readme-examples';

const root = resolve(import.meta.dirname, '../../..');
const libraries = readdirSync(resolve(root, 'libs')).filter((lib) => existsSync(resolve(root, 'libs', lib, 'README.md')));
/** The native-blas example needs the addon; CI (DDINIT_NATIVE_BLAS=require) always has it. */
const nativeMissing = !loadNativeBlas().ok && process.env.DDINIT_NATIVE_BLAS !== 'require';

describe('README examples', () => {
  for (const lib of libraries) {
    const path = `libs/${lib}/README.md`;
    const examples = readmeExamples(readFileSync(resolve(root, path), 'utf8'));
    it(`${path} has an example`, () => {
      expect(examples.length).toBeGreaterThan(0);
    });
    for (const example of examples) {
      it.skipIf(lib === 'native-blas' && nativeMissing)(
        `${path}:${example.line} runs and prints what the README shows`,
        async () => {
          expect(example.expected, `${path}:${example.line} is followed by a \`\`\`text block of its output`).toBeDefined();
          const run = await runExample(root, `${lib}-${example.line}`, example.code, 240_000);
          expect(run.exitCode, run.stderr).toBe(0);
          expect(outputMismatch(example.expected ?? '', run.stdout), `${path}:${example.line}\n${run.stdout}`).toBeUndefined();
        },
        270_000,
      );
    }
  }
});

describe('README example matching', () => {
  it('pairs each ts block with the text block after it', () => {
    const md = [
      '# x',
      '```ts',
      'console.log(1);',
      '```',
      '',
      'prints:',
      '',
      '```text',
      '1',
      '```',
      '```ts',
      'f();',
      '```',
      '## next',
      '```text',
      'no',
      '```',
    ].join('\n');
    expect(readmeExamples(md)).toEqual([
      { line: 2, code: 'console.log(1);', expected: '1' },
      { line: 11, code: 'f();', expected: undefined },
    ]);
  });

  it('compares integers exactly and decimals to their last shown digit', () => {
    expect(numberMatches('74', 74)).toBe(true);
    expect(numberMatches('74', 75)).toBe(false);
    expect(numberMatches('0.0074', 0.00745)).toBe(true);
    expect(numberMatches('0.0074', 0.0086)).toBe(false);
    expect(numberMatches('70.84', 70.9)).toBe(true); // within 0.01 + 0.1 %
    expect(numberMatches('70.84', 71)).toBe(false);
    expect(numberMatches('1.5e-7', 1.6e-7)).toBe(true);
    expect(numberMatches('1.5e-7', 1.7e-7)).toBe(false);
  });

  it('finds a printed number that contradicts the README', () => {
    expect(outputMismatch('0.0074', '0.1175')).toBe('output line 1: expected 0.0074, got 0.1175 in "0.1175"');
    expect(outputMismatch('true 3 0.0074', 'true 3 0.0074')).toBeUndefined();
    expect(outputMismatch('a [16, 13]', 'a [16, 14]')).toMatch(/expected 13, got 14/);
    expect(outputMismatch('x', 'x\ny')).toMatch(/extra output "y"/);
    expect(outputMismatch('x\ny', 'x')).toMatch(/missing output line "y"/);
  });

  it('lets … stand for any text in a line and for any lines on its own', () => {
    expect(outputMismatch('tiny at …', 'tiny at file:///tmp/ddinit-example-Ab12')).toBeUndefined();
    expect(outputMismatch('start\n…\nend 2', 'start\nwarn a\nwarn b\nend 2')).toBeUndefined();
    expect(outputMismatch('start\n…\nend 2', 'start\nend 3')).toMatch(/expected 2, got 3/);
  });
});
