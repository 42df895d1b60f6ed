/**
 * PASCAL VOC pieces: the 20 object classes, the segmentation colour map, and
 * object names from an annotation XML file.
 */
import sharp from 'sharp';
import { DataError } from '@ddinit/core';

export const VOC_CLASSES = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
] as const;

/** Mask value of pixels on object boundaries and of "difficult" regions. */
export const VOC_VOID = 255;

/**
 * The VOC devkit's colour of class index `i` (0 = background, 1–20 the
 * classes, 255 = void): bits of i spread over the high bits of R, G and B.
 */
export function vocColour(i: number): [number, number, number] {
  let r = 0,
    g = 0,
    b = 0;
  let c = i;
  for (let j = 0; j < 8; j++) {
    r |= (c & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

const COLOUR_TO_INDEX = new Map<number, number>(
  [...Array.from({ length: VOC_CLASSES.length + 1 }, (_, i) => i), VOC_VOID].map((i) => {
    const [r, g, b] = vocColour(i);
    return [(r << 16) | (g << 8) | b, i];
  }),
);

/**
 * Decodes a VOC `SegmentationClass` PNG to one class index per pixel (0–20, 255).
 * Palette and RGB files are mapped through the VOC colour map; a single-channel
 * (greyscale) file is taken as indices already.
 * @throws DataError naming the file and pixel for a colour outside the map.
 */
export async function decodeVocMask(bytes: Uint8Array, where: string): Promise<{ indices: Uint8Array; height: number; width: number }> {
  let meta;
  try {
    meta = await sharp(bytes).metadata();
  } catch (cause) {
    throw new DataError('mask is not a readable PNG', { where, cause, actual: String(cause) });
  }
  const palette = meta.isPalette;
  if (!palette && meta.channels === 1) {
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    return { indices: new Uint8Array(data), height: info.height, width: info.width };
  }
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const indices = new Uint8Array(info.width * info.height);
  for (let p = 0; p < indices.length; p++) {
    const key = (data[3 * p] << 16) | (data[3 * p + 1] << 8) | data[3 * p + 2];
    const index = COLOUR_TO_INDEX.get(key);
    if (index === undefined) {
      throw new DataError('mask colour is not in the VOC colour map', {
        where: `${where} pixel (${Math.floor(p / info.width)}, ${p % info.width})`,
        expected: 'a VOC class colour',
        actual: `rgb(${data[3 * p]}, ${data[3 * p + 1]}, ${data[3 * p + 2]})`,
      });
    }
    indices[p] = index;
  }
  return { indices, height: info.height, width: info.width };
}

/** An annotated object: its class name, VOC's `difficult` flag and its `<bndbox>` (1-based, inclusive pixels). */
export interface VocObject {
  name: string;
  difficult: boolean;
  /** Absent when the object has no `<bndbox>` (real VOC annotations always have one). */
  bndbox?: { xmin: number; ymin: number; xmax: number; ymax: number };
}

function parseBndbox(object: string, where: string): VocObject['bndbox'] {
  const box = /<bndbox>([\s\S]*?)<\/bndbox>/.exec(object)?.[1];
  if (box === undefined) return undefined;
  const read = (key: string): number => {
    const text = new RegExp(`<${key}>\\s*([^<]*?)\\s*</${key}>`).exec(box)?.[1];
    const value = Number(text);
    if (text === undefined || text === '' || !Number.isFinite(value))
      throw new DataError(`<bndbox> has no numeric <${key}>`, { where, actual: text ?? 'none' });
    return value;
  };
  return { xmin: read('xmin'), ymin: read('ymin'), xmax: read('xmax'), ymax: read('ymax') };
}

/**
 * The objects of an annotation file, in order of appearance: the first `<name>`,
 * `<difficult>` and `<bndbox>` of each `<object>` (parts' names and boxes are ignored).
 */
export function parseVocObjects(xml: string, where: string): VocObject[] {
  if (!/<annotation[\s>]/.test(xml)) throw new DataError('not a VOC annotation (no <annotation> element)', { where });
  const objects: VocObject[] = [];
  for (const match of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const own = match[1].replace(/<part>[\s\S]*?<\/part>/g, '');
    const name = /<name>\s*([^<]*?)\s*<\/name>/.exec(own)?.[1];
    if (name === undefined || name === '') throw new DataError('an <object> has no <name>', { where });
    const difficult = /<difficult>\s*1\s*<\/difficult>/.test(own);
    const bndbox = parseBndbox(own, `${where} object ${objects.length}`);
    objects.push({ name, difficult, ...(bndbox ? { bndbox } : {}) });
  }
  return objects;
}
