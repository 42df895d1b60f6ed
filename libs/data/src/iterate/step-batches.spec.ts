import { describe, expect, it } from 'vitest';
import { openDataset } from '../read/dataset';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { stepBatches } from './step-batches';

async function take<T>(source: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

describe('stepBatches', () => {
  it('gives step s the same examples whatever step the run starts from, across epochs, full batches only', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 23 }, height: 4, width: 4, channels: 1 });
      const dataset = await openDataset(dir);
      // 23 examples at batch 5: 4 full batches per epoch (3 examples dropped per epoch).
      const straight = await take(stepBatches(dataset, 'train', { batchSize: 5, seed: 7 }), 10);
      expect(straight.map((b) => b.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(straight.every((b) => b.size === 5)).toBe(true);
      const epoch0 = straight.slice(0, 4).flatMap((b) => b.ids);
      const epoch1 = straight.slice(4, 8).flatMap((b) => b.ids);
      expect(new Set(epoch0).size).toBe(20);
      expect(epoch1).not.toEqual(epoch0); // reshuffled per epoch
      for (const from of [3, 5, 6]) {
        const resumed = await take(stepBatches(dataset, 'train', { batchSize: 5, seed: 7, fromStep: from }), 10 - from);
        expect(resumed.map((b) => [b.step, b.ids])).toEqual(straight.slice(from).map((b) => [b.step, b.ids]));
        expect(resumed.map((b) => Array.from(b.images))).toEqual(straight.slice(from).map((b) => Array.from(b.images)));
      }
      await expect(take(stepBatches(dataset, 'train', { batchSize: 24, seed: 7 }), 1)).rejects.toThrow(
        /the split holds less than one batch \(expected at least 24 examples, got 23\)/,
      );
    });
  });
});
