import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '@ddinit/core';
import { parseManifest, serializeManifest, type DatasetManifest } from '../format/manifest';
import { LocalStore } from '../storage/local-store';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { writeDataset } from '../write/dataset-writer';
import { openDataset } from './dataset';
import { readShard } from './shard-reader';

async function readManifest(dir: string): Promise<DatasetManifest> {
  return parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'), 'test');
}

async function rewriteManifest(dir: string, edit: (m: DatasetManifest) => void): Promise<void> {
  const manifest = await readManifest(dir);
  edit(manifest);
  await writeFile(join(dir, 'manifest.json'), serializeManifest(manifest));
}

/** Reads one epoch of batches to the end (or the error). */
async function drain(dir: string, split = 'train'): Promise<number> {
  const dataset = await openDataset(dir);
  let n = 0;
  for await (const batch of dataset.batches(split, { batchSize: 16, seed: 1 })) n += batch.size;
  return n;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Two shards of train (40 examples each) in a fresh dataset. */
async function twoShards(dir: string): Promise<DatasetManifest> {
  const manifest = await writeSyntheticDataset(dir, { splits: { train: 80 }, height: 16, width: 16, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 });
  expect(manifest.splits.train.shards.length).toBeGreaterThanOrEqual(2);
  return manifest;
}

describe('bad input is an error naming the shard or key and what was expected', () => {
  it('a truncated shard: size against the manifest', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[1];
      await truncate(join(dir, shard.path), shard.bytes - 100);
      const error = await drain(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(String(error)).toContain(
        `shard ${join(dir, shard.path)}: shard size does not match the manifest (truncated or replaced?) (expected ${shard.bytes} bytes, got ${shard.bytes - 100} bytes)`,
      );
    });
  });

  it('a truncated shard read on its own: the trailing magic is missing', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[0];
      await truncate(join(dir, shard.path), shard.bytes - 3);
      const stream = readShard(new LocalStore(dir), { path: shard.path });
      await expect(stream.open()).rejects.toThrow(
        `shard ${join(dir, shard.path)}: file does not end with the Arrow magic (truncated, or not an Arrow IPC file) (expected 'ARROW1', got`,
      );
    });
  });

  it('a wrong leading magic', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[0];
      const bytes = await readFile(join(dir, shard.path));
      bytes.set(Buffer.from('PAR1XX'), 0);
      await writeFile(join(dir, shard.path), bytes);
      await expect(drain(dir)).rejects.toThrow(
        `shard ${join(dir, shard.path)}: file does not start with the Arrow magic (not an Arrow IPC file) (expected 'ARROW1', got 'PAR1XX')`,
      );
    });
  });

  it('a file that is not Arrow at all (wrong trailing magic)', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[0];
      const junk = new Uint8Array(shard.bytes).fill(0x41);
      await writeFile(join(dir, shard.path), junk);
      await expect(drain(dir)).rejects.toThrow(/file does not end with the Arrow magic .*expected 'ARROW1', got 'AAAAAA'/);
    });
  });

  it('a corrupted byte: the checksum fails and the epoch does not end quietly', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[1];
      const bytes = await readFile(join(dir, shard.path));
      bytes[Math.floor(bytes.length / 2)] ^= 0xff; // inside the pixel data
      await writeFile(join(dir, shard.path), bytes);
      await expect(drain(dir)).rejects.toThrow(
        `shard ${join(dir, shard.path)}: shard checksum does not match the manifest (corrupt or replaced) (expected sha256 ${shard.sha256}, got sha256 ${sha256(bytes)})`,
      );
      // In-order streaming also ends in the error, not in a short epoch.
      const dataset = await openDataset(dir);
      const iterate = async () => {
        for await (const batch of dataset.batches('train', { batchSize: 8, shuffle: false })) void batch;
      };
      await expect(iterate()).rejects.toThrow(/shard checksum does not match the manifest/);
    });
  });

  it('a manifest whose size or row count disagrees with the shard', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[0];
      await rewriteManifest(dir, (m) => (m.splits.train.shards[0].bytes = shard.bytes + 8));
      await expect(drain(dir)).rejects.toThrow(`expected ${shard.bytes + 8} bytes, got ${shard.bytes} bytes`);
      await rewriteManifest(dir, (m) => {
        m.splits.train.shards[0].bytes = shard.bytes;
        m.splits.train.shards[0].examples += 1;
        m.splits.train.examples += 1;
      });
      await expect(drain(dir)).rejects.toThrow(
        `shard row count does not match the manifest (expected ${shard.examples + 1} examples, got ${shard.examples} examples)`,
      );
    });
  });

  it('shards whose schemas differ from the dataset (columns, then metadata)', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const target = manifest.splits.train.shards[1];
      // A shard of a 1-channel dataset dropped in place of the second shard, manifest patched to match.
      const other = join(dir, 'other');
      const otherManifest = await writeSyntheticDataset(other, { splits: { train: 40 }, height: 16, width: 16, channels: 1 });
      const otherShard = otherManifest.splits.train.shards[0];
      await copyFile(join(other, otherShard.path), join(dir, target.path));
      await rewriteManifest(dir, (m) => {
        m.splits.train.shards[1] = { ...otherShard, path: target.path };
        m.splits.train.examples = m.splits.train.shards.reduce((t, s) => t + s.examples, 0);
      });
      await expect(drain(dir)).rejects.toThrow(
        `shard ${join(dir, target.path)}: shard columns do not match the dataset features (expected image: FixedSizeList[768]<Uint8>; label: Int32; id: Utf8, got image: FixedSizeList[256]<Uint8>; label: Int32; id: Utf8)`,
      );

      // Same columns, other class names.
      const renamed = join(dir, 'renamed');
      const features = { ...manifest.features, classNames: manifest.features.classNames.map((c) => c.toUpperCase()) };
      const renamedManifest = await writeDataset(renamed, [['train', { id: 'x', image: new Uint8Array(768), label: 1 }]], { name: 'renamed', features });
      await copyFile(join(renamed, renamedManifest.splits.train.shards[0].path), join(dir, target.path));
      await rewriteManifest(dir, (m) => {
        m.splits.train.shards[1] = { ...renamedManifest.splits.train.shards[0], path: target.path };
        m.splits.train.examples = m.splits.train.shards.reduce((t, s) => t + s.examples, 0);
      });
      await expect(drain(dir)).rejects.toThrow(/shard schema metadata does not match the dataset \(expected .*"class-0".*got .*"CLASS-0"/);
    });
  });

  it('a missing shard file or manifest', async () => {
    await withTempDir(async (dir) => {
      const manifest = await twoShards(dir);
      const shard = manifest.splits.train.shards[1];
      await rm(join(dir, shard.path));
      const error = await drain(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(String(error)).toContain(`shard ${join(dir, shard.path)}: a shard the manifest lists does not exist`);
      await rm(join(dir, 'manifest.json'));
      await expect(openDataset(dir)).rejects.toThrow(`${join(dir, 'manifest.json')}: file does not exist`);
    });
  });

  it('an empty or unknown split, and an invalid manifest', async () => {
    await withTempDir(async (dir) => {
      await twoShards(dir);
      await rewriteManifest(dir, (m) => (m.splits.val = { examples: 0, shards: [] }));
      await expect(drain(dir, 'val')).rejects.toThrow(`${join(dir, 'manifest.json')}: split 'val' is empty (expected ≥ 1 example, got 0 examples)`);
      await expect(drain(dir, 'tets')).rejects.toThrow(/split 'tets' \(expected one of train, val, got tets\)/);

      const text = await readFile(join(dir, 'manifest.json'), 'utf8');
      await writeFile(join(dir, 'manifest.json'), text.replace(/"sha256": "[0-9a-f]+"/, '"sha256": "abc"'));
      await expect(openDataset(dir)).rejects.toThrow(/invalid manifest:[\s\S]*64 lower-case hex digits[\s\S]*at splits\.train\.shards\[0\]\.sha256/);
      await writeFile(join(dir, 'manifest.json'), text.replace('"examples": 80', '"examples": 81'));
      await expect(openDataset(dir)).rejects.toThrow(/split 'train' example count is not the sum of its shards \(expected 80, got 81\)/);
      await writeFile(join(dir, 'manifest.json'), '{"format": "ddinit-dataset"');
      await expect(openDataset(dir)).rejects.toThrow(`${join(dir, 'manifest.json')}: manifest is not valid JSON`);
    });
  });

  it('a worker that would get no example', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 3 } });
      const dataset = await openDataset(dir);
      const iterate = async () => {
        for await (const batch of dataset.batches('train', { batchSize: 2, worker: 4, workers: 5 })) void batch;
      };
      await expect(iterate()).rejects.toThrow(/no examples for this worker \(expected ≥ 1 example for worker 4 of 5, got 0\)/);
    });
  });
});
