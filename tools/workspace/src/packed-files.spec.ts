/**
 * What `npm pack` puts in each package's tarball is what a user installs: every
 * file its entry points, its bin and its install script name must be in it. dist/ is
 * git-ignored, and npm leaves git-ignored files out of a package that lists no
 * `files`, so without this a published package holds its TypeScript sources and
 * none of the JavaScript its exports point to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

interface PackageJson {
  name: string;
  private?: boolean;
  exports?: Record<string, Record<string, string>>;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
}

/** The published workspace packages (libs/* and apps/*; tools/* are private). */
function publishedPackages(): { dir: string; pkg: PackageJson }[] {
  return ['libs', 'apps']
    .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson }))
    .filter(({ pkg }) => pkg.private !== true);
}

/** The paths `npm pack` would put in the tarball (no scripts run, nothing written). */
function packedPaths(dir: string): Set<string> {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(run.status, run.stderr).toBe(0);
  const [report] = JSON.parse(run.stdout) as { files: { path: string }[] }[];
  return new Set((report?.files ?? []).map((f) => f.path));
}

/** Every file a user's install resolves: export targets (not the workspace-only source condition), bins, the install script's file. */
function filesUsersNeed(dir: string, pkg: PackageJson): string[] {
  const exported = Object.values(pkg.exports ?? {}).flatMap((conditions) =>
    Object.entries(conditions)
      .filter(([condition]) => condition !== '@ddinit/source')
      .map(([, path]) => path),
  );
  const bins = Object.values(pkg.bin ?? {});
  const install = /^node (\S+)/.exec(pkg.scripts?.install ?? '')?.[1];
  const gyp = existsSync(join(dir, 'binding.gyp'))
    ? ['binding.gyp', ...(/"sources":\s*\[([^\]]*)\]/.exec(readFileSync(join(dir, 'binding.gyp'), 'utf8'))?.[1].match(/[\w./-]+\.c\b/g) ?? [])]
    : [];
  return [...exported, ...bins, ...(install ? [install] : []), ...gyp].map((path) => path.replace(/^\.\//, ''));
}

describe('published package contents', () => {
  const packages = publishedPackages();

  it('finds the workspace packages', () => {
    expect(packages.map(({ pkg }) => pkg.name)).toEqual(expect.arrayContaining(['@ddinit/core', '@ddinit/native-blas', '@ddinit/data', '@ddinit/pipeline']));
  });

  it.each(packages.map(({ dir, pkg }) => [pkg.name, dir, pkg] as const))(
    '%s packs every file its exports, bin and install script name',
    (_name, dir, pkg) => {
      const needed = filesUsersNeed(dir, pkg);
      expect(needed.length).toBeGreaterThan(0);
      const unbuilt = needed.filter((path) => !existsSync(join(dir, path)));
      expect(unbuilt, 'not built: run `npx nx run-many -t build` (npm ci does)').toEqual([]);
      const packed = packedPaths(dir);
      expect(needed.filter((path) => !packed.has(path))).toEqual([]);
      // Specs and TypeScript sources stay in the repository.
      expect([...packed].filter((path) => path.endsWith('.spec.ts') || (path.startsWith('src/') && path.endsWith('.ts')))).toEqual([]);
    },
    120_000,
  );

  it("packs @ddinit/data's embedded sample, which the library reads from its install directory", () => {
    const packed = packedPaths(join(root, 'libs/data'));
    const sample = readdirSync(join(root, 'libs/data/assets/fashion-mnist-sample')).map((f) => `assets/fashion-mnist-sample/${f}`);
    expect(sample).toContain('assets/fashion-mnist-sample/manifest.json');
    expect(sample.filter((path) => !packed.has(path))).toEqual([]);
  }, 120_000);
});
