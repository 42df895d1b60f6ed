/**
 * One pattern for spec helpers (docs/architecture.md, "Tests and CI"): a source
 * file that only specs import lives in its package's `src/testing/` folder, and
 * the files there are kebab-case names of what they provide.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

/**
 * Helpers not moved yet, because another branch was editing their folder when the
 * rule was introduced; each entry must still exist, so the list shrinks as they move.
 */
const PENDING: Record<string, string> = {};

/** This project is the workspace's checks: every file in it serves a spec, so its sources are not helpers to move. */
const CHECKS_PROJECT = resolve(root, 'tools/workspace');

const SPEC = /\.spec\.ts$/;
const SOURCE = /\.(ts|mts|js|mjs)$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = resolve(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (SOURCE.test(entry.name)) out.push(path);
  }
  return out;
}

function projects(): string[] {
  return ['libs', 'apps', 'tools'].flatMap((group) =>
    readdirSync(resolve(root, group), { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(resolve(root, group, e.name, 'package.json')))
      .map((e) => resolve(root, group, e.name)),
  );
}

/** Files a package exposes (package.json `exports`, `bin`): entry points, whoever imports them. */
function entryPoints(project: string): Set<string> {
  const pkg = JSON.parse(readFileSync(resolve(project, 'package.json'), 'utf8')) as { exports?: unknown; bin?: unknown };
  const targets = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.add(resolve(project, value));
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(pkg.exports);
  collect(pkg.bin);
  return targets;
}

/** Relative import target → importing files, over every source file of the workspace. */
function importers(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const byTarget = new Map<string, string[]>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g)) {
      const base = resolve(dirname(file), match[1]);
      const target = [base, `${base}.ts`, resolve(base, 'index.ts'), base.replace(/\.js$/, '.ts')].find((c) => known.has(c));
      if (target === undefined) continue;
      byTarget.set(target, [...(byTarget.get(target) ?? []), file]);
    }
  }
  return byTarget;
}

const inTesting = (file: string) => /[\\/]src[\\/]testing[\\/]/.test(file);

describe('spec helpers', () => {
  const all = projects();
  const files = all.flatMap((project) => walk(project));
  const exposed = new Set(all.flatMap((project) => [...entryPoints(project)]));

  it('live in src/testing/ when only specs (or other helpers) import them', () => {
    const byTarget = importers(files);
    const misplaced = files
      .filter((f) => !SPEC.test(f) && !inTesting(f) && !exposed.has(f) && !f.startsWith(CHECKS_PROJECT))
      .filter((f) => {
        const users = byTarget.get(f) ?? [];
        return users.length > 0 && users.every((u) => SPEC.test(u) || inTesting(u));
      })
      .map((f) => relative(root, f))
      .filter((f) => !(f in PENDING));
    expect(misplaced).toEqual([]);
  });

  it('are kebab-case files named for what they provide, without spec/test/fixture affixes', () => {
    const badNames = files
      .filter(inTesting)
      .map((f) => relative(root, f))
      .filter((f) => {
        const name = f.split(/[\\/]/).at(-1) as string;
        return !/^[a-z0-9]+(-[a-z0-9]+)*\.(ts|mts|mjs)$/.test(name) || /^(spec|test)-/.test(name) || /\.fixture\./.test(name);
      });
    expect(badNames).toEqual([]);
  });

  it('lists only pending moves that are still pending', () => {
    for (const path of Object.keys(PENDING)) expect(existsSync(resolve(root, path)), path).toBe(true);
  });
});
