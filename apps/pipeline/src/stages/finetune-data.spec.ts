import { createMemoryLogger } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { FinetuneConfigSchema } from '../config/finetune-config';
import { labelledSubset, trainingSteps } from './finetune-data';
import { openInitData } from './init-sample';

const PIXELS = 28 * 28;

/** Each image as a string key (the subset keeps no ids). */
const keys = (images: Uint8Array, count: number): string[] => Array.from({ length: count }, (_, i) => images.subarray(i * PIXELS, (i + 1) * PIXELS).join(','));

describe('the labelled subset of the finetune stage', () => {
  it('is the first k images of each class in the order epoch 0 reads the split under the seed', async () => {
    const data = await openInitData({ data: 'embedded', split: 'train' });
    const subset = await labelledSubset(data, 3, 7, createMemoryLogger());
    expect(subset.size).toBe(30);
    const counts = new Array<number>(10).fill(0);
    for (const label of subset.labels ?? []) counts[label]++;
    expect(counts).toEqual(new Array<number>(10).fill(3));
    // The same rule written out: read epoch 0 under seed 7 and keep the first 3 of each class.
    const expected: string[] = [];
    const taken = new Array<number>(10).fill(0);
    for await (const batch of data.dataset.batches('train', { batchSize: 500, seed: 7, epoch: 0, ids: false })) {
      for (let i = 0; i < batch.size; i++) {
        const c = batch.labels?.[i] ?? -1;
        if (taken[c] < 3) {
          taken[c]++;
          expected.push(batch.images.subarray(i * PIXELS, (i + 1) * PIXELS).join(','));
        }
      }
    }
    expect(keys(subset.images, subset.size)).toEqual(expected);
    // Another seed reads the split in another order: other images.
    const other = await labelledSubset(data, 3, 8, createMemoryLogger());
    expect(keys(other.images, other.size)).not.toEqual(expected);
  });

  it('gives every step the same batch whatever step a run starts from, each epoch a permutation of the subset', async () => {
    const data = await openInitData({ data: 'embedded', split: 'train' });
    const subset = await labelledSubset(data, 2, 1, createMemoryLogger());
    const config = FinetuneConfigSchema.parse({ batchSize: 5, seed: 3, labelsPerClass: 2 });
    const take = async (from: number, n: number): Promise<string[][]> => {
      const out: string[][] = [];
      for await (const b of trainingSteps(data, config, subset, from)) {
        out.push(keys(b.images, b.size));
        if (out.length === n) break;
      }
      return out;
    };
    const straight = await take(0, 8);
    expect(await take(5, 3)).toEqual(straight.slice(5));
    // 20 images, 4 batches an epoch: each epoch shows every image once, in another order.
    const epoch = (e: number) => straight.slice(4 * e, 4 * e + 4).flat();
    expect([...epoch(0)].sort()).toEqual(keys(subset.images, subset.size).sort());
    expect([...epoch(1)].sort()).toEqual([...epoch(0)].sort());
    expect(epoch(1)).not.toEqual(epoch(0));
  });
});
