/**
 * README.md's test command and .ci/run must agree: CI runs exactly what a
 * newcomer is told to run.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

describe('README and CI', () => {
  it('runs the README test command in .ci/run after a clean install', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    const ci = readFileSync(resolve(root, '.ci/run'), 'utf8');
    const testCommand = /Run all tests[\s\S]*?```sh\n([^\n]+)\n```/.exec(readme)?.[1];
    expect(testCommand, 'README.md names the test command under "Run all tests"').toBeDefined();
    const steps = (testCommand ?? '').split('&&').map((s) => s.trim());
    expect(steps[0]).toBe('npm ci');
    const ciLines = ci.split('\n').map((l) => l.trim());
    const install = ciLines.findIndex((l) => l.startsWith('npm ci'));
    expect(install).toBeGreaterThanOrEqual(0);
    for (const step of steps.slice(1)) {
      expect(ciLines.indexOf(step), `.ci/run runs "${step}" after npm ci`).toBeGreaterThan(install);
    }
  });

  it('gives a main-job command that the pipeline project can run', () => {
    const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npx nx run pipeline:init');
    const pipeline = JSON.parse(readFileSync(resolve(root, 'apps/pipeline/package.json'), 'utf8'));
    expect(pipeline.nx.name).toBe('pipeline');
    // The built bin, after the (cached) build of the pipeline and its libraries.
    expect(pipeline.nx.targets.init.command).toMatch(/ddinit\.js init$/);
    expect(pipeline.nx.targets.init.dependsOn).toContain('build');
    expect(pipeline.bin.ddinit).toBe('./bin/ddinit.js');
  });

  it('runs every stage target uncached with nothing to hash (docs/RESULTS.md, "Start-up")', () => {
    const pipeline = JSON.parse(readFileSync(resolve(root, 'apps/pipeline/package.json'), 'utf8'));
    const nx = JSON.parse(readFileSync(resolve(root, 'nx.json'), 'utf8'));
    for (const stage of ['init', 'pretrain', 'finetune', 'evaluate']) {
      const target = pipeline.nx.targets[stage];
      expect(target.command, stage).toMatch(new RegExp(`ddinit\\.js ${stage}$`));
      // A stage writes its own artifact and decides itself whether it is up to date: Nx never
      // replays it, so its hash is never looked up, and the default inputs (every file of the
      // pipeline and its libraries) would be hashed at every run for nothing.
      expect(target.cache ?? nx.targetDefaults?.[stage]?.cache ?? false, stage).toBe(false);
      expect(target.inputs, stage).toEqual([]);
    }
  });

  it('keeps analytics and cloud prompts off in nx.json', () => {
    const nx = JSON.parse(readFileSync(resolve(root, 'nx.json'), 'utf8'));
    expect(nx.analytics).toBe(false);
    expect(nx.neverConnectToCloud).toBe(true);
  });
});
