import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '@ddinit/core';
import { FASHION_MNIST_CLASSES } from '../convert/fashion-mnist';
import { openDefaultDataset } from '../embedded/default-dataset';
import type { Example } from '../format/example';
import { parseManifest } from '../format/manifest';
import { formatDatasetReport, inspectDataset } from '../inspect';
import { openDataset } from '../read/dataset';
import { withTempDir, writeSyntheticDataset } from '../testing';
import { writeDataset } from '../write/dataset-writer';
import { SCENE_VOID } from './compose-scene';
import { COMPOSE_DEFAULTS, composeScenes } from './compose-scenes';

const SIZE = { height: 48, width: 64 };
const EXAMPLES = { train: 120, test: 40 };

async function readAll(dir: string, split: string): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of (await openDataset(dir)).examples(split, { shuffle: false })) out.push(e);
  return out;
}

/** Checks one scene's labels against each other; returns its number of items. */
function checkScene(e: Example, height: number, width: number): number {
  const boxes = e.boxes ?? [];
  const mask = e.mask ?? new Uint8Array();
  for (const b of boxes) {
    // Inside the canvas, integer corners (composed scenes paste whole pixels).
    expect([b.x0, b.y0, b.x1, b.y1].every(Number.isInteger)).toBe(true);
    expect(0 <= b.x0 && b.x0 < b.x1 && b.x1 <= width && 0 <= b.y0 && b.y0 < b.y1 && b.y1 <= height).toBe(true);
    // Tight: each of the box's four edges holds a pixel of its class.
    const has = (x0: number, x1: number, y0: number, y1: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (mask[y * width + x] === b.class) return true;
      return false;
    };
    expect([has(b.x0, b.x1, b.y0, b.y0 + 1), has(b.x0, b.x1, b.y1 - 1, b.y1), has(b.x0, b.x0 + 1, b.y0, b.y1), has(b.x1 - 1, b.x1, b.y0, b.y1)]).toEqual([
      true,
      true,
      true,
      true,
    ]);
  }
  // Every pixel of a class lies in exactly one box, of that class; no two boxes share a pixel.
  const present = new Set<number>();
  const wrong: string[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = mask[y * width + x];
      const inside = boxes.filter((b) => b.x0 <= x && x < b.x1 && b.y0 <= y && y < b.y1).map((b) => b.class);
      if (inside.length > 1) wrong.push(`(${y}, ${x}) in ${inside.length} boxes`);
      if (m === 0 || m === SCENE_VOID) continue;
      present.add(m);
      if (inside.length !== 1 || inside[0] !== m) wrong.push(`(${y}, ${x}) class ${m} in boxes of [${inside.join(', ')}]`);
    }
  }
  expect(wrong.slice(0, 5)).toEqual([]);
  // Multi-hot label = the classes present in the mask = the boxes' classes; never the background.
  const label = [...(e.label as number[])];
  expect(label).toEqual([...present].sort((a, b) => a - b));
  expect(label).toEqual([...new Set(boxes.map((b) => b.class))].sort((a, b) => a - b));
  expect(label.includes(0)).toBe(false);
  return boxes.length;
}

describe('composeScenes', () => {
  it('writes scenes whose masks, boxes and multi-hot labels agree, every item inside the canvas', async () => {
    await withTempDir(async (dir) => {
      const manifest = await composeScenes({ output: dir, size: SIZE, examples: EXAMPLES, seed: 5 });
      expect(manifest.features).toMatchObject({ label: 'multi', mask: 'raw', boxes: 'xyxy', classNames: ['background', ...FASHION_MNIST_CLASSES] });
      expect(manifest.features.image).toMatchObject({ encoding: 'raw', ...SIZE, channels: 1 });
      const counts = [0, 0, 0, 0];
      for (const split of ['train', 'test']) {
        const scenes = await readAll(dir, split);
        expect(scenes.length).toBe(EXAMPLES[split as keyof typeof EXAMPLES]);
        for (const scene of scenes) counts[checkScene(scene, SIZE.height, SIZE.width)]++;
      }
      // 1…3 items: each count occurs (the count is drawn uniformly; placement on a 48×64 canvas leaves some items out); no empty scene here.
      expect(counts[0]).toBe(0);
      expect(Math.min(counts[1], counts[2], counts[3])).toBeGreaterThan(0);
    });
  });

  it('is deterministic: the same seed gives the same bytes, another seed other scenes', async () => {
    await withTempDir(async (dir) => {
      const build = (name: string, seed: number) => composeScenes({ output: join(dir, name), size: SIZE, examples: { test: 30 }, seed });
      const [a, b, c] = [await build('a', 7), await build('b', 7), await build('c', 8)];
      expect(b.splits).toEqual(a.splits);
      expect(c.splits.test.shards[0].sha256).not.toBe(a.splits.test.shards[0].sha256);
      for (const file of await readdir(join(dir, 'a'))) {
        expect(Buffer.compare(await readFile(join(dir, 'a', file)), await readFile(join(dir, 'b', file)))).toBe(0);
      }
    });
  });

  it('draws the scenes of a split from the items of that split only', async () => {
    await withTempDir(async (dir) => {
      // Items: train holds class 0 only, test class 1 only (bright 10×10 squares on black).
      const item = (id: string, label: number): [string, Example] => [
        label === 0 ? 'train' : 'test',
        { id, image: new Uint8Array(100).map((_, p) => (p % 10 > 1 && p % 10 < 8 ? 200 : 0)), label },
      ];
      await writeDataset(join(dir, 'items'), [item('a', 0), item('b', 0), item('c', 1)], {
        name: 'items',
        features: { image: { encoding: 'raw', height: 10, width: 10, channels: 1 }, label: 'class', classNames: ['zero', 'one'] },
      });
      await composeScenes({ from: join(dir, 'items'), output: join(dir, 'out'), size: { height: 32, width: 32 }, examples: { train: 20, test: 20 } });
      const classes = async (split: string) => new Set((await readAll(join(dir, 'out'), split)).flatMap((e) => e.label as number[]));
      expect(await classes('train')).toEqual(new Set([1]));
      expect(await classes('test')).toEqual(new Set([2]));
    });
  });

  it('records the seed and every parameter in the manifest', async () => {
    await withTempDir(async (dir) => {
      await composeScenes({ output: dir, size: SIZE, examples: { test: 5 }, seed: 11, maxItems: 2, scale: { min: 0.8, max: 1.1 } });
      const manifest = parseManifest(await readFile(join(dir, 'manifest.json'), 'utf8'), 'test');
      const source = (await openDefaultDataset()).manifest;
      expect(manifest.builder).toEqual({
        name: 'composeScenes',
        seed: 11,
        parameters: {
          ...SIZE,
          maxItems: 2,
          scale: { min: 0.8, max: 1.1 },
          solidLevel: COMPOSE_DEFAULTS.solidLevel,
          gap: COMPOSE_DEFAULTS.gap,
          placementTries: COMPOSE_DEFAULTS.placementTries,
          examples: { test: 5 },
          from: { name: source.name, shardsSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        },
      });
      for (const scene of await readAll(dir, 'test')) expect(scene.boxes?.length).toBeLessThanOrEqual(2);
      const report = formatDatasetReport(await inspectDataset(dir, { verify: true }));
      expect(report).toContain('labels: multi (11 classes); masks: raw; boxes: xyxy');
      expect(report).toContain('built by composeScenes, seed 11: {"height":48,"width":64,"maxItems":2,');
    });
  });

  it('refuses a source that is not single-channel items with class labels, and parameters out of range, publishing nothing', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticDataset(join(dir, 'rgb'), { splits: { train: 4 }, height: 8, width: 8 });
      const error = await composeScenes({ from: join(dir, 'rgb'), output: join(dir, 'out') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).message).toMatch(/rgb.*single-channel items.*raw 1-channel images.*3-channel/s);
      await expect(composeScenes({ output: join(dir, 'out'), size: { height: 16, width: 16 } })).rejects.toThrow(ConfigError);
      await expect(composeScenes({ output: join(dir, 'out'), maxItems: 0 })).rejects.toThrow(/maxItems.*1…64/s);
      await expect(composeScenes({ output: join(dir, 'out'), examples: { val: 3 } })).rejects.toThrow(/no split 'val'/);
      await expect(readdir(join(dir, 'out'))).rejects.toThrow();
    });
  });
});
