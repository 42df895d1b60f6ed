import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError, z } from 'zod';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { configFromEnvironment, loadPipelineConfig } from './load-config';
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
      within: 'kmeans',
      calibrate: true,
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
    writeFileSync(file, 'model: vgg-plain-11\nseed: 3\nwithin: pca\nout: /tmp/a\n');
    const config = loadPipelineConfig({
      file,
      env: { DDINIT_SEED: '5', DDINIT_OUT: '/tmp/b', DDINIT_CALIBRATE: 'no' },
      flags: { out: '/tmp/c', within: undefined },
    });
    expect(config).toMatchObject({ model: 'vgg-plain-11', seed: 5, within: 'pca', out: '/tmp/c', calibrate: false });
  });

  it('reads JSON files too', () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ sample: 32, calibrationBatch: 8 }));
    expect(loadPipelineConfig({ file, env: {} })).toMatchObject({ sample: 32, calibrationBatch: 8 });
  });

  it('names the field and what was expected', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'within: kmeanz\nsample: -3\nunknownKey: 1\n');
    let error: unknown;
    try {
      loadPipelineConfig({ file, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZodError);
    const pretty = z.prettifyError(error as ZodError);
    expect(pretty).toMatch(/within/);
    expect(pretty).toMatch(/"kmeans"/);
    expect(pretty).toMatch(/sample/);
    expect(pretty).toMatch(/unknownKey/);
    expect(() => loadPipelineConfig({ flags: { sample: 8, calibrationBatch: 16 }, env: {} })).toThrow(/must not exceed sample \(8\)/);
  });

  it('rejects bad YAML and bad environment values by name', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'model: [unclosed\n');
    expect(() => loadPipelineConfig({ file, env: {} })).toThrow(/broken\.yaml: the config file does not parse/);
    expect(() => configFromEnvironment({ DDINIT_SEED: 'seven' })).toThrow(/environment variable DDINIT_SEED: not an integer \(expected an integer, got seven\)/);
    expect(() => loadPipelineConfig({ file: join(dir, 'missing.yaml'), env: {} })).toThrow(/missing\.yaml: cannot read the config file/);
  });

  it('hashes only what determines the result', () => {
    const a = loadPipelineConfig({ env: {}, flags: { out: '/x', force: true } });
    const b = loadPipelineConfig({ env: {}, flags: { out: '/y' } });
    expect(resultDefiningConfig(a)).toEqual(resultDefiningConfig(b));
  });

  it('parses the shipped Kubernetes base config', () => {
    const document = parse(readFileSync(join(import.meta.dirname, '../../../../k8s/base/config.yaml'), 'utf8'));
    const config = PipelineConfigSchema.parse(document);
    expect(config.data).toMatch(/^s3:\/\//);
    expect(config.kubernetes?.image).toBeDefined();
  });
});
