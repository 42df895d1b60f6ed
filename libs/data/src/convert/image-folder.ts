/**
 * A folder of images by class (`<root>/<class>/<image>.png|jpg|jpeg`, the
 * torchvision `ImageFolder` layout), one folder per split. Classes are the
 * sorted subfolder names of the first split; every split must use the same.
 *
 * With `size`, images are decoded (sharp), converted to `channels` and
 * resized to exactly `size` (aspect ratio not kept): the dataset stores raw
 * fixed-size images. Without it, the original PNG/JPEG bytes are stored
 * (`encoded`, after checking each file decodes) and decoded when batched.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DataError, StorageError, silentProgress, type Observers } from '@ddinit/core';
import type { DatasetManifest } from '../format/manifest';
import { decodeImage } from '../image/image-codec';
import type { BlobStore } from '../storage/blob-store';
import { createDatasetWriter, type DatasetWriterOptions } from '../write/dataset-writer';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

export interface ConvertImageFolderOptions extends Observers {
  /** Split name → folder holding one subfolder per class. */
  splits: Record<string, string>;
  output: string | BlobStore;
  name: string;
  /** Decode and resize to this size (raw images); omit to keep the files encoded. */
  size?: { height: number; width: number };
  /** Channels after decoding: 1 or 3. Default 3. */
  channels?: 1 | 3;
  source?: string;
  license?: string;
  writer?: Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'overwrite' | 'store'>;
}

async function listDirectory(path: string, what: string): Promise<{ name: string; isDirectory: boolean }[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, isDirectory: e.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (cause) {
    throw new StorageError(`cannot list ${what}`, { where: path, cause });
  }
}

/** Class folders of a split root, sorted; hidden entries ignored. */
async function classFolders(root: string): Promise<string[]> {
  return (await listDirectory(root, 'image folder')).filter((e) => e.isDirectory && !e.name.startsWith('.')).map((e) => e.name);
}

/**
 * @throws DataError for a split whose classes differ from the first split's,
 *   an empty class folder, a file that is not a decodable image, or no images at all.
 * @example
 * await convertImageFolder({ name: 'flowers', splits: { train: '/data/flowers/train', val: '/data/flowers/val' },
 *   size: { height: 64, width: 64 }, output: '/data/flowers64' });
 */
export async function convertImageFolder(options: ConvertImageFolderOptions): Promise<DatasetManifest> {
  const progress = options.progress ?? silentProgress;
  const channels = options.channels ?? 3;
  const splits = Object.entries(options.splits);
  if (splits.length === 0) throw new DataError('no splits to convert', { where: 'convertImageFolder', expected: '≥ 1 split' });
  const classNames = await classFolders(splits[0][1]);
  if (classNames.length === 0) throw new DataError('no class folders', { where: splits[0][1], expected: 'one subfolder per class' });
  const writer = await createDatasetWriter(options.output, {
    ...options.writer,
    name: options.name,
    features: {
      image: options.size ? { encoding: 'raw', height: options.size.height, width: options.size.width, channels } : { encoding: 'encoded', channels },
      label: 'class',
      classNames,
      source: options.source ?? '',
      license: options.license ?? '',
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let completed = 0;
  progress({ task: 'convert image folder', phase: 'start', completed: 0 });
  try {
    for (const [split, root] of splits) {
      const classes = await classFolders(root);
      if (classes.join('\n') !== classNames.join('\n')) {
        throw new DataError(`split '${split}' has other classes than split '${splits[0][0]}'`, { where: root, expected: classNames, actual: classes });
      }
      for (const [label, className] of classNames.entries()) {
        const folder = join(root, className);
        const files = (await listDirectory(folder, 'class folder')).filter((e) => !e.isDirectory && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()));
        if (files.length === 0) throw new DataError('class folder has no PNG or JPEG images', { where: folder, expected: '≥ 1 image' });
        for (const file of files) {
          const path = join(folder, file.name);
          let bytes: Uint8Array;
          try {
            bytes = await readFile(path);
          } catch (cause) {
            throw new StorageError('cannot read image', { where: path, cause });
          }
          // Encoded files are decoded once too, so that a broken file fails here and not in training.
          const decoded = await decodeImage(bytes, { channels, ...(options.size ? { resize: options.size } : {}), where: path });
          const image = options.size ? decoded.data : bytes;
          await writer.write(split, { id: `${className}/${file.name}`, image, label });
          if (++completed % 100 === 0) progress({ task: 'convert image folder', phase: 'advance', completed, item: split });
        }
      }
    }
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  const manifest = await writer.close();
  progress({ task: 'convert image folder', phase: 'end', completed });
  return manifest;
}
