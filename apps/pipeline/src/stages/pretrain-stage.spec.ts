/**
 * The pretrain stage end to end on the embedded Fashion-MNIST sample: resuming
 * after an interruption gives the weights of a straight run, byte for byte; a
 * longer run learns rotation above chance; bad input names what is wrong.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { runInitStage } from './init-stage';
import { PretrainConfigSchema, runPretrainStage, type PretrainConfigInput } from './pretrain-stage';

let dir: string;
let init: string;

beforeAll(async () => {
  await selectBackend('wasm');
  tf.env().set('IS_TEST', false);
  dir = mkdtempSync(join(tmpdir(), 'ddinit-pretrain-'));
  init = join(dir, 'init');
  await runInitStage(PipelineConfigSchema.parse({ out: init, sample: 48, calibrationBatch: 8, within: 'gaussian', backend: 'wasm' }), { backend: 'wasm' });
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
    const second = await runPretrainStage(config({ out }), { backend: 'wasm' });
    expect(second.report?.resumedFrom).toBe(5);
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

  it('names what is wrong: no init artifact, a feature layer the trunk lacks', async () => {
    await expect(runPretrainStage(config({ from: join(dir, 'nothing'), out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(ConfigError);
    await expect(runPretrainStage(config({ from: join(dir, 'nothing'), out: join(dir, 'x') }), { backend: 'wasm' })).rejects.toThrow(
      /^from: no init artifact to pretrain/,
    );
    await expect(runPretrainStage(config({ featureLayer: 'conv9', out: join(dir, 'y') }), { backend: 'wasm' })).rejects.toThrow(
      /featureLayer: no such layer in the trunk/,
    );
  }, 120_000);
});
