/**
 * `loadModel` on models written the way the init stage publishes them: the
 * recorded input normalization is applied, so the loaded model on raw 0–255
 * images computes what the network computes on standardized ones.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '@ddinit/core';
import { expectNoLeakedTensors, relativeError, useBackend } from '@ddinit/core/testing';
import { openStore } from '@ddinit/data';
import { startS3rver } from '@ddinit/data/testing';
import { buildModel } from '@ddinit/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeArtifact } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { loadModel, modelFileLocation } from './load-model';
import { modelToFiles } from './model-files';

const NORMALIZATION = { scale: 1 / 255, mean: [0.29], std: [0.35] };
let dir: string;
let files: Map<string, Uint8Array>;
let raw: tf.Tensor4D;

beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ddinit-load-'));
  const network = buildModel('vgg-plain-11', { inputShape: [16, 16, 1], numClasses: 4, seed: 3 });
  files = await modelToFiles(network, { inputNormalization: NORMALIZATION });
  network.dispose();
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  raw = tf.floor(tf.randomUniform([3, 16, 16, 1], 0, 256, 'float32', 5)) as tf.Tensor4D;
});
afterAll(() => {
  raw.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** max relative difference between the loaded model on raw pixels and the bare network on standardized ones. */
async function normalizationGap(model: tf.LayersModel, network: tf.LayersModel): Promise<number> {
  const [onRaw, onStandardized] = tf.tidy(() => {
    const standardized = tf.div(tf.sub(tf.mul(raw, NORMALIZATION.scale), NORMALIZATION.mean), NORMALIZATION.std);
    return [model.predict(raw) as tf.Tensor, network.predict(standardized) as tf.Tensor];
  });
  const gap = relativeError(await onRaw.data(), await onStandardized.data());
  tf.dispose([onRaw, onStandardized]);
  return gap;
}

describe('loadModel', () => {
  it('puts the recorded normalization in front of the network: raw pixels in, the network on standardized pixels out', async () => {
    const model = await loadModel(dir);
    const network = await loadModel(join(dir, 'model.json'), { applyInputNormalization: false });
    expect(model.layers[1]?.getClassName()).toBe('InputNormalization');
    expect(network.layers.some((l) => l.getClassName() === 'InputNormalization')).toBe(false);
    await expectNoLeakedTensors(async () => expect(await normalizationGap(model, network)).toBeLessThan(1e-5));
    // The same weights as published: nothing re-initialized on the way.
    expect(model.getWeights().length).toBe(network.getWeights().length);
    model.dispose();
    network.dispose();
  });

  it('reads the same model from s3://', async () => {
    const s3 = await startS3rver(['models']);
    try {
      const store = openStore('s3://models/run', { client: s3.client() });
      for (const [name, bytes] of files) await store.write(name, [bytes]);
      const model = await loadModel('s3://models/run', { store: { client: s3.client() } });
      const local = await loadModel(dir);
      const network = await loadModel(dir, { applyInputNormalization: false });
      expect(await normalizationGap(model, network)).toBeLessThan(1e-5);
      expect(model.layers.map((l) => l.name)).toEqual(local.layers.map((l) => l.name));
      for (const m of [model, local, network]) m.dispose();
      // A published artifact: its files sit in the folder metadata.json points to, read through it.
      const artifact = openArtifactLocation('s3://models/published', { client: s3.client() });
      await artifact.publish(files, describeArtifact(files, { stage: 'init', configHash: 'h', seed: 0, codeVersion: '0', backend: 'wasm' }));
      expect(await openStore('s3://models/published', { client: s3.client() }).exists('model.json')).toBe(false);
      for (const location of ['s3://models/published', 's3://models/published/model.json']) {
        const published = await loadModel(location, { store: { client: s3.client() } });
        const reference = await loadModel(dir, { applyInputNormalization: false });
        expect(await normalizationGap(published, reference)).toBeLessThan(1e-5);
        published.dispose();
        reference.dispose();
      }
    } finally {
      await s3.stop();
    }
  });

  it('names model.json and the metadata field when the normalization record is malformed', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ddinit-load-bad-'));
    try {
      const json = JSON.parse(new TextDecoder().decode(files.get('model.json')));
      json.userDefinedMetadata.ddinit.inputNormalization.std = [0];
      writeFileSync(join(bad, 'model.json'), JSON.stringify(json));
      writeFileSync(join(bad, 'weights.bin'), files.get('weights.bin') ?? new Uint8Array());
      const error = await loadModel(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toMatch(/userDefinedMetadata\.ddinit\.inputNormalization\.std\.0/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('takes a directory, a trailing slash or a .json path as the location', () => {
    expect(modelFileLocation('s3://b/run/')).toEqual({ root: 's3://b/run', file: 'model.json' });
    expect(modelFileLocation('/a/net.json')).toEqual({ root: '/a', file: 'net.json' });
    expect(modelFileLocation('model.json')).toEqual({ root: '.', file: 'model.json' });
  });
});
