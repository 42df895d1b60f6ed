import { describe, expect, it } from 'vitest';
import { openDataset } from '../read/dataset';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { readAheadOf, stepBatches, stepReader } from './step-batches';

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

describe('stepReader', () => {
  it("gives each asked step stepBatches' batch of that step, reading on in order and starting again after a jump, opening once", async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 23 }, height: 4, width: 4, channels: 1 });
      const dataset = await openDataset(dir);
      const straight = await take(stepBatches(dataset, 'train', { batchSize: 5, seed: 7 }), 12);
      let opened = 0;
      const read = stepReader(() => (opened++, openDataset(dir)), 'train', { batchSize: 5, seed: 7 });
      for (const step of [0, 1, 2, 6, 7, 3, 11]) {
        const batch = await read(step);
        expect([batch.step, batch.ids, Array.from(batch.images)], `step ${step}`).toEqual([step, straight[step].ids, Array.from(straight[step].images)]);
      }
      expect(opened).toBe(1);
    });
  });
});

/** Lets every pending I/O callback and promise job run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

describe('stepBatches read-ahead', () => {
  it('gives the same batches with any read-ahead, from any start step, across epochs', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 23 }, height: 4, width: 4, channels: 1 });
      const dataset = await openDataset(dir);
      const onDemand = await take(stepBatches(dataset, 'train', { batchSize: 5, seed: 7, readAhead: 0 }), 13);
      for (const readAhead of [1, 2, 6]) {
        for (const from of [0, 3, 4]) {
          const ahead = await take(stepBatches(dataset, 'train', { batchSize: 5, seed: 7, readAhead, fromStep: from }), 13 - from);
          expect(ahead.map((b) => [b.step, b.ids, Array.from(b.images)])).toEqual(onDemand.slice(from).map((b) => [b.step, b.ids, Array.from(b.images)]));
        }
      }
    });
  });

  it("starts reading the next epoch while the consumer holds the current epoch's last batch", async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 10 }, height: 4, width: 4, channels: 1 });
      const dataset = await openDataset(dir);
      const epochs: number[] = [];
      const batches = dataset.batches.bind(dataset);
      dataset.batches = (split, options) => {
        epochs.push(options.epoch ?? 0);
        return batches(split, options);
      };
      const iterator = stepBatches(dataset, 'train', { batchSize: 5, seed: 3 }); // 2 steps per epoch
      expect((await iterator.next()).value?.step).toBe(0);
      expect((await iterator.next()).value?.step).toBe(1); // the last batch of epoch 0, not yet released
      await settle();
      expect(epochs).toEqual([0, 1]);
      await iterator.return(undefined);
    });
  });

  it('holds at most readAhead unclaimed batches and rejects a read-ahead that is not a whole number', async () => {
    let produced = 0;
    async function* counting(): AsyncGenerator<number> {
      for (;;) yield produced++;
    }
    const ahead = readAheadOf(counting(), 3);
    expect((await ahead.next()).value).toBe(0);
    await settle();
    expect(produced).toBe(4); // the one handed out and three requested ahead
    expect((await ahead.next()).value).toBe(1);
    await settle();
    expect(produced).toBe(5);
    await ahead.return(undefined);
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(dir, { splits: { train: 10 }, height: 4, width: 4, channels: 1 });
      const dataset = await openDataset(dir);
      await expect(take(stepBatches(dataset, 'train', { batchSize: 5, seed: 3, readAhead: 1.5 }), 1)).rejects.toThrow(
        'stepBatches: readAhead must be a whole number of batches (expected an integer ≥ 0, got 1.5)',
      );
    });
  });

  it('hands out the items before a failure, then the failure, at the position it happened', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 0;
      yield 1;
      throw new Error('shard 2 is damaged');
    }
    const ahead = readAheadOf(failing(), 4);
    expect((await ahead.next()).value).toBe(0);
    expect((await ahead.next()).value).toBe(1);
    await expect(ahead.next()).rejects.toThrow('shard 2 is damaged');
  });
});
