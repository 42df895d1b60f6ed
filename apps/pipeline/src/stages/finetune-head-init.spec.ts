/**
 * The finetune stage's `headInit`: `data` (the default) normalizes the new head on
 * the first training batch, so its logits start at mean 0 and std 1 per class on
 * images of the same distribution; `drawn` keeps the head's Glorot draw, whose
 * logits have whatever scale the trunk's features give them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@ddinit/core/backend';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { loadModel } from '../model/load-model';
import { FinetuneConfigSchema, runFinetuneStage } from './finetune-stage';
import { splitInOrder } from './finetune-data';
import { openInitData } from './init-sample';
import { runInitStage } from './init-stage';

let dir: string;
let init: string;

beforeAll(async () => {
  await selectBackend('wasm');
  tf.env().set('IS_TEST', false);
  dir = mkdtempSync(join(tmpdir(), 'ddinit-finetune-head-'));
  init = join(dir, 'init');
  await runInitStage(PipelineConfigSchema.parse({ out: init, sample: 48, calibrationBatch: 8, backend: 'wasm', seed: 1 }), { backend: 'wasm' });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The published model's logits on the first 250 test images (0–255 in: loadModel applies the input normalization): per-class mean and std. */
async function logitMoments(out: string): Promise<{ means: number[]; stds: number[] }> {
  const data = await openInitData({ data: 'embedded', split: 'test' });
  const model = await loadModel(out);
  try {
    for await (const bytes of splitInOrder(data.dataset, 'test', { batchSize: 250, limit: 250 })) {
      const { mean, variance } = tf.tidy(() => {
        const images = tf.tensor4d(bytes.images, [bytes.size, bytes.height, bytes.width, bytes.channels], 'float32');
        return tf.moments(model.predict(images) as tf.Tensor, 0);
      });
      const moments = { means: Array.from(mean.dataSync()), stds: Array.from(variance.dataSync(), Math.sqrt) };
      tf.dispose([mean, variance]);
      return moments;
    }
    throw new Error('no test images');
  } finally {
    model.dispose();
  }
}

describe('ddinit finetune --head-init', () => {
  // One step at a learning rate of 1e-9 without weight decay: the published head is the initial one.
  const untrained = (headInit: 'data' | 'drawn') =>
    FinetuneConfigSchema.parse({
      from: init,
      headInit,
      steps: 1,
      batchSize: 32,
      learningRate: 1e-9,
      weightDecay: 0,
      checkpointEvery: 0,
      testEvery: 0,
      seed: 3,
      out: join(dir, headInit),
    });

  it('data (the default): every class logit starts at mean ≈ 0 and std ≈ 1 on held-out images; drawn: at the scale the trunk gives', async () => {
    expect(FinetuneConfigSchema.parse({}).headInit).toBe('data');
    const data = await runFinetuneStage(untrained('data'), { backend: 'wasm' });
    expect(data.report?.headInit).toBe('data');
    const normalized = await logitMoments(join(dir, 'data'));
    // Normalized on 32 training images, measured on 250 test images: sampling error of a std from 32 values is ≈ 12 %.
    for (const [c, std] of normalized.stds.entries()) expect(std, `class ${c}`).toBeGreaterThan(0.7);
    for (const [c, std] of normalized.stds.entries()) expect(std, `class ${c}`).toBeLessThan(1.4);
    for (const [c, mean] of normalized.means.entries()) expect(Math.abs(mean), `class ${c}`).toBeLessThan(0.5);

    await runFinetuneStage(untrained('drawn'), { backend: 'wasm' });
    const drawn = await logitMoments(join(dir, 'drawn'));
    // Glorot-uniform on drop7 of this init: measured std 0.16–0.30 per class (wasm, seed 3).
    for (const [c, std] of drawn.stds.entries()) expect(std, `class ${c}`).toBeLessThan(0.5);
  }, 240_000);
});
