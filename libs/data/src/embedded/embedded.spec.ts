import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES } from '../convert/fashion-mnist';
import { samplePatches } from '../iterate/patch-sampler';
import { openDataset } from '../read/dataset';
import { withTempDir } from '../testing';
import { buildDefaultDataset, defaultDatasetPath, openDefaultDataset } from './default-dataset';
import { NATURAL_PHOTOS, loadNaturalPhotos, writeNaturalPhotoDataset } from './natural-photos';

describe('embedded Fashion-MNIST sample', () => {
  it('opens from the package, verifies, and holds 300 + 100 real images per class', async () => {
    const dataset = await openDefaultDataset();
    expect(dataset.features.classNames).toEqual([...FASHION_MNIST_CLASSES]);
    expect(dataset.features.image).toEqual({ encoding: 'raw', height: 28, width: 28, channels: 1, layout: 'HWC' });
    expect(dataset.features.license).toContain('MIT');
    for (const [split, perClass] of [
      ['train', 300],
      ['test', 100],
    ] as const) {
      const counts = new Array(10).fill(0);
      let mean = 0;
      let n = 0;
      for await (const batch of dataset.batches(split, { batchSize: 500, seed: 0 })) {
        for (const label of batch.labels ?? []) counts[label]++;
        for (const v of batch.images) mean += v;
        n += batch.size;
      }
      expect(counts).toEqual(new Array(10).fill(perClass));
      // Fashion-MNIST's mean pixel is about 0.286·255 ≈ 73; a sample of real images is near it.
      mean /= n * 784;
      expect(mean).toBeGreaterThan(55);
      expect(mean).toBeLessThan(90);
    }
    const license = await readFile(join(defaultDatasetPath(), 'LICENSE'), 'utf8');
    expect(license).toContain('Copyright © [2017] Zalando SE');
  });

  it.skipIf(!existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')))(
    'rebuilds byte for byte from Debian dataset-fashion-mnist when it is installed',
    async () => {
      await withTempDir(async (dir) => {
        const manifest = await buildDefaultDataset(dir);
        const committed = (await openDefaultDataset()).manifest;
        expect(manifest).toEqual(committed);
        for (const split of Object.values(manifest.splits)) {
          for (const shard of split.shards) {
            const bytes = await readFile(join(defaultDatasetPath(), shard.path));
            expect(createHash('sha256').update(bytes).digest('hex')).toBe(shard.sha256);
          }
        }
      });
    },
  );
});

describe('natural-photo corpus', () => {
  it('decodes the npm-shipped photos and samples patches from them', async () => {
    const photos = await loadNaturalPhotos({ maxSide: 128 });
    expect(photos.map((p) => p.id)).toEqual(NATURAL_PHOTOS.map((p) => p.id));
    for (const photo of photos) {
      expect(Math.max(photo.height, photo.width)).toBe(128);
      expect(photo.data.length).toBe(photo.height * photo.width * 3);
    }
    const sample = samplePatches(photos, { count: 500, size: 8, rng: 1 });
    // Natural images: neighbouring pixels are strongly correlated.
    let sxy = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      syy = 0,
      m = 0;
    for (let k = 0; k < sample.count; k++) {
      const base = k * 8 * 8 * 3;
      const a = sample.patches[base];
      const b = sample.patches[base + 3];
      sxy += a * b;
      sx += a;
      sy += b;
      sxx += a * a;
      syy += b * b;
      m++;
    }
    const r = (sxy / m - (sx / m) * (sy / m)) / Math.sqrt((sxx / m - (sx / m) ** 2) * (syy / m - (sy / m) ** 2));
    expect(r).toBeGreaterThan(0.8);
  });

  it('writes the corpus as an encoded, unlabelled dataset that batches decode', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeNaturalPhotoDataset(dir);
      expect(manifest.features.image.encoding).toBe('encoded');
      expect(manifest.features.label).toBe('none');
      const dataset = await openDataset(dir);
      let n = 0;
      for await (const batch of dataset.batches('train', { batchSize: 5, decode: { height: 32, width: 48 } })) {
        expect(batch.images.length).toBe(5 * 32 * 48 * 3);
        expect(batch.labels).toBeUndefined();
        n += batch.size;
      }
      expect(n).toBe(5);
    });
  });

  it('with a size, stores each photo decoded once and resized, raw: batches equal decoding the JPEGs at that size', async () => {
    await withTempDir(async (dir) => {
      const size = { height: 40, width: 56 };
      const manifest = await writeNaturalPhotoDataset(join(dir, 'raw'), { size });
      expect(manifest.features.image).toMatchObject({ encoding: 'raw', ...size, channels: 3 });
      await writeNaturalPhotoDataset(join(dir, 'encoded'));
      const [raw, encoded] = await Promise.all([openDataset(join(dir, 'raw')), openDataset(join(dir, 'encoded'))]);
      const first = async (batches: AsyncIterable<{ images: Uint8Array }>) => {
        for await (const batch of batches) return batch.images;
        throw new Error('no batch');
      };
      const fromRaw = await first(raw.batches('train', { batchSize: 5 }));
      const fromEncoded = await first(encoded.batches('train', { batchSize: 5, decode: size }));
      expect(fromRaw.length).toBe(5 * 40 * 56 * 3);
      expect(Buffer.from(fromRaw).equals(Buffer.from(fromEncoded))).toBe(true);
    });
  });
});
