/**
 * What `--data` may name: a dataset (raw or encoded images), and what a
 * location that is not one gets — bad input (exit 2) saying what it found.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { convertImageFolder } from '@ddinit/data';
import { palettePng } from '@ddinit/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../exit-codes';
import { modelImageSize } from '../model/resolve-model';
import { loadInitSample } from './init-sample';

let dir: string;
beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ddinit-data-location-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a --data location that is not a dataset', () => {
  it('a plain file: exit 2, saying it is a file', async () => {
    const file = join(dir, 'train-00000.arrow');
    writeFileSync(file, 'not a dataset');
    const error = await loadInitSample({ data: file, split: 'train', size: 4, seed: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(exitCodeFor(error)).toBe(2);
    expect(String(error)).toContain(`${file}: this is a file, not a dataset (expected a dataset directory or prefix holding manifest.json`);
  });

  it('a directory without a manifest, or nothing at all: exit 2, naming the manifest it looked for', async () => {
    for (const location of [dir, join(dir, 'absent')]) {
      const error = await loadInitSample({ data: location, split: 'train', size: 4, seed: 0 }).catch((e: unknown) => e);
      expect(exitCodeFor(error)).toBe(2);
      expect(String(error)).toContain(`${location}: no dataset at this location`);
      expect(String(error)).toContain(`got no ${join(location, 'manifest.json')}`);
    }
  });
});

describe('a dataset stored as encoded PNG/JPEG (the default of `data convert image-folder`)', () => {
  /** Two classes of 20×12 PNGs: class `dark` uses palette entries 0–1, class `light` 2–3, in a seeded pattern. */
  let built: Promise<string> | undefined;
  const encodedDataset = (): Promise<string> => (built ??= writeEncodedDataset());
  async function writeEncodedDataset(): Promise<string> {
    const root = join(dir, 'folders', 'train');
    const palette: [number, number, number][] = [
      [10, 20, 30],
      [40, 60, 20],
      [200, 180, 220],
      [250, 230, 210],
    ];
    for (const [c, name] of ['dark', 'light'].entries()) {
      mkdirSync(join(root, name), { recursive: true });
      for (let i = 0; i < 8; i++) {
        const indices = Uint8Array.from({ length: 20 * 12 }, (_, p) => 2 * c + ((p * 7 + i * 3) % 5 === 0 ? 1 : 0));
        writeFileSync(join(root, name, `${i}.png`), palettePng(indices, 20, 12, palette));
      }
    }
    const out = join(dir, 'encoded');
    await convertImageFolder({ name: 'folders', splits: { train: root }, output: out });
    return out;
  }

  it('is decoded and resized to the model input at init', async () => {
    const data = await encodedDataset();
    const before = tf.memory().numTensors;
    const decodeSize = () => modelImageSize({ model: 'vgg-plain-11', modelOptions: { inputShape: [16, 16, 3] } });
    const sample = await loadInitSample({ data, split: 'train', size: 16, seed: 0, decodeSize });
    expect(sample.inputShape).toEqual([16, 16, 3]);
    expect(sample.images.shape).toEqual([16, 16, 16, 3]);
    // Standardized per channel: mean 0, std 1 over the sample.
    const { mean, variance } = tf.moments(sample.images, [0, 1, 2]);
    for (const m of mean.dataSync()) expect(Math.abs(m)).toBeLessThan(1e-4);
    for (const v of variance.dataSync()) expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(1e-3);
    tf.dispose([mean, variance, sample.images]);
    expect(tf.memory().numTensors).toBe(before);
    // A registry model without inputShape: its default size.
    await expect(modelImageSize({ model: 'caffenet-small', modelOptions: {} })).resolves.toEqual({ height: 28, width: 28 });
  });

  it('without a model size to decode to: exit 2, naming the command that stores raw images', async () => {
    const data = await encodedDataset();
    const error = await loadInitSample({ data, split: 'train', size: 4, seed: 0 }).catch((e: unknown) => e);
    expect(exitCodeFor(error)).toBe(2);
    expect(String(error)).toContain('this dataset stores encoded (PNG/JPEG) images and no size to decode them to was given');
    expect(String(error)).toContain('ddinit data convert image-folder --size 32x32');
    expect(String(error)).not.toMatch(/options\.decode/);
  });
});
