/**
 * Code and READMEs cite the method by an anchor of docs/method.md: every cited
 * anchor must exist there, and no file cites the team's algorithm notes, which live outside
 * the repository, instead.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The file name of the team's algorithm notes (outside the repository), spelled in pieces so this spec does not cite it. */
const TEAM_NOTES = new RegExp(['ALGO', 'RITHM\\.md'].join(''));

const root = resolve(import.meta.dirname, '../../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name.startsWith('.')) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|md)$/.test(name) ? [path] : [];
  });
}

describe('docs/method.md citations', () => {
  it('cite only anchors that exist', () => {
    const method = readFileSync(resolve(root, 'docs/method.md'), 'utf8');
    const anchors = new Set([...method.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]));
    const citations = ['libs', 'apps', 'tools']
      .flatMap((top) => filesUnder(resolve(root, top)))
      .flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/method\.md#([a-z0-9-]+)/g)].map((m) => ({ at: relative(root, file), anchor: m[1] })));
    expect(citations.length).toBeGreaterThan(10);
    const missing = citations.filter((c) => !anchors.has(c.anchor)).map((c) => `${c.at}: #${c.anchor}`);
    expect(missing).toEqual([]);
  });

  it('is what the code cites instead of the team notes', () => {
    const stale = ['libs', 'apps', 'tools']
      .flatMap((top) => filesUnder(resolve(root, top)))
      .filter((file) => !file.endsWith('method-anchors.spec.ts') && TEAM_NOTES.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(stale).toEqual([]);
  });
});
