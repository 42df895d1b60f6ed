/**
 * PASCAL VOC (Everingham et al., 2010), as laid out in `VOCdevkit/VOC2007` or
 * `VOC2012`: `JPEGImages/<id>.jpg`, `Annotations/<id>.xml`,
 * `ImageSets/Main/<split>.txt`, `ImageSets/Segmentation/<split>.txt`,
 * `SegmentationClass/<id>.png`.
 *
 * - `classification`: multi-label examples, the label being the sorted set of
 *   object classes of the image's annotation (indices into the 20 VOC classes),
 *   with every object's box (the detection task of the same image sets): VOC's
 *   1-based inclusive `<bndbox>` becomes x0 = xmin − 1, x1 = xmax (scaled with the
 *   image when resized); `difficult` objects keep their box, flagged, whatever
 *   `includeDifficult` says of the labels (VOC's detection protocol ignores them).
 * - `segmentation`: examples with a mask (class index per pixel: 0 background,
 *   1–20 classes, 255 void) and, as label, the classes present in the mask
 *   (indices into `['background', …20 classes]`).
 *
 * With `size`, images are resized (bilinear) and masks resized (nearest) to it
 * and stored raw; without it, the JPEG bytes are stored as they are and masks
 * as greyscale PNGs of class indices.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, StorageError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { Box, Example } from '../format/example';
import type { DatasetManifest } from '../format/manifest';
import { decodeImage, encodePng, probeImage } from '../image/image-codec';
import type { BlobStore } from '../storage/blob-store';
import { createDatasetWriter, type DatasetWriterOptions } from '../write/dataset-writer';
import sharp from 'sharp';
import { VOC_CLASSES, VOC_VOID, decodeVocMask, parseVocObjects, type VocObject } from './voc-annotations';

export interface ConvertVocOptions extends Observers {
  /** The year folder: `…/VOCdevkit/VOC2012`. */
  root: string;
  task: 'classification' | 'segmentation';
  /** Image set names to convert (each becomes a split). Default `['train', 'val']`. */
  splits?: string[];
  /** Resize to this size and store raw pixels; omit to keep JPEG files. */
  size?: { height: number; width: number };
  /** Classification: count objects marked difficult. Default true. */
  includeDifficult?: boolean;
  output: string | BlobStore;
  name?: string;
  writer?: Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'overwrite' | 'store'>;
}

async function readSource(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new StorageError(`cannot read ${what}`, { where: path, cause });
  }
}

/** Image ids listed in an image-set file (first column; VOC's per-class files have a second). */
async function imageSet(path: string): Promise<string[]> {
  const text = new TextDecoder().decode(await readSource(path, 'image set'));
  const ids = text
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((id) => id !== undefined && id !== '');
  if (ids.length === 0) throw new DataError('image set is empty', { where: path, expected: '≥ 1 image id' });
  return ids;
}

/**
 * The objects' boxes in the stored image's pixels (x0 ≤ x < x1), scaled by
 * `scale` (stored size / original size).
 * @throws DataError naming the annotation and object for a missing box or one outside the image.
 */
function vocBoxes(
  objects: VocObject[],
  classOf: (object: VocObject) => number,
  original: { height: number; width: number },
  scale: { x: number; y: number },
  where: string,
): Box[] {
  return objects.map((object, k) => {
    const b = object.bndbox;
    if (b === undefined)
      throw new DataError('an <object> has no <bndbox>', { where: `${where} object ${k}`, expected: '<bndbox> with xmin, ymin, xmax, ymax' });
    if (!(b.xmin >= 1 && b.xmin <= b.xmax && b.xmax <= original.width && b.ymin >= 1 && b.ymin <= b.ymax && b.ymax <= original.height)) {
      throw new DataError('<bndbox> is not inside the image', {
        where: `${where} object ${k}`,
        expected: `1 ≤ xmin ≤ xmax ≤ ${original.width}, 1 ≤ ymin ≤ ymax ≤ ${original.height}`,
        actual: `xmin ${b.xmin}, ymin ${b.ymin}, xmax ${b.xmax}, ymax ${b.ymax}`,
      });
    }
    // Clamped: xmax · (W' / W) may round past W' when xmax = W.
    const box: Box = {
      class: classOf(object),
      x0: (b.xmin - 1) * scale.x,
      y0: (b.ymin - 1) * scale.y,
      x1: Math.min(b.xmax * scale.x, original.width * scale.x),
      y1: Math.min(b.ymax * scale.y, original.height * scale.y),
    };
    if (object.difficult) box.difficult = true;
    return box;
  });
}

/**
 * @example
 * await convertVoc({ root: '/data/VOCdevkit/VOC2007', task: 'classification', splits: ['trainval', 'test'],
 *   size: { height: 227, width: 227 }, output: 's3://datasets/voc2007-227' });
 */
export async function convertVoc(options: ConvertVocOptions): Promise<DatasetManifest> {
  const { root, task } = options;
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const splits = options.splits ?? ['train', 'val'];
  const segmentation = task === 'segmentation';
  const classNames = segmentation ? ['background', ...VOC_CLASSES] : [...VOC_CLASSES];
  const classIndex = new Map(VOC_CLASSES.map((name, i) => [name, i] as const));
  const size = options.size;
  const writer = await createDatasetWriter(options.output, {
    ...options.writer,
    name: options.name ?? `voc-${task}`,
    features: {
      image: size ? { encoding: 'raw', height: size.height, width: size.width, channels: 3 } : { encoding: 'encoded', channels: 3 },
      label: 'multi',
      mask: segmentation ? (size ? 'raw' : 'encoded') : 'none',
      boxes: segmentation ? 'none' : 'xyxy',
      classNames,
      source: `PASCAL VOC (${root.split('/').filter(Boolean).at(-1) ?? 'VOC'}), Everingham et al., IJCV 2010`,
      license: 'see the PASCAL VOC terms of use (images from flickr, under their own licenses)',
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let completed = 0;
  let skippedDifficult = 0;
  try {
    for (const split of splits) {
      const ids = await imageSet(join(root, 'ImageSets', segmentation ? 'Segmentation' : 'Main', `${split}.txt`));
      progress({ task: `convert voc ${split}`, phase: 'start', completed: 0, total: ids.length });
      let done = 0;
      for (const id of ids) {
        const imagePath = join(root, 'JPEGImages', `${id}.jpg`);
        const jpeg = await readSource(imagePath, 'image');
        const decoded = await decodeImage(jpeg, { channels: 3, ...(size ? { resize: size } : {}), where: imagePath });
        const example: Example = { id, image: size ? decoded.data : jpeg, label: [] };
        if (segmentation) {
          const maskPath = join(root, 'SegmentationClass', `${id}.png`);
          const mask = await decodeVocMask(await readSource(maskPath, 'mask'), maskPath);
          const original = size ? await decodeImage(jpeg, { channels: 3, where: imagePath }) : decoded;
          if (mask.height !== original.height || mask.width !== original.width) {
            throw new DataError('mask size differs from its image', {
              where: maskPath,
              expected: `${original.height}×${original.width}`,
              actual: `${mask.height}×${mask.width}`,
            });
          }
          const indices = size
            ? new Uint8Array(
                await sharp(mask.indices, { raw: { width: mask.width, height: mask.height, channels: 1 } })
                  .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
                  .extractChannel(0)
                  .raw()
                  .toBuffer(),
              )
            : mask.indices;
          const present = new Set<number>();
          for (const v of indices) if (v !== 0 && v !== VOC_VOID) present.add(v);
          for (const v of present) {
            if (v >= classNames.length)
              throw new DataError('mask value is not a VOC class', { where: maskPath, expected: `0…${classNames.length - 1} or 255`, actual: v });
          }
          example.label = [...present].sort((a, b) => a - b);
          example.mask = size ? indices : await encodePng({ data: indices, height: mask.height, width: mask.width, channels: 1 });
        } else {
          const annotationPath = join(root, 'Annotations', `${id}.xml`);
          const objects = parseVocObjects(new TextDecoder().decode(await readSource(annotationPath, 'annotation')), annotationPath);
          const classOf = (object: VocObject): number => {
            const index = classIndex.get(object.name as (typeof VOC_CLASSES)[number]);
            if (index === undefined)
              throw new DataError('unknown VOC class', { where: annotationPath, expected: `one of ${VOC_CLASSES.join(', ')}`, actual: object.name });
            return index;
          };
          const labels = new Set<number>();
          for (const object of objects) {
            const index = classOf(object);
            if (object.difficult && options.includeDifficult === false) {
              skippedDifficult++;
              continue;
            }
            labels.add(index);
          }
          example.label = [...labels].sort((a, b) => a - b);
          const original = size ? await probeImage(jpeg, imagePath) : decoded;
          const scale = size ? { x: size.width / original.width, y: size.height / original.height } : { x: 1, y: 1 };
          example.boxes = vocBoxes(objects, classOf, original, scale, annotationPath);
        }
        await writer.write(split, example);
        completed++;
        progress({ task: `convert voc ${split}`, phase: 'advance', completed: ++done, total: ids.length, item: id });
      }
    }
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  if (skippedDifficult > 0) logger.info('difficult objects left out of the labels', { objects: skippedDifficult });
  logger.info('converted PASCAL VOC', { task, examples: completed });
  return writer.close();
}
