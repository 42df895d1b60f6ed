import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelToFiles } from './model-files';
import { checkModelReference, isModelFile, resolveModel } from './resolve-model';

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ddinit-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveModel', () => {
  it('tells registry names from model files', () => {
    expect(isModelFile('caffenet-small')).toBe(false);
    expect(isModelFile('vgg-plain-11')).toBe(false);
    expect(isModelFile('./net/model.json')).toBe(true);
    expect(isModelFile('s3://bucket/net/model.json')).toBe(true);
  });

  it('builds a registry model for the data', async () => {
    const model = await resolveModel({ model: 'caffenet-small', modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 10 });
    expect(model.inputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(model.outputs[0].shape).toEqual([null, 10]);
    model.dispose();
  });

  it('keeps the model’s default head for data of fewer than two classes (unlabelled, or one class folder)', async () => {
    const withDefault = await resolveModel({ model: 'caffenet-small', modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 0 });
    for (const classes of [1, 0]) {
      const model = await resolveModel({ model: 'caffenet-small', modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes });
      expect(model.outputs[0].shape).toEqual(withDefault.outputs[0].shape);
      expect(model.outputs[0].shape[1]).toBeGreaterThan(1);
      model.dispose();
    }
    withDefault.dispose();
  });

  it('builds a registry model with the initialWeights it is given (zeros: every kernel 0), unless the user’s modelOptions say otherwise', async () => {
    const kernels = (m: tf.LayersModel): number[][] => m.weights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => Array.from(w.read().dataSync()));
    const common = { model: 'caffenet-small', seed: 2, inputShape: [28, 28, 1] as [number, number, number], classes: 10 };
    const zeros = await resolveModel({ ...common, modelOptions: {}, initialWeights: 'zeros' });
    expect(kernels(zeros).every((k) => k.every((v) => v === 0))).toBe(true);
    const he = await resolveModel({ ...common, modelOptions: {} });
    const user = await resolveModel({ ...common, modelOptions: { initialWeights: 'heNormal' }, initialWeights: 'zeros' });
    expect(kernels(he).every((k) => k.some((v) => v !== 0))).toBe(true);
    expect(kernels(user)).toEqual(kernels(he));
    for (const m of [zeros, he, user]) m.dispose();
  });

  it('loads a model.json, custom layers included, and checks its input against the data', async () => {
    const built = await resolveModel({ model: 'caffenet-small', modelOptions: {}, seed: 4, inputShape: [28, 28, 1], classes: 10 });
    const files = await modelToFiles(built);
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
    const loaded = await resolveModel({ model: join(dir, 'model.json'), modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 10 });
    const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 1);
    const [a, b] = [built.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    await expect(resolveModel({ model: join(dir, 'model.json'), modelOptions: {}, seed: 0, inputShape: [32, 32, 3], classes: 10 })).rejects.toThrow(
      /model .*model\.json: the model does not take the dataset's images \(expected one input of 32×32×3 \(the data\), got 1 input\(s\), first 28×28×1\)/,
    );
    built.dispose();
    loaded.dispose();
  });

  it('names unknown models and missing files', async () => {
    await expect(resolveModel({ model: 'alexnet', modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 10 })).rejects.toThrow(
      /unknown model.*got alexnet/,
    );
    const missing = join(dir, 'nope', 'model.json');
    const error = await resolveModel({ model: missing, modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain(`model: the model file does not exist (expected a tfjs model.json (a path or s3:// URL), got no ${missing})`);
    expect(String(error)).not.toMatch(/JSON/);
  });

  it('checks a model reference without data: names, registry options, the VGG depth, the file', async () => {
    const check = (model: string, modelOptions: Record<string, unknown> = {}) => checkModelReference({ model, modelOptions });
    await expect(check('caffenet-small')).resolves.toBeUndefined();
    await expect(check('vgg-plain-99999')).rejects.toThrow('model vgg-plain-<N>: unsupported plain VGG depth (expected an integer 11 ≤ N ≤ 1000, got 99999)');
    await expect(check('vgg-plain-16', { baseChannel: 8 })).rejects.toThrow(/model vgg-plain-16: invalid options[\s\S]*baseChannel/);
    await expect(check(join(dir, 'weights.bin'))).rejects.toThrow(/a model file must be a tfjs model\.json/);
    await expect(check(join(dir, 'absent.json'))).rejects.toThrow(ConfigError);
    writeFileSync(join(dir, 'broken.json'), '{"modelTopology": ');
    await expect(check(join(dir, 'broken.json'))).resolves.toBeUndefined();
    // A file that exists but is not JSON is the file's fault, said as such.
    await expect(resolveModel({ model: join(dir, 'broken.json'), modelOptions: {}, seed: 0, inputShape: [28, 28, 1], classes: 10 })).rejects.toThrow(
      /broken\.json: model\.json is not valid JSON/,
    );
  });
});
