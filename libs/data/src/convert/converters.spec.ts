import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError } from '@ddinit/core';
import { encodeJpeg, encodePng } from '../image/image-codec';
import { openDataset } from '../read/dataset';
import { palettePng, withTempDir } from '../testing';
import { convertCifar } from './cifar';
import { convertIdx } from './idx';
import { convertImageFolder } from './image-folder';
import { convertVoc } from './voc';
import { VOC_CLASSES, vocColour } from './voc-annotations';

function idx(type: number, dims: number[], data: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([header, data]);
}

async function allExamples(dir: string, split: string) {
  const out = [];
  for await (const e of (await openDataset(dir)).examples(split, { shuffle: false })) out.push(e);
  return out;
}

describe('IDX converter (MNIST / Fashion-MNIST layout)', () => {
  it('converts gzipped and raw IDX files, keeping pixels and labels', async () => {
    await withTempDir(async (dir) => {
      const n = 12,
        h = 5,
        w = 4;
      const images = Uint8Array.from({ length: n * h * w }, (_, i) => (i * 13) % 256);
      const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);
      await writeFile(join(dir, 'train-images.gz'), gzipSync(idx(8, [n, h, w], images)));
      await writeFile(join(dir, 'train-labels.gz'), gzipSync(idx(8, [n], labels)));
      await writeFile(join(dir, 'test-images'), idx(8, [2, h, w], images.subarray(0, 2 * h * w)));
      await writeFile(join(dir, 'test-labels'), idx(8, [2], labels.subarray(0, 2)));
      const out = join(dir, 'out');
      const manifest = await convertIdx({
        name: 'tiny-mnist',
        classNames: ['a', 'b', 'c'],
        output: out,
        splits: {
          train: { images: join(dir, 'train-images.gz'), labels: join(dir, 'train-labels.gz'), perClass: 3 },
          test: { images: join(dir, 'test-images'), labels: join(dir, 'test-labels') },
        },
      });
      expect(manifest.features.image).toEqual({ encoding: 'raw', height: 5, width: 4, channels: 1, layout: 'HWC' });
      expect(manifest.splits.train.examples).toBe(9);
      const train = await allExamples(out, 'train');
      expect(train.map((e) => e.label)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
      expect(Array.from(train[4].image)).toEqual(Array.from(images.subarray(4 * h * w, 5 * h * w)));
      expect((await allExamples(out, 'test')).length).toBe(2);
    });
  });

  it('rejects a wrong magic and a truncated file, naming the file', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'bad-images'), Buffer.from('GIF89a....'));
      await writeFile(join(dir, 'short-images'), idx(8, [3, 2, 2], new Uint8Array(10)));
      await writeFile(join(dir, 'labels'), idx(8, [3], new Uint8Array(3)));
      const run = (images: string) =>
        convertIdx({ name: 'x', classNames: ['a'], output: join(dir, 'o'), splits: { train: { images: join(dir, images), labels: join(dir, 'labels') } } });
      await expect(run('bad-images')).rejects.toThrow(`${join(dir, 'bad-images')}: not an IDX file (bad magic) (expected 00 00 08 0n, got 47 49 46 38)`);
      await expect(run('short-images')).rejects.toThrow(
        `${join(dir, 'short-images')}: IDX data size does not match its header (truncated?) (expected 12 bytes for [3, 2, 2], got 10 bytes)`,
      );
    });
  });
});

describe('CIFAR binary converter', () => {
  /** A record: label byte(s) then R, G, B planes; pixel value encodes (record, channel, position). */
  function cifarRecord(labels: number[], r: number): Uint8Array {
    const out = new Uint8Array(labels.length + 3072);
    out.set(labels);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[labels.length + c * 1024 + p] = (r * 50 + c * 20 + p) % 256;
    return out;
  }

  it('converts CIFAR-10 (planes to HWC, 6 batch files)', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
      for (const [k, name] of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch'].entries()) {
        await writeFile(join(dir, `${name}.bin`), Buffer.concat([cifarRecord([k], 0), cifarRecord([9 - k], 1)]));
      }
      const out = join(dir, 'out');
      const manifest = await convertCifar({ sourceDir: dir, variant: 'cifar10', output: out });
      expect(manifest.features.classNames[9]).toBe('truck');
      expect(manifest.splits.train.examples).toBe(10);
      expect(manifest.splits.test.examples).toBe(2);
      const train = await allExamples(out, 'train');
      expect(train.slice(0, 4).map((e) => e.label)).toEqual([0, 9, 1, 8]);
      const image = train[1].image; // record 1: pixel p of channel c = (50 + 20c + p) mod 256, now at 3p + c
      expect([image[0], image[1], image[2], image[3 * 100 + 2]]).toEqual([50, 70, 90, (50 + 40 + 100) % 256]);
    });
  });

  it('converts CIFAR-100 fine or coarse labels, and rejects a truncated file', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
      await writeFile(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n'));
      await writeFile(join(dir, 'train.bin'), Buffer.concat([cifarRecord([3, 42], 0), cifarRecord([19, 99], 1)]));
      await writeFile(join(dir, 'test.bin'), cifarRecord([0, 7], 2));
      const fine = await convertCifar({ sourceDir: dir, variant: 'cifar100', output: join(dir, 'fine') });
      expect((await allExamples(join(dir, 'fine'), 'train')).map((e) => e.label)).toEqual([42, 99]);
      expect(fine.features.classNames.length).toBe(100);
      await convertCifar({ sourceDir: dir, variant: 'cifar100', label: 'coarse', output: join(dir, 'coarse') });
      expect((await allExamples(join(dir, 'coarse'), 'train')).map((e) => e.label)).toEqual([3, 19]);
      await writeFile(join(dir, 'test.bin'), cifarRecord([0, 7], 2).subarray(0, 3000));
      await expect(convertCifar({ sourceDir: dir, variant: 'cifar100', output: join(dir, 'bad') })).rejects.toThrow(
        `${join(dir, 'test.bin')}: file size is not a whole number of CIFAR records (truncated, or the wrong variant?) (expected a multiple of 3074 bytes, got 3000 bytes)`,
      );
    });
  });
});

describe('image folder converter', () => {
  async function solid(rgb: [number, number, number], h: number, w: number, format: 'png' | 'jpeg') {
    const data = new Uint8Array(h * w * 3);
    for (let i = 0; i < h * w; i++) data.set(rgb, 3 * i);
    return format === 'png' ? encodePng({ data, height: h, width: w, channels: 3 }) : encodeJpeg({ data, height: h, width: w, channels: 3 }, 95);
  }

  it('decodes PNG and JPEG of any size into fixed-size raw images, or keeps them encoded', async () => {
    await withTempDir(async (dir) => {
      for (const split of ['train', 'val']) {
        await mkdir(join(dir, split, 'cats'), { recursive: true });
        await mkdir(join(dir, split, 'dogs'), { recursive: true });
        await writeFile(join(dir, split, 'cats', 'a.png'), await solid([200, 10, 10], 10, 14, 'png'));
        await writeFile(join(dir, split, 'cats', 'b.jpg'), await solid([190, 20, 20], 7, 9, 'jpeg'));
        await writeFile(join(dir, split, 'dogs', 'c.jpeg'), await solid([10, 10, 200], 12, 12, 'jpeg'));
        await writeFile(join(dir, split, 'dogs', 'notes.txt'), 'not an image');
      }
      const splits = { train: join(dir, 'train'), val: join(dir, 'val') };
      const manifest = await convertImageFolder({ name: 'pets', splits, size: { height: 8, width: 8 }, output: join(dir, 'raw') });
      expect(manifest.features.classNames).toEqual(['cats', 'dogs']);
      const train = await allExamples(join(dir, 'raw'), 'train');
      expect(train.map((e) => [e.id, e.label])).toEqual([
        ['cats/a.png', 0],
        ['cats/b.jpg', 0],
        ['dogs/c.jpeg', 1],
      ]);
      expect(train[0].image.length).toBe(8 * 8 * 3);
      expect(Array.from(train[0].image.subarray(0, 3))).toEqual([200, 10, 10]);
      expect(Math.abs(train[2].image[2] - 200)).toBeLessThan(6);

      const encoded = await convertImageFolder({ name: 'pets', splits, channels: 1, output: join(dir, 'enc') });
      expect(encoded.features.image).toEqual({ encoding: 'encoded', channels: 1, layout: 'HWC' });
      const dataset = await openDataset(join(dir, 'enc'));
      const batches = [];
      for await (const b of dataset.batches('val', { batchSize: 3, shuffle: false, decode: { height: 4, width: 5 } })) batches.push(b);
      expect(batches[0].images.length).toBe(3 * 4 * 5);
      await expect(
        (async () => {
          for await (const b of dataset.batches('val', { batchSize: 3 })) void b;
        })(),
      ).rejects.toThrow(/encoded \(PNG\/JPEG\) images: batches need options.decode/);
    });
  });

  it('rejects a broken image naming the file, and mismatched classes between splits', async () => {
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'train', 'x'), { recursive: true });
      await writeFile(join(dir, 'train', 'x', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
      await expect(
        convertImageFolder({ name: 'b', splits: { train: join(dir, 'train') }, size: { height: 4, width: 4 }, output: join(dir, 'o') }),
      ).rejects.toThrow(`${join(dir, 'train', 'x', 'broken.png')}: not a decodable PNG or JPEG image`);
      await mkdir(join(dir, 'val', 'y'), { recursive: true });
      await writeFile(join(dir, 'train', 'x', 'broken.png'), await solid([1, 2, 3], 4, 4, 'png'));
      await expect(convertImageFolder({ name: 'b', splits: { train: join(dir, 'train'), val: join(dir, 'val') }, output: join(dir, 'o2') })).rejects.toThrow(
        "split 'val' has other classes than split 'train' (expected [x], got [y])",
      );
    });
  });
});

describe('PASCAL VOC converter', () => {
  /** Objects as [name, difficult, xmin, ymin, xmax, ymax] (VOC's 1-based inclusive box); each has a part with its own box. */
  const annotation = (objects: [string, number, number, number, number, number][]) =>
    `<annotation><folder>VOC2012</folder><size><width>6</width><height>4</height><depth>3</depth></size>${objects
      .map(
        ([name, difficult, xmin, ymin, xmax, ymax]) =>
          `<object><name>${name}</name><difficult>${difficult}</difficult><part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>` +
          `<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox></object>`,
      )
      .join('')}</annotation>`;

  async function vocFixture(root: string): Promise<void> {
    for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main', 'ImageSets/Segmentation', 'SegmentationClass'])
      await mkdir(join(root, d), { recursive: true });
    const pixels = new Uint8Array(4 * 6 * 3).fill(128);
    for (const id of ['2008_000001', '2008_000002', '2008_000003'])
      await writeFile(join(root, 'JPEGImages', `${id}.jpg`), await encodeJpeg({ data: pixels, height: 4, width: 6, channels: 3 }));
    await writeFile(
      join(root, 'Annotations', '2008_000001.xml'),
      annotation([
        ['cat', 0, 1, 1, 3, 4],
        ['person', 0, 4, 2, 6, 3],
        ['cat', 1, 2, 2, 2, 2],
      ]),
    );
    await writeFile(join(root, 'Annotations', '2008_000002.xml'), annotation([['dog', 1, 1, 1, 6, 4]]));
    await writeFile(join(root, 'Annotations', '2008_000003.xml'), annotation([['aeroplane', 0, 2, 1, 5, 4]]));
    await writeFile(join(root, 'ImageSets/Main/train.txt'), '2008_000001\n2008_000002\n');
    await writeFile(join(root, 'ImageSets/Main/val.txt'), '2008_000003\n');
    await writeFile(join(root, 'ImageSets/Segmentation/train.txt'), '2008_000001\n');
    await writeFile(join(root, 'ImageSets/Segmentation/val.txt'), '2008_000003\n');
    // Mask: background, cat (8), person (15) and void (255) regions, as a palette PNG like VOC's.
    const palette = Array.from({ length: 256 }, (_, i) => vocColour(i));
    const mask = Uint8Array.from({ length: 24 }, (_, p) => (p % 6 < 2 ? 0 : p % 6 < 4 ? 8 : p % 6 < 5 ? 15 : 255));
    await writeFile(join(root, 'SegmentationClass', '2008_000001.png'), palettePng(mask, 6, 4, palette));
    await writeFile(join(root, 'SegmentationClass', '2008_000003.png'), palettePng(new Uint8Array(24).fill(1), 6, 4, palette));
  }

  it('turns annotations into multi-labels (difficult objects optional)', async () => {
    await withTempDir(async (root) => {
      await vocFixture(root);
      const manifest = await convertVoc({ root, task: 'classification', output: join(root, 'out') });
      expect(manifest.features.classNames).toEqual([...VOC_CLASSES]);
      const train = await allExamples(join(root, 'out'), 'train');
      const idx = (name: string) => VOC_CLASSES.indexOf(name as (typeof VOC_CLASSES)[number]);
      expect(train.map((e) => [e.id, e.label])).toEqual([
        ['2008_000001', [idx('cat'), idx('person')]],
        ['2008_000002', [idx('dog')]],
      ]);
      await convertVoc({ root, task: 'classification', includeDifficult: false, size: { height: 3, width: 3 }, output: join(root, 'easy') });
      const easy = await allExamples(join(root, 'easy'), 'train');
      expect(easy.map((e) => e.label)).toEqual([[idx('cat'), idx('person')], []]);
      expect(easy[0].image.length).toBe(27);
      // Boxes: 1-based inclusive <bndbox> → x0 = xmin − 1, x1 = xmax; the part's box ignored; difficult kept, flagged.
      expect(train[0].boxes).toEqual([
        { class: idx('cat'), x0: 0, y0: 0, x1: 3, y1: 4 },
        { class: idx('person'), x0: 3, y0: 1, x1: 6, y1: 3 },
        { class: idx('cat'), x0: 1, y0: 1, x1: 2, y1: 2, difficult: true },
      ]);
      // Resized 4×6 → 3×3: x scaled by 1/2, y by 3/4 (stored as float32).
      expect(easy[1].boxes).toEqual([{ class: idx('dog'), x0: 0, y0: 0, x1: 3, y1: 3, difficult: true }]);
      expect(easy[0].boxes?.[1]).toEqual({ class: idx('person'), x0: 1.5, y0: 0.75, x1: 3, y1: 2.25 });
      const dataset = await openDataset(join(root, 'easy'));
      for await (const batch of dataset.batches('train', { batchSize: 2, shuffle: false })) {
        expect(Array.from(batch.multiHot?.subarray(0, 20) ?? []).reduce((a, b) => a + b, 0)).toBe(2);
        expect(batch.multiHot?.[idx('cat')]).toBe(1);
      }
    });
  });

  it('refuses an object without a box or with a box outside the image, naming the annotation and object', async () => {
    await withTempDir(async (root) => {
      await vocFixture(root);
      const path = join(root, 'Annotations', '2008_000002.xml');
      await writeFile(path, annotation([['dog', 0, 1, 1, 7, 4]]));
      await expect(convertVoc({ root, task: 'classification', output: join(root, 'bad') })).rejects.toThrow(
        `${path} object 0: <bndbox> is not inside the image (expected 1 ≤ xmin ≤ xmax ≤ 6, 1 ≤ ymin ≤ ymax ≤ 4, got xmin 1, ymin 1, xmax 7, ymax 4)`,
      );
      await writeFile(path, '<annotation><object><name>dog</name></object></annotation>');
      await expect(convertVoc({ root, task: 'classification', output: join(root, 'bad') })).rejects.toThrow(`${path} object 0: an <object> has no <bndbox>`);
      await expect(readFile(join(root, 'bad', 'manifest.json'))).rejects.toThrow();
    });
  });

  it('turns SegmentationClass palette PNGs into masks of class indices', async () => {
    await withTempDir(async (root) => {
      await vocFixture(root);
      await convertVoc({ root, task: 'segmentation', output: join(root, 'seg') });
      const [example] = await allExamples(join(root, 'seg'), 'train');
      expect(example.label).toEqual([8, 15]);
      const dataset = await openDataset(join(root, 'seg'));
      const batches = [];
      for await (const b of dataset.batches('train', { batchSize: 1, decode: { height: 4, width: 6 } })) batches.push(b);
      expect(Array.from(batches[0].masks?.subarray(0, 6) ?? [])).toEqual([0, 0, 8, 8, 15, 255]);
      await convertVoc({ root, task: 'segmentation', size: { height: 8, width: 12 }, output: join(root, 'seg-raw') });
      const [raw] = await allExamples(join(root, 'seg-raw'), 'train');
      expect(raw.mask?.length).toBe(96);
      expect(Array.from(raw.mask?.subarray(0, 12) ?? [])).toEqual([0, 0, 0, 0, 8, 8, 8, 8, 15, 15, 255, 255]);
      expect(new Set(raw.mask)).toEqual(new Set([0, 8, 15, 255]));

      // A colour outside the VOC map is an error naming the file and pixel.
      await writeFile(
        join(root, 'SegmentationClass', '2008_000001.png'),
        await encodePng({ data: new Uint8Array(72).fill(77), height: 4, width: 6, channels: 3 }),
      );
      const error = await convertVoc({ root, task: 'segmentation', output: join(root, 'bad') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect(String(error)).toContain(
        `${join(root, 'SegmentationClass', '2008_000001.png')} pixel (0, 0): mask colour is not in the VOC colour map (expected a VOC class colour, got rgb(77, 77, 77))`,
      );
    });
  });
});
