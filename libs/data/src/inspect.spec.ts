import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '@ddinit/core';
import { defaultDatasetPath } from './embedded/default-dataset';
import { formatDatasetReport, inspectDataset } from './inspect';
import { withTempDir, writeSyntheticDataset } from './testing';

describe('inspectDataset', () => {
  it('summarizes the manifest and, with verify, counts labels while checking every shard', async () => {
    const events: ProgressEvent[] = [];
    const report = await inspectDataset(defaultDatasetPath(), { verify: true, progress: (e) => events.push(e) });
    expect(report.name).toBe('fashion-mnist-sample');
    expect(report.examples).toBe(4000);
    expect(report.verified).toBe(true);
    expect(report.splits.find((s) => s.name === 'train')?.labelCounts).toEqual(new Array(10).fill(300));
    expect(events.filter((e) => e.phase === 'advance').map((e) => e.item)).toEqual(['test-00000.arrow', 'train-00000.arrow']);
    const text = formatDatasetReport(report);
    expect(text).toContain('fashion-mnist-sample at file://');
    expect(text).toContain('28×28×1 raw; labels: class (10 classes)');
    expect(text).toContain('T-shirt/top=100');
  });

  it('fails verification on a corrupt shard, naming it', async () => {
    await withTempDir(async (dir) => {
      const manifest = await writeSyntheticDataset(dir, { splits: { train: 20 } });
      const path = join(dir, manifest.splits.train.shards[0].path);
      const bytes = await readFile(path);
      bytes[200] ^= 1;
      await writeFile(path, bytes);
      expect((await inspectDataset(dir)).examples).toBe(20);
      await expect(inspectDataset(dir, { verify: true })).rejects.toThrow(`shard ${path}: shard checksum does not match the manifest`);
    });
  });
});
