/**
 * CIFAR-10 and CIFAR-100, binary version (Krizhevsky, 2009): fixed-size
 * records of label byte(s) then 3072 pixel bytes, 1024 per channel (R, G, B
 * planes, row-major 32×32). CIFAR-10 records have 1 label byte
 * (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`, class names in
 * `batches.meta.txt`); CIFAR-100 records have 2, coarse then fine
 * (`train.bin`, `test.bin`, `coarse_label_names.txt`, `fine_label_names.txt`).
 * Pixels are converted to HWC.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, StorageError, silentProgress, type Observers } from '@ddinit/core';
import type { Example } from '../format/example';
import type { DatasetManifest } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { createDatasetWriter, type DatasetWriterOptions } from '../write/dataset-writer';

const SIDE = 32;
const PIXELS = SIDE * SIDE;

export interface ConvertCifarOptions extends Observers {
  /** The extracted binary folder (`cifar-10-batches-bin` or `cifar-100-binary`). */
  sourceDir: string;
  variant: 'cifar10' | 'cifar100';
  /** CIFAR-100 only: which label to keep. Default `fine`. */
  label?: 'fine' | 'coarse';
  output: string | BlobStore;
  name?: string;
  writer?: Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'overwrite' | 'store'>;
}

async function readSource(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new StorageError('cannot read CIFAR file', { where: path, cause });
  }
}

async function readNames(path: string): Promise<string[]> {
  const text = new TextDecoder().decode(await readSource(path));
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * The examples of one CIFAR binary file.
 * @throws DataError when the size is not a whole number of records or a label is out of range.
 */
export function* cifarRecords(
  bytes: Uint8Array,
  options: { labelBytes: 1 | 2; labelIndex: 0 | 1; classes: number; idPrefix: string; where: string },
): Generator<Example> {
  const recordBytes = options.labelBytes + 3 * PIXELS;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    throw new DataError('file size is not a whole number of CIFAR records (truncated, or the wrong variant?)', {
      where: options.where,
      expected: `a multiple of ${recordBytes} bytes`,
      actual: `${bytes.length} bytes`,
    });
  }
  const count = bytes.length / recordBytes;
  for (let i = 0; i < count; i++) {
    const record = bytes.subarray(i * recordBytes, (i + 1) * recordBytes);
    const label = record[options.labelIndex];
    if (label >= options.classes) {
      throw new DataError('label out of range', { where: `${options.where} record ${i}`, expected: `< ${options.classes}`, actual: label });
    }
    const planes = record.subarray(options.labelBytes);
    const image = new Uint8Array(3 * PIXELS);
    for (let p = 0; p < PIXELS; p++) {
      image[3 * p] = planes[p];
      image[3 * p + 1] = planes[PIXELS + p];
      image[3 * p + 2] = planes[2 * PIXELS + p];
    }
    yield { id: `${options.idPrefix}-${String(i).padStart(5, '0')}`, image, label };
  }
}

/**
 * Converts CIFAR-10 or CIFAR-100 (binary version) into a dataset with splits
 * `train` and `test` of 32×32×3 raw images.
 * @example
 * await convertCifar({ sourceDir: '/data/cifar-10-batches-bin', variant: 'cifar10', output: '/data/cifar10' });
 */
export async function convertCifar(options: ConvertCifarOptions): Promise<DatasetManifest> {
  const dir = options.sourceDir;
  const progress = options.progress ?? silentProgress;
  const cifar10 = options.variant === 'cifar10';
  const which = options.label ?? 'fine';
  const classNames = cifar10
    ? await readNames(join(dir, 'batches.meta.txt'))
    : await readNames(join(dir, which === 'fine' ? 'fine_label_names.txt' : 'coarse_label_names.txt'));
  const expectedClasses = cifar10 ? 10 : which === 'fine' ? 100 : 20;
  if (classNames.length !== expectedClasses) {
    throw new DataError('wrong number of class names', { where: dir, expected: expectedClasses, actual: classNames.length });
  }
  const files: [string, string][] = cifar10
    ? [...[1, 2, 3, 4, 5].map((k): [string, string] => ['train', `data_batch_${k}.bin`]), ['test', 'test_batch.bin']]
    : [
        ['train', 'train.bin'],
        ['test', 'test.bin'],
      ];
  const writer = await createDatasetWriter(options.output, {
    ...options.writer,
    name: options.name ?? (cifar10 ? 'cifar10' : `cifar100-${which}`),
    features: {
      image: { encoding: 'raw', height: SIDE, width: SIDE, channels: 3 },
      label: 'class',
      classNames,
      source: `${cifar10 ? 'CIFAR-10' : 'CIFAR-100'}, Alex Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009)`,
      license: 'see https://www.cs.toronto.edu/~kriz/cifar.html',
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let completed = 0;
  try {
    for (const [split, name] of files) {
      const path = join(dir, name);
      const bytes = await readSource(path);
      const records = cifarRecords(bytes, {
        labelBytes: cifar10 ? 1 : 2,
        labelIndex: cifar10 || which === 'coarse' ? 0 : 1,
        classes: classNames.length,
        idPrefix: `${name.replace(/\.bin$/, '')}`,
        where: path,
      });
      for (const example of records) await writer.write(split, example);
      progress({ task: 'convert cifar', phase: 'advance', completed: ++completed, total: files.length, item: name });
    }
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  return writer.close();
}
