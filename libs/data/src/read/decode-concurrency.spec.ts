/**
 * Encoded datasets: the decodes of a batch's rows are started together (sharp runs them on
 * libuv's thread pool), so they run in parallel and behind the caller's work on the batch
 * before — the train loop asks for the next batch before it steps (libs/train).
 */
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { encodePng } from '../image/image-codec';
import { withTempDir } from '../testing';
import { writeDataset } from '../write/dataset-writer';
import { openDataset } from './dataset';

const decodes = vi.hoisted(() => ({ inFlight: 0, most: 0 }));

vi.mock('../image/image-codec', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../image/image-codec')>();
  return {
    ...actual,
    decodeImage: async (...args: Parameters<typeof actual.decodeImage>) => {
      decodes.most = Math.max(decodes.most, ++decodes.inFlight);
      try {
        return await actual.decodeImage(...args);
      } finally {
        decodes.inFlight--;
      }
    },
  };
});

/** A solid 8×8 RGB PNG whose red channel is `red`. */
async function solid(red: number): Promise<Uint8Array> {
  return encodePng({ data: Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 0 ? red : 7)), height: 8, width: 8, channels: 3 });
}

describe('batches of an encoded dataset', () => {
  it('decode every row of a batch at once, each into its own place', async () => {
    await withTempDir(async (dir) => {
      const reds = [10, 50, 90, 130, 170, 210, 250];
      const examples: [string, { id: string; image: Uint8Array; label: number }][] = [];
      for (const [i, red] of reds.entries()) examples.push(['train', { id: `img-${i}`, image: await solid(red), label: i % 2 }]);
      await writeDataset(join(dir, 'ds'), examples, {
        name: 'solid',
        features: { image: { encoding: 'encoded', channels: 3 }, label: 'class', classNames: ['a', 'b'] },
      });
      const dataset = await openDataset(join(dir, 'ds'));
      decodes.most = 0;
      const seen: [string, number, number][] = [];
      for await (const batch of dataset.batches('train', { batchSize: 3, seed: 1, decode: { height: 4, width: 4 } })) {
        for (let k = 0; k < batch.size; k++) seen.push([batch.ids[k], batch.images[k * 4 * 4 * 3], batch.labels?.[k] ?? -1]);
      }
      expect(decodes.most).toBe(3);
      expect(decodes.inFlight).toBe(0);
      expect(seen.map(([id]) => id).sort()).toEqual(reds.map((_, i) => `img-${i}`));
      for (const [id, red, label] of seen) {
        const i = Number(id.slice(4));
        expect(Math.abs(red - reds[i])).toBeLessThanOrEqual(1);
        expect(label).toBe(i % 2);
      }
    });
  });
});
