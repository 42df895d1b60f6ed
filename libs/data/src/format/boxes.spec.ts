import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, Rng } from '@ddinit/core';
import { useBackend } from '@ddinit/core/testing';
import { augmentBatch, centerCropBatch } from '../iterate/augment';
import { toTensorBatch } from '../iterate/tensor-batch';
import { openDataset } from '../read/dataset';
import { withTempDir } from '../testing';
import { writeDataset } from '../write/dataset-writer';
import type { Box, Example } from './example';
import type { DatasetFeaturesInput } from './features';
import { parseManifest, serializeManifest } from './manifest';

const H = 12;
const W = 16;
const features: DatasetFeaturesInput = {
  image: { encoding: 'raw', height: H, width: W, channels: 1 },
  label: 'multi',
  mask: 'raw',
  boxes: 'xyxy',
  classNames: ['background', 'a', 'b'],
};

/** An example whose mask holds class `box.class` exactly on the integer box. */
function boxedExample(id: string, boxes: Box[]): Example {
  const mask = new Uint8Array(H * W);
  for (const box of boxes) {
    for (let y = Math.floor(box.y0); y < Math.ceil(box.y1); y++) for (let x = Math.floor(box.x0); x < Math.ceil(box.x1); x++) mask[y * W + x] = box.class;
  }
  return { id, image: mask.map((v) => v * 100), label: [...new Set(boxes.map((b) => b.class))].sort(), mask, boxes };
}

const examples: Example[] = [
  boxedExample('two', [
    { class: 1, x0: 1, y0: 2, x1: 5, y1: 7 },
    { class: 2, x0: 9, y0: 0, x1: 16, y1: 12, difficult: true },
  ]),
  boxedExample('none', []),
  boxedExample('fractional', [{ class: 2, x0: 0.25, y0: 1.5, x1: 3.75, y1: 11.125 }]),
];

beforeAll(async () => {
  await useBackend('wasm');
});

describe('boxes in shards', () => {
  it('round-trips through the writer and reader: examples and byte batches give back the boxes written', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeDataset(
        dir,
        examples.map((e) => ['train', e] as [string, Example]),
        { name: 'boxes', features },
      );
      expect(manifest.features.boxes).toBe('xyxy');
      expect(await readFile(join(dir, 'manifest.json'), 'utf8')).toContain('"boxes": "xyxy"');
      const dataset = await openDataset(dir);
      const read: Example[] = [];
      for await (const e of dataset.examples('train', { shuffle: false })) read.push(e);
      expect(read.map((e) => e.boxes)).toEqual(examples.map((e) => e.boxes));
      for await (const batch of dataset.batches('train', { batchSize: 3, shuffle: false })) {
        expect(batch.boxes).toEqual(examples.map((e) => e.boxes));
        expect(Array.from(batch.multiHot ?? [])).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 1]);
        const tensors = toTensorBatch(batch);
        expect(tensors.boxes).toEqual(examples.map((e) => e.boxes));
        tf.dispose([tensors.images, tensors.multiHot, tensors.masks]);
      }
    });
  });

  it('datasets without boxes keep their shard schema and manifest: no boxes column, no box_encoding key, no boxes in manifest.json', async () => {
    await withTempDir(async (dir) => {
      const plain = { ...features, boxes: undefined, label: 'class' as const, mask: 'none' as const };
      await writeDataset(dir, [['train', { id: 'x', image: new Uint8Array(H * W), label: 1 }]], { name: 'plain', features: plain });
      const bytes = await readFile(join(dir, 'train-00000.arrow'));
      expect(Buffer.from(bytes).includes('box_encoding')).toBe(false);
      expect(Buffer.from(bytes).includes('difficult')).toBe(false);
      expect((await openDataset(dir)).features.boxes).toBe('none');
      // Nor a "boxes" key in manifest.json: readers that predate boxes read it as before.
      expect(await readFile(join(dir, 'manifest.json'), 'utf8')).not.toContain('boxes');
    });
  });

  it('the writer refuses a box outside the image or of no class, naming the example, box and field', async () => {
    await withTempDir(async (dir) => {
      const outside = { ...examples[0], boxes: [{ class: 1, x0: 3, y0: 0, x1: W + 1, y1: 4 }] };
      const error = await writeDataset(dir, [['train', outside]], { name: 'bad', features }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).message).toMatch(/example 'two' boxes\[0\]\.x0.*0 ≤ x0 < x1 ≤ 16.*x1 17/s);
      const noClass = { ...examples[0], boxes: [{ class: 3, x0: 0, y0: 0, x1: 1, y1: 1 }] };
      await expect(writeDataset(dir, [['train', noClass]], { name: 'bad', features })).rejects.toThrow(/boxes\[0\]\.class.*0…2.*3/s);
      const missing = { ...examples[0], boxes: undefined };
      await expect(writeDataset(dir, [['train', missing]], { name: 'bad', features })).rejects.toThrow(/boxes are missing/);
      await expect(readFile(join(dir, 'manifest.json'))).rejects.toThrow();
    });
  });

  it('the reader refuses a shard whose box another tool wrote inverted, naming the shard, example and field', async () => {
    await withTempDir(async (dir) => {
      await writeDataset(dir, [['train', examples[2]]], { name: 'patched', features });
      // Overwrite x1 = 3.75 with 0.125 (< x0) in the shard's bytes and re-sign the manifest, as a foreign writer could.
      const path = join(dir, 'train-00000.arrow');
      const bytes = await readFile(path);
      const from = Buffer.from(new Float32Array([3.75]).buffer);
      const at = bytes.indexOf(from);
      expect(at).toBeGreaterThan(0);
      expect(bytes.indexOf(from, at + 1)).toBe(-1);
      Buffer.from(new Float32Array([0.125]).buffer).copy(bytes, at);
      await writeFile(path, bytes);
      const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'), 'test');
      manifest.splits.train.shards[0].sha256 = createHash('sha256').update(bytes).digest('hex');
      await writeFile(join(dir, 'manifest.json'), serializeManifest(manifest));
      const dataset = await openDataset(dir);
      const error = await (async () => {
        for await (const e of dataset.examples('train')) void e;
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).message).toMatch(/train-00000\.arrow.*example 'fractional' boxes\[0\]\.x0.*x0 0\.25, x1 0\.125/s);
    });
  });
});

describe('augmentation moves boxes with their pixels', () => {
  it('after random crops and flips every box still encloses exactly its mask pixels', async () => {
    await withTempDir(async (dir) => {
      await writeDataset(
        dir,
        examples.slice(0, 2).map((e) => ['train', e] as [string, Example]),
        { name: 'boxes', features },
      );
      const dataset = await openDataset(dir);
      for await (const batch of dataset.batches('train', { batchSize: 2, shuffle: false })) {
        const rng = Rng.fromSeed(3);
        for (let round = 0; round < 20; round++) {
          const out = round % 2 ? augmentBatch(batch, { crop: { height: 8, width: 10, padding: 2 }, flip: true }, rng) : centerCropBatch(batch, 9, 11);
          for (let n = 0; n < out.size; n++) {
            const boxes = out.boxes?.[n] ?? [];
            for (let y = 0; y < out.height; y++) {
              for (let x = 0; x < out.width; x++) {
                const m = out.masks?.[(n * out.height + y) * out.width + x] ?? 0;
                const inside = boxes.filter((b) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1).map((b) => b.class);
                if (m !== 0 && m !== 255) expect(inside).toEqual([m]);
                else expect(inside).toEqual([]);
              }
            }
          }
        }
      }
    });
  });
});
