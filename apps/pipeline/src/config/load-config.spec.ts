import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ZodError, z } from 'zod';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { registerConfigCommand } from '../commands/config-command';
import { main } from '../main';
import { closestKey, editDistance, knownKeysAt } from './key-suggestions';
import { ConfigError } from '@ddinit/core/base';
import { configFromEnvironment, loadPipelineConfig, type ConfigSources } from './load-config';
import { PipelineConfigSchema, resultDefiningConfig } from './pipeline-config';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ddinit-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('pipeline configuration', () => {
  it('has defaults that run the main job', () => {
    const config = loadPipelineConfig({ env: {} });
    expect(config).toMatchObject({
      data: 'embedded',
      model: 'caffenet-small',
      init: 'ddinit-kmeans+calibration',
      calibrationBatch: 16,
      seed: 0,
      backend: 'auto',
      out: 'artifacts/init',
      force: false,
    });
    // Unset: the init stage derives the sample size from the model (stages/sample-size.ts).
    expect(config.sample).toBeUndefined();
    expect(config.calibration.maxIterations).toBe(10);
  });

  it('layers defaults < file < environment < flags', () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'model: vgg-plain-11\nseed: 3\ninit: ddinit-pca\nout: /tmp/a\n');
    const config = loadPipelineConfig({
      file,
      env: { DDINIT_SEED: '5', DDINIT_OUT: '/tmp/b', DDINIT_INIT: 'ddinit-zca' },
      flags: { out: '/tmp/c', init: undefined },
    });
    expect(config).toMatchObject({ model: 'vgg-plain-11', seed: 5, init: 'ddinit-zca', out: '/tmp/c' });
    expect(loadPipelineConfig({ file, env: {}, flags: { init: 'lsuv' } }).init).toBe('lsuv');
  });

  it('reads JSON files too', () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sample: 32, calibrationBatch: 8 }));
    expect(loadPipelineConfig({ file, env: {} })).toMatchObject({ sample: 32, calibrationBatch: 8 });
  });

  it('names the field and what was expected', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'init: ddinit-kmeanz\nsample: -3\nunknownKey: 1\n');
    let error: unknown;
    try {
      loadPipelineConfig({ file, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZodError);
    const pretty = z.prettifyError(error as ZodError);
    expect(pretty).toMatch(/→ at init/);
    // An unknown name lists every name.
    expect(pretty).toMatch(/"glorot-uniform".*"he-normal".*"gaussian-0\.01".*"orthogonal".*"lsuv".*"ddinit-kmeans\+calibration"/);
    expect(pretty).toMatch(/sample/);
    expect(pretty).toMatch(/unknownKey/);
    expect(() => loadPipelineConfig({ flags: { sample: 8, calibrationBatch: 16 }, env: {} })).toThrow(/must not exceed sample \(8\)/);
  });

  it('suggests the closest known key for a misspelt one, naming the file and the path', () => {
    const file = join(dir, 'typos.yaml');
    writeFileSync(file, 'sampel: 32\nwithinOptions:\n  betta: 0.1\n  layers:\n    - { mach: fc6, kind: dense }\nkubernetes:\n  sweep: { axis: {} }\nzzz: 1\n');
    let error: unknown;
    try {
      loadPipelineConfig({ file, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZodError);
    const pretty = z.prettifyError(error as ZodError);
    expect(pretty).toContain(`Unrecognized key "sampel" in config file ${file}: did you mean "sample"?`);
    expect(pretty).toMatch(/Unrecognized key "betta" in config file .*: did you mean "beta"\?\n\s+→ at withinOptions/);
    expect(pretty).toMatch(/Unrecognized key "mach" .*: did you mean "match"\?\n\s+→ at withinOptions\.layers\[0\]/);
    expect(pretty).toMatch(/Unrecognized key "axis" .*: did you mean "axes"\?\n\s+→ at kubernetes\.sweep/);
    expect(pretty).toMatch(/Unrecognized key "zzz" .*: known keys here: data, split, sample, /);
  });

  it('fails `ddinit config show` with exit code 2 and the suggestion on stderr', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(file, 'modle: vgg-plain-11\n');
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const code = await main(['config', 'show', '--config', file], [(program) => registerConfigCommand(program, { stdout: { write: () => true }, env: {} })]);
    spy.mockRestore();
    expect(code).toBe(2);
    expect(stderr).toContain(`Unrecognized key "modle" in config file ${file}: did you mean "model"?`);
  });

  it('names the flags as the source of a key they set', () => {
    const flags = { sampel: 8 } as unknown as ConfigSources['flags'];
    let error: unknown;
    try {
      loadPipelineConfig({ flags, env: {} });
    } catch (e) {
      error = e;
    }
    expect((error as ZodError).issues.map((i) => i.message)).toEqual(['Unrecognized key "sampel" in the command-line flags: did you mean "sample"?']);
  });

  it('measures edit distance with swaps, ignoring case, and only suggests close keys', () => {
    expect(editDistance('sampel', 'sample')).toBe(1);
    expect(editDistance('calibrationbatch', 'calibrationBatch')).toBe(0);
    expect(editDistance('kmeans', 'means')).toBe(1);
    expect(editDistance('abc', 'xyz')).toBe(3);
    expect(closestKey('seeed', ['seed', 'sample'])).toBe('seed');
    expect(closestKey('xy', ['seed', 'out'])).toBeUndefined();
    expect(closestKey('modle', ['model', 'modelOptions'])).toBe('model');
    expect(knownKeysAt(PipelineConfigSchema, ['withinOptions', 'kmeans'])).toEqual(['algorithm', 'maxIterations', 'batchSize']);
    expect(knownKeysAt(PipelineConfigSchema, ['modelOptions'])).toEqual([]);
  });

  it('rejects bad YAML and bad environment values by name', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'model: [unclosed\n');
    expect(() => loadPipelineConfig({ file, env: {} })).toThrow(/broken\.yaml: the config file does not parse/);
    expect(() => configFromEnvironment({ DDINIT_SEED: 'seven' })).toThrow(
      /environment variable DDINIT_SEED: not an integer \(expected an integer, got seven\)/,
    );
    expect(() => loadPipelineConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/missing\.yaml: cannot read the config file/);
  });

  it('hashes only what determines the result', () => {
    const a = loadPipelineConfig({ env: {}, flags: { out: '/x', force: true } });
    const b = loadPipelineConfig({ env: {}, flags: { out: '/y' } });
    expect(resultDefiningConfig(a)).toEqual(resultDefiningConfig(b));
  });

  it('hashes only the option sections the initialization reads', () => {
    const file = join(dir, 'options.yaml');
    writeFileSync(file, 'withinOptions: { beta: 0.5 }\ncalibration: { maxIterations: 3 }\nlsuvOptions: { tolerance: 0.05 }\ncalibrationBatch: 8\n');
    const defining = (init: string, withFile: boolean) =>
      resultDefiningConfig(loadPipelineConfig({ file: withFile ? file : undefined, env: {}, flags: { init: init as never } }));
    // A data-free draw reads none of them; each other name reads its own.
    expect(defining('he-normal', true)).toEqual(defining('he-normal', false));
    expect(defining('ddinit-pca', true)).not.toEqual(defining('ddinit-pca', false));
    expect(Object.keys(defining('ddinit-pca', true))).toEqual(expect.arrayContaining(['withinOptions']));
    expect(Object.keys(defining('ddinit-pca', true))).not.toContain('calibration');
    expect(Object.keys(defining('ddinit-pca+calibration', true))).toEqual(expect.arrayContaining(['withinOptions', 'calibration', 'calibrationBatch']));
    expect(Object.keys(defining('lsuv', true))).toEqual(expect.arrayContaining(['lsuvOptions', 'calibrationBatch']));
    expect(Object.keys(defining('lsuv', true))).not.toContain('withinOptions');
  });

  it('refuses the removed within and calibrate keys, naming their source and the equivalent init', () => {
    const file = join(dir, 'old.yaml');
    writeFileSync(file, 'within: pca\ncalibrate: false\n');
    expect(() => loadPipelineConfig({ file, env: {} })).toThrow(
      `within, calibrate (config file ${file}): within and calibrate were replaced by one key, init (flag --init, variable DDINIT_INIT) (expected init: ddinit-pca, got within: pca, calibrate: false)`,
    );
    expect(() => loadPipelineConfig({ env: { DDINIT_WITHIN: 'zca' } })).toThrow(
      /within \(the environment variable DDINIT_WITHIN\): .*expected init: ddinit-zca\+calibration, got within: zca/,
    );
    expect(() => loadPipelineConfig({ env: { DDINIT_CALIBRATE: 'false' } })).toThrow(/expected init: ddinit-kmeans, got calibrate: false/);
    expect(() => loadPipelineConfig({ env: { DDINIT_WITHIN: 'pca', DDINIT_CALIBRATE: 'no' } })).toThrow(
      /expected init: ddinit-pca, got within: pca, calibrate: no/,
    );
    expect(() => loadPipelineConfig({ env: { DDINIT_CALIBRATE: 'yes' } })).toThrow(/expected init: ddinit-kmeans\+calibration/);
    expect(() => loadPipelineConfig({ file, env: {} })).toThrow(ConfigError);
  });

  it('parses the shipped Kubernetes base config', () => {
    const document = parse(readFileSync(join(import.meta.dirname, '../../../../k8s/base/config.yaml'), 'utf8'));
    const config = PipelineConfigSchema.parse(document);
    expect(config.data).toMatch(/^s3:\/\//);
    expect(config.kubernetes?.image).toBeDefined();
  });
});
