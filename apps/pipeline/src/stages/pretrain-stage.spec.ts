/**
 * The pretrain stage end to end on the embedded Fashion-MNIST sample: resuming
 * after an interruption (from the previous checkpoint when the newest is
 * half-written) gives the weights of a straight run, byte for byte; a longer run
 * learns rotation above chance; a baseline initialization trains with init's
 * input normalization; the init artifact is found by configuration hash; bad
 * input names what is wrong.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createMemoryLogger, DataError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { runInitStage } from './init-stage';
import { loadInitSample } from './init-sample';
import { PretrainConfigSchema, runPretrainStage, type PretrainConfigInput } from './pretrain-stage';

let dir: string;
let init: string;
const initConfig = (over: Record<string, unknown> = {}) =>
  PipelineConfigSchema.parse({ out: init, sample: 48, calibrationBatch: 8, init: 'ddinit-gaussian+calibration', backend: 'wasm', ...over });

beforeAll(async () => {
  await selectBackend('wasm');
  tf.env().set('IS_TEST', false);
  dir = mkdtempSync(join(tmpdir(), 'ddinit-pretrain-'));
  init = join(dir, 'init');
  await runInitStage(initConfig(), { backend: 'wasm' });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (over: Partial<PretrainConfigInput>) => PretrainConfigSchema.parse({ from: init, steps: 8, batchSize: 8, checkpointEvery: 4, ...over });

describe('ddinit pretrain (stage)', () => {
  it('stopped after a checkpoint and run again, ends with the weights of a straight run', async () => {
    const straight = await runPretrainStage(config({ out: join(dir, 'straight') }), { backend: 'wasm' });
    expect(straight.report?.resumedFrom).toBeNull();
    const out = join(dir, 'stopped');
    const stop = new AbortController();
    const first = await runPretrainStage(config({ out }), {
      backend: 'wasm',
      signal: stop.signal,
      progress: (event) => {
        if (event.task === 'train' && event.phase === 'advance' && event.completed === 5) stop.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(readdirSync(join(out, '.ddinit-checkpoints')).filter((n) => n.endsWith('.json'))).toEqual([
      'checkpoint-000000004.json',
      'checkpoint-000000005.json',
    ]);
    // The newest checkpoint half-written (a run killed while writing it): the previous one, saying so.
    truncateSync(join(out, '.ddinit-checkpoints', 'checkpoint-000000005.ddts'), 100);
    const logger = createMemoryLogger();
    const second = await runPretrainStage(config({ out }), { backend: 'wasm', logger });
    expect(logger.records.map((r) => r.message)).toContain('a checkpoint is damaged or half-written; trying the previous one');
    expect(second.report?.resumedFrom).toBe(4);
    expect(readFileSync(join(out, 'weights.bin')).equals(readFileSync(join(dir, 'straight', 'weights.bin')))).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['metadata.json', 'model.json', 'report.html', 'report.json', 'weights.bin']);
    const again = await runPretrainStage(config({ out }), { backend: 'wasm' });
    expect(again.skipped).toBe(true);
  }, 240_000);

  it('learns rotation on Fashion-MNIST clearly above chance (0.25)', async () => {
    const run = await runPretrainStage(config({ out: join(dir, 'learn'), steps: 80, batchSize: 16, learningRate: 0.02, checkpointEvery: 0 }), {
      backend: 'wasm',
    });
    // Mean batch accuracy of the last 20 steps (1,280 images): 0.25 ± 0.012 by chance; measured 0.41.
    expect(run.report?.final.accuracy).toBeGreaterThan(0.35);
    const html = readFileSync(join(dir, 'learn', 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('chance');
  }, 240_000);

  it('names what is wrong: no init artifact, a feature layer the trunk lacks, a split the dataset lacks, two sources', async () => {
    await expect(runPretrainStage(config({ from: join(dir, 'nothing'), out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(ConfigError);
    await expect(runPretrainStage(config({ from: join(dir, 'nothing'), out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(
      /^from file:\/\/.*\/nothing: no init artifact here \(run `ddinit init` first, or name one with --from\)/,
    );
    await expect(runPretrainStage(config({ split: 'validation', out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(DataError);
    await expect(runPretrainStage(config({ split: 'validation', out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(
      /manifest\.json: no split 'validation' \(expected one of .*train.*, got validation\)/,
    );
    // A baseline's wrong model is named before the (also missing) data is looked at.
    await expect(
      runPretrainStage(config({ from: undefined, baseline: 'he-normal', model: 'vgg-plain-99999', data: join(dir, 'no-data'), out: join(dir, 'x') }), {
        backend: 'wasm',
      }),
    ).rejects.toThrow(/^model vgg-plain-<N>: unsupported plain VGG depth/);
    expect(() => config({ baseline: 'he-normal' })).toThrow(/baseline.*choose one source of the network/s);
    expect(() => config({ model: 'caffenet' })).toThrow(/model.*model and modelOptions go with baseline/s);
    await expect(runPretrainStage(config({ featureLayer: 'conv9', out: join(dir, 'y') }), { backend: 'wasm' })).rejects.toThrow(
      /featureLayer: no such layer in the trunk/,
    );
  }, 120_000);

  it('from a baseline: the model initialized by formula, inputs standardized by the sample init would take', async () => {
    const out = join(dir, 'baseline');
    const run = await runPretrainStage(
      config({ from: undefined, baseline: 'he-normal', model: 'caffenet-small', sample: 32, steps: 2, checkpointEvery: 0, out }),
      { backend: 'wasm' },
    );
    expect(run.report?.from).toBe('he-normal baseline of caffenet-small');
    const sample = await loadInitSample({ data: 'embedded', split: 'train', size: 32, seed: 0 });
    const written = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).userDefinedMetadata.ddinit.inputNormalization;
    expect(written).toEqual(sample.normalization);
    tf.dispose([sample.images]);
    // Another baseline is another configuration (and other weights).
    const glorot = await runPretrainStage(
      config({ from: undefined, baseline: 'glorot-uniform', sample: 32, steps: 2, checkpointEvery: 0, out: join(dir, 'glorot') }),
      // Retry settings with a logger: only their numbers cross to the batch worker, which reads the data.
      { backend: 'wasm', store: { retry: { attempts: 3, logger: createMemoryLogger() } } },
    );
    expect(glorot.configHash).not.toBe(run.configHash);
    expect(readFileSync(join(dir, 'glorot', 'weights.bin')).equals(readFileSync(join(out, 'weights.bin')))).toBe(false);
  }, 240_000);

  it("without --from: the pipeline config's init stage, found at its out by configuration hash", async () => {
    const found = await runPretrainStage(
      config({ from: undefined, steps: 1, checkpointEvery: 0, out: join(dir, 'by-hash') }),
      { backend: 'wasm' },
      initConfig(),
    );
    expect(found.report?.from).toMatch(/^file:\/\/.*\/init$/);
    // The artifact at `out` was made from seed 0; a config asking for seed 1 must not take it.
    await expect(
      runPretrainStage(config({ from: undefined, steps: 1, out: join(dir, 'by-hash-1') }), { backend: 'wasm' }, initConfig({ seed: 1 })),
    ).rejects.toThrow(/^out file:\/\/.*\/init: the init artifact here was made from another configuration than this config's init stage/);
  }, 240_000);

  it('a patch task (jigsaw): the trunk built for its tiles from a baseline; an init artifact of whole images is refused naming the tile size', async () => {
    const patchConfig = (over: Partial<PretrainConfigInput>) =>
      config({
        task: 'jigsaw',
        taskOptions: { permutations: 10 },
        steps: 3,
        batchSize: 4,
        checkpointEvery: 0,
        ...over,
      });
    const run = await runPretrainStage(
      patchConfig({
        from: undefined,
        baseline: 'he-normal',
        model: 'resnet-small',
        modelOptions: { blocksPerStage: 1, baseChannels: 4, batchNorm: false },
        sample: 16,
        out: join(dir, 'jigsaw'),
      }),
      { backend: 'wasm' },
    );
    // 28-px images: 8-px tiles (the scaled jigsaw geometry), 10 orders → chance 0.1.
    expect(run.report).toMatchObject({ task: 'jigsaw', classes: 10, trunkInput: [8, 8, 1], final: { chanceAccuracy: 0.1 } });
    expect(Number.isFinite(run.report?.final.loss)).toBe(true);
    const model = JSON.parse(readFileSync(join(dir, 'jigsaw', 'model.json'), 'utf8'));
    expect(JSON.stringify(model.modelTopology)).toContain('"batch_input_shape":[null,8,8,1]');
    await expect(runPretrainStage(patchConfig({ out: join(dir, 'jigsaw-from-init') }), { backend: 'wasm' })).rejects.toThrow(
      /model\.json: the init artifact's network does not take the jigsaw task's inputs \(expected one input of 8×8×1 .*--size 8.*, got 28×28×1\)/,
    );
    expect(() => config({ taskOptions: { permutations: 10 } })).toThrow(/"taskOptions",\s*"permutations".*not an option of the rotation task/s);
  }, 240_000);
});
