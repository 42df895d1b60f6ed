/**
 * A storage failure in the middle of a shard read ends the read with the
 * store's StorageError — not a DataError blaming the file, not an unhandled
 * rejection — and leaves nothing behind that keeps the process alive.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '@ddinit/core';
import type { BlobStore } from '../storage/blob-store';
import { LocalStore } from '../storage/local-store';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { BufferPool } from './buffer-pool';
import { readShard } from './shard-reader';

/**
 * A local store whose ranged reads starting where `failAt` says fail — at
 * once, or (`afterFirstChunk`) only once the read of byte 0 has returned.
 */
class FailingStore implements BlobStore {
  private readonly inner: LocalStore;
  readonly location: string;
  private firstReturned!: () => void;
  private readonly first = new Promise<void>((resolve) => (this.firstReturned = resolve));
  constructor(
    root: string,
    private readonly failAt: (start: number) => boolean,
    afterFirstChunk: boolean,
  ) {
    this.inner = new LocalStore(root);
    this.location = this.inner.location;
    if (!afterFirstChunk) this.firstReturned();
  }
  describe = (key: string) => this.inner.describe(key);
  size = (key: string) => this.inner.size(key);
  exists = (key: string) => this.inner.exists(key);
  readAll = (key: string) => this.inner.readAll(key);
  list = (prefix?: string) => this.inner.list(prefix);
  write = (key: string, chunks: Iterable<Uint8Array>) => this.inner.write(key, chunks);
  delete = (key: string) => this.inner.delete(key);
  async read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    if (this.failAt(start)) {
      await this.first;
      throw new StorageError('GET failed after retries', { where: this.describe(key), actual: 'connect ECONNREFUSED' });
    }
    const bytes = await this.inner.read(key, start, end, target);
    if (start === 0) this.firstReturned();
    return bytes;
  }
}

let unhandled: unknown[] = [];
const collect = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', collect);
});
afterEach(() => void process.off('unhandledRejection', collect));

/** One shard of many 8 KiB batches, so that a 16 KiB chunk size gives many chunks. */
async function oneShard(dir: string) {
  const manifest = await writeSyntheticDataset(dir, { splits: { train: 400 }, height: 16, width: 16, maxShardBytes: 1024 * 1024, maxBatchBytes: 8 * 1024 });
  expect(manifest.splits.train.shards.length).toBe(1);
  return manifest;
}

describe('a storage failure during a shard read', () => {
  it('ends the read with the StorageError even when it arrives while an earlier chunk is being hashed', async () => {
    await withTempDir(async (dir) => {
      const manifest = await oneShard(dir);
      const shard = manifest.splits.train.shards[0];
      // Every chunk after the first fails just after the first arrived, i.e. while it is with the hash
      // worker (pooled chunks are shared memory, hashed in place: the update waits for the worker's reply).
      const store = new FailingStore(dir, (start) => start > 0 && start < shard.bytes - 4096, true);
      const pool = new BufferPool(16 * 1024, 64);
      const stream = readShard(store, shard, { features: manifest.features, chunkBytes: 16 * 1024, concurrency: 4, pool });
      const read = async (): Promise<number> => {
        let rows = 0;
        for await (const batch of stream) rows += batch.numRows;
        return rows;
      };
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(String(error)).toContain('GET failed after retries');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    });
  });

  it('a footer that cannot be fetched is the StorageError, not a corrupt-file DataError', async () => {
    await withTempDir(async (dir) => {
      const manifest = await oneShard(dir);
      const shard = manifest.splits.train.shards[0];
      // The trailer (last 10 bytes) is read first and succeeds; the footer before it fails.
      const store = new FailingStore(dir, (start) => start > 0 && start < shard.bytes - 10, false);
      const stream = readShard(store, shard, { features: manifest.features });
      const error = await stream.open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(String(error)).not.toMatch(/corrupt/);
    });
  });
});

describe('the SHA-256 workers', () => {
  it('do not keep the process alive when a hash was started but never given bytes', async () => {
    await withTempDir(async (dir) => {
      const module = fileURLToPath(new URL('./sha256.ts', import.meta.url));
      // The shard's first read failed: createSha256() ran, update() never did.
      const script = join(dir, 'unused-hash.mjs');
      await writeFile(script, `const { createSha256 } = await import(${JSON.stringify(module)});\ncreateSha256();\ncreateSha256();\n`);
      const started = performance.now();
      const code = await new Promise<number | string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.on('exit', (exitCode, signal) => {
          clearTimeout(timer);
          resolve(exitCode ?? signal ?? 'unknown');
        });
      });
      expect(code).toBe(0);
      expect(performance.now() - started).toBeLessThan(8_000);
    });
  });
});
