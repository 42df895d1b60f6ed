import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DataError, StorageError } from '@ddinit/core';
import { openDataset } from '../read/dataset';
import { LocalStore } from '../storage/local-store';
import type { BlobStore } from '../storage/blob-store';
import { syntheticExamples, withTempDir, writeSyntheticDataset } from '../testing';
import { createDatasetWriter, writeDataset } from './dataset-writer';

/** A store that records the order in which objects are published. */
class RecordingStore extends LocalStore {
  published: string[] = [];
  override async write(key: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ bytes: number }> {
    const result = await super.write(key, chunks);
    this.published.push(key);
    return result;
  }
}

describe('dataset writer', () => {
  it('splits examples into shards no larger than maxShardBytes and reads them back byte for byte', async () => {
    await withTempDir(async (dir) => {
      const maxShardBytes = 64 * 1024;
      // 16·16·3 = 768 bytes per image: about 80 per shard.
      const manifest = await writeSyntheticDataset(dir, { splits: { train: 500, test: 40 }, height: 16, width: 16, maxShardBytes, maxBatchBytes: 8 * 1024 });
      expect(manifest.splits.train.examples).toBe(500);
      expect(manifest.splits.train.shards.length).toBeGreaterThanOrEqual(6);
      for (const shard of [...manifest.splits.train.shards, ...manifest.splits.test.shards]) {
        expect(shard.bytes).toBeLessThanOrEqual(maxShardBytes);
        expect(shard.bytes).toBeGreaterThan(maxShardBytes / 4);
      }
      const files = await readdir(dir);
      expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
      expect(files.sort()).toEqual(
        ['manifest.json', ...manifest.splits.test.shards.map((s) => s.path), ...manifest.splits.train.shards.map((s) => s.path)].sort(),
      );

      const dataset = await openDataset(dir);
      const expected = new Map(
        [...syntheticExamples({ splits: { train: 500, test: 40 }, height: 16, width: 16 })].map(([split, e]) => [`${split}/${e.id}`, e]),
      );
      let count = 0;
      for (const split of ['train', 'test']) {
        for await (const example of dataset.examples(split, { shuffle: false })) {
          const original = expected.get(`${split}/${example.id}`);
          expect(example.label).toBe(original?.label);
          expect(Buffer.from(example.image).equals(Buffer.from(original?.image ?? []))).toBe(true);
          count++;
        }
      }
      expect(count).toBe(540);
    });
  });

  it('publishes every shard before the manifest', async () => {
    await withTempDir(async (dir) => {
      const store = new RecordingStore(dir);
      await writeSyntheticDataset(store, { splits: { train: 300 }, height: 16, width: 16, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 });
      expect(store.published.length).toBeGreaterThan(2);
      expect(store.published.at(-1)).toBe('manifest.json');
      expect(store.published.slice(0, -1).every((key) => key.endsWith('.arrow'))).toBe(true);
    });
  });

  it('publishes nothing when the source fails midway (no manifest, no partial shard)', async () => {
    await withTempDir(async (dir) => {
      function* failing() {
        let i = 0;
        for (const pair of syntheticExamples({ splits: { train: 200 } })) {
          if (i++ === 150) throw new Error('source broke');
          yield pair;
        }
      }
      const features = {
        image: { encoding: 'raw' as const, height: 8, width: 8, channels: 3 },
        label: 'class' as const,
        classNames: Array.from({ length: 10 }, (_, k) => `c${k}`),
      };
      await expect(writeDataset(dir, failing(), { name: 'x', features })).rejects.toThrow('source broke');
      const files = await readdir(dir);
      expect(files).not.toContain('manifest.json');
      expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    });
  });

  it('refuses to overwrite an existing dataset unless asked to', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 10 } });
      await expect(writeSyntheticDataset(dir, { splits: { train: 10 } })).rejects.toThrow(StorageError);
      await expect(writeSyntheticDataset(dir, { splits: { train: 10 } })).rejects.toThrow(/manifest\.json: a dataset already exists here/);
      const manifest = await writeSyntheticDataset(dir, { splits: { train: 12 }, overwrite: true });
      expect((await openDataset(dir)).manifest).toEqual(manifest);
    });
  });

  it('rejects examples that do not match the features, naming the example and field', async () => {
    await withTempDir(async (dir) => {
      const writer = await createDatasetWriter(dir, {
        name: 'x',
        features: { image: { encoding: 'raw', height: 2, width: 2, channels: 1 }, label: 'class', classNames: ['a', 'b'] },
      });
      await expect(writer.write('train', { id: 'e1', image: new Uint8Array(5), label: 0 })).rejects.toThrow("split 'train' of file://");
      await expect(writer.write('train', { id: 'e1', image: new Uint8Array(5), label: 0 })).rejects.toThrow(
        /example 'e1': image has the wrong number of bytes \(expected 4 \(2×2×1 HWC\), got 5\)/,
      );
      await expect(writer.write('train', { id: 'e2', image: new Uint8Array(4), label: 2 })).rejects.toThrow(
        /example 'e2': label is out of range of the class names \(expected 0…1, got 2\)/,
      );
      await expect(writer.write('train', { id: 'e3', image: new Uint8Array(4), label: [1] })).rejects.toThrow(/example 'e3': label must be one class index/);
      await expect(writer.write('bad split!', { id: 'e4', image: new Uint8Array(4), label: 1 })).rejects.toThrow(DataError);
      await writer.write('train', { id: 'ok', image: new Uint8Array(4), label: 1 });
      const manifest = await writer.close();
      expect(manifest.splits.train.examples).toBe(1);
    });
  });

  it('refuses to publish an empty dataset', async () => {
    await withTempDir(async (dir) => {
      const writer = await createDatasetWriter(dir, {
        name: 'x',
        features: { image: { encoding: 'raw', height: 2, width: 2, channels: 1 }, label: 'none' },
      });
      await expect(writer.close()).rejects.toThrow(/dataset has no examples: nothing to publish/);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('round-trips multi-label examples, masks and encoded images', async () => {
    await withTempDir(async (dir) => {
      const store: BlobStore = new LocalStore(dir);
      const examples = [
        { id: 'a', image: Uint8Array.of(1, 2, 3, 4), label: [0, 2], mask: Uint8Array.of(0, 1, 1, 255) },
        { id: 'b', image: Uint8Array.of(5, 6, 7, 8), label: [], mask: Uint8Array.of(2, 2, 0, 0) },
      ];
      await writeDataset(
        store,
        examples.map((e) => ['val', e] as [string, typeof e]),
        {
          name: 'multi',
          features: { image: { encoding: 'raw', height: 2, width: 2, channels: 1 }, label: 'multi', mask: 'raw', classNames: ['x', 'y', 'z'] },
        },
      );
      const read = [];
      for await (const e of (await openDataset(store)).examples('val', { shuffle: false })) read.push(e);
      expect(read.map((e) => ({ ...e, image: Array.from(e.image), mask: Array.from(e.mask ?? []) }))).toEqual(
        examples.map((e) => ({ ...e, image: Array.from(e.image), mask: Array.from(e.mask) })),
      );
    });
  });
});
