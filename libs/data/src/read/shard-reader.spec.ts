import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../storage/blob-store';
import { LocalStore } from '../storage/local-store';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { BufferPool } from './buffer-pool';
import { openDataset } from './dataset';
import { readShard } from './shard-reader';

/** A pool that records how many of its buffers are out at once. */
class CountingPool extends BufferPool {
  out = 0;
  maxOut = 0;
  override acquire(size: number): Uint8Array {
    this.out++;
    this.maxOut = Math.max(this.maxOut, this.out);
    return super.acquire(size);
  }
  override release(view: Uint8Array): void {
    this.out--;
    super.release(view);
  }
}

/** A store that logs every ranged read (key and start) in order; no open handles, so every read shows. */
class LoggingStore implements BlobStore {
  reads: string[] = [];
  private readonly inner: LocalStore;
  readonly location: string;
  constructor(root: string) {
    this.inner = new LocalStore(root);
    this.location = this.inner.location;
  }
  describe = (key: string) => this.inner.describe(key);
  size = (key: string) => this.inner.size(key);
  exists = (key: string) => this.inner.exists(key);
  readAll = (key: string) => this.inner.readAll(key);
  list = (prefix?: string) => this.inner.list(prefix);
  write = (key: string, chunks: Iterable<Uint8Array>) => this.inner.write(key, chunks);
  delete = (key: string) => this.inner.delete(key);
  read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    this.reads.push(`${key}@${start}`);
    return this.inner.read(key, start, end, target);
  }
}

describe('shard streaming', () => {
  it('streams a shard in chunks, holding only a bounded number of them', async () => {
    await withTempDir(async (dir) => {
      // One 1 MiB shard of 2 KiB batches; 16 KiB chunks, at most 64 KiB fetched ahead.
      const manifest = await writeSyntheticDataset(dir, {
        splits: { train: 1200 },
        height: 16,
        width: 16,
        maxShardBytes: 2 * 1024 * 1024,
        maxBatchBytes: 8 * 1024,
      });
      const shard = manifest.splits.train.shards[0];
      expect(manifest.splits.train.shards.length).toBe(1);
      const pool = new CountingPool(16 * 1024, 64);
      const stream = readShard(new LocalStore(dir), shard, { chunkBytes: 16 * 1024, maxBufferedBytes: 64 * 1024, pool, features: manifest.features });
      let rows = 0;
      for await (const batch of stream) rows += batch.numRows;
      expect(rows).toBe(1200);
      expect(shard.bytes / (16 * 1024)).toBeGreaterThan(40); // many chunks…
      expect(pool.maxOut).toBeLessThanOrEqual(6); // …few of them in memory at once
      expect(pool.out).toBe(0);
    });
  });

  it('starts fetching the next shard while the current one is consumed', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeSyntheticDataset(dir, { splits: { train: 300 }, height: 16, width: 16, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 });
      const [first, second] = manifest.splits.train.shards;
      const store = new LoggingStore(dir);
      const dataset = await openDataset(store);
      let secondFetchedDuringFirst = false;
      let batchesOfFirst = 0;
      for await (const { shard } of dataset.recordBatches('train', { chunkBytes: 8 * 1024 })) {
        if (shard.path !== first.path) continue;
        batchesOfFirst++;
        // Let pending I/O run, as a consumer doing work would.
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (store.reads.some((r) => r.startsWith(`${second.path}@`))) secondFetchedDuringFirst = true;
      }
      expect(batchesOfFirst).toBeGreaterThan(2);
      expect(secondFetchedDuringFirst).toBe(true);
    });
  });
});
