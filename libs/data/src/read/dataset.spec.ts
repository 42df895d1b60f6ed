import { describe, expect, it } from 'vitest';
import { syntheticExamples, withTempDir, writeSyntheticDataset } from '../testing';
import { openDataset } from './dataset';

const H = 16;
const W = 16;
const C = 3;
const IMAGE = H * W * C;

/** The id's index, recovered from the synthetic content (pixel 0 = i·31 mod 251 for split 0). */
function checkContent(images: Uint8Array, ids: string[], split: number): void {
  ids.forEach((id, n) => {
    const i = Number(id.split('-')[1]);
    for (const j of [0, 1, IMAGE - 1]) expect(images[n * IMAGE + j]).toBe((i * 31 + j * 7 + split) % 251);
  });
}

describe('dataset batches', () => {
  it('deliver every example of a multi-shard split exactly once, with matching labels and pixels', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeSyntheticDataset(dir, {
        splits: { train: 333, test: 7 },
        height: H,
        width: W,
        maxShardBytes: 64 * 1024,
        maxBatchBytes: 8 * 1024,
      });
      expect(manifest.splits.train.shards.length).toBeGreaterThan(3);
      const dataset = await openDataset(dir);
      for (const shuffle of [true, false]) {
        const seen: string[] = [];
        const sizes: number[] = [];
        for await (const batch of dataset.batches('train', { batchSize: 32, seed: 5, epoch: 2, shuffle })) {
          expect(batch.images.length).toBe(batch.size * IMAGE);
          checkContent(batch.images, batch.ids, 0);
          batch.ids.forEach((id, n) => expect(batch.labels?.[n]).toBe(Number(id.split('-')[1]) % 10));
          seen.push(...batch.ids);
          sizes.push(batch.size);
        }
        expect(seen.length).toBe(333);
        expect(new Set(seen).size).toBe(333);
        expect(sizes.slice(0, -1).every((s) => s === 32)).toBe(true);
        expect(sizes.at(-1)).toBe(333 % 32);
        if (!shuffle) expect(seen.slice(0, 3)).toEqual(['train-0', 'train-1', 'train-2']);
      }
    });
  });

  it('shuffle deterministically per (seed, epoch); dropRemainder; reused buffers hold the same data', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 200 }, height: H, width: W, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 });
      const dataset = await openDataset(dir);
      const order = async (seed: number, epoch: number, reuseBuffers = false) => {
        const ids: string[] = [];
        for await (const batch of dataset.batches('train', { batchSize: 30, seed, epoch, reuseBuffers, dropRemainder: true })) {
          checkContent(batch.images, batch.ids, 0);
          ids.push(...batch.ids);
        }
        return ids;
      };
      const a = await order(1, 0);
      expect(a.length).toBe(180);
      expect(await order(1, 0)).toEqual(a);
      expect(await order(1, 0, true)).toEqual(a);
      expect(await order(1, 1)).not.toEqual(a);
      expect(await order(2, 0)).not.toEqual(a);
    });
  });

  it('stream record batches of every shard in manifest order', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeSyntheticDataset(dir, { splits: { train: 150 }, height: H, width: W, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 });
      const dataset = await openDataset(dir);
      let rows = 0;
      const shards = new Set<string>();
      for await (const { shard, batch } of dataset.recordBatches('train')) {
        rows += batch.numRows;
        shards.add(shard.path);
        expect(batch.numRows * IMAGE).toBeLessThanOrEqual(8 * 1024);
      }
      expect(rows).toBe(150);
      expect([...shards]).toEqual(manifest.splits.train.shards.map((s) => s.path));
      const examples = [];
      for await (const e of dataset.examples('train', { shuffle: false })) examples.push(e);
      const expected = [...syntheticExamples({ splits: { train: 150 }, height: H, width: W })].map(([, e]) => e);
      expect(examples.map((e) => e.id)).toEqual(expected.map((e) => e.id));
      expect(Buffer.from(examples[77].image).equals(Buffer.from(expected[77].image))).toBe(true);
    });
  });
});
