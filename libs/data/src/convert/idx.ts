/**
 * IDX files (LeCun et al., the MNIST format; also Fashion-MNIST, KMNIST, EMNIST),
 * raw or gzipped: a big-endian header `0x00 0x00 <type> <dims>`, one uint32
 * size per dimension, then the values row-major. Unsigned-byte tensors only
 * (type 0x08): images `[N, H, W]`, labels `[N]`.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError, StorageError, silentProgress, type Observers } from '@ddinit/core';
import type { Example } from '../format/example';
import type { DatasetManifest } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { createDatasetWriter, type DatasetWriterOptions } from '../write/dataset-writer';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** True for gzip data (magic 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an IDX unsigned-byte array.
 * @throws DataError naming `where` for a wrong magic, type, or a size that disagrees with the header.
 */
export function parseIdx(bytes: Uint8Array, where: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError('not an IDX file (bad magic)', {
      where,
      expected: '00 00 08 0n',
      actual: Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' '),
    });
  }
  if (bytes[2] !== 0x08) {
    throw new DataError('IDX value type is not unsigned byte', { where, expected: '0x08', actual: `0x${bytes[2].toString(16).padStart(2, '0')}` });
  }
  const rank = bytes[3];
  if (rank < 1 || bytes.length < 4 + 4 * rank) throw new DataError('IDX header is truncated', { where, actual: `${bytes.length} bytes, rank ${rank}` });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (bytes.length - start !== count) {
    throw new DataError('IDX data size does not match its header (truncated?)', {
      where,
      expected: `${count} bytes for [${dims.join(', ')}]`,
      actual: `${bytes.length - start} bytes`,
    });
  }
  return { dims, data: bytes.subarray(start) };
}

/** Reads an IDX file, gunzipping it when it is gzipped (whatever its name). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new StorageError('cannot read IDX file', { where: path, cause });
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (cause) {
      throw new DataError('gzip data is corrupt or truncated', { where: path, cause, actual: String(cause) });
    }
  }
  return parseIdx(bytes, path);
}

/**
 * Pairs an images array `[N, H, W]` with a labels array `[N]` into examples
 * (ids `<prefix>-<index>`), keeping at most `perClass` of each label when given.
 * @throws DataError when counts disagree or a label is out of range.
 */
export function* idxExamples(
  images: IdxArray,
  labels: IdxArray,
  options: { idPrefix: string; classes: number; perClass?: number; where: string },
): Generator<Example> {
  if (images.dims.length !== 3) throw new DataError('IDX images must be [N, H, W]', { where: options.where, actual: `[${images.dims.join(', ')}]` });
  if (labels.dims.length !== 1) throw new DataError('IDX labels must be [N]', { where: options.where, actual: `[${labels.dims.join(', ')}]` });
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) {
    throw new DataError('image and label counts differ', { where: options.where, expected: `${n} labels`, actual: `${labels.dims[0]} labels` });
  }
  const taken = new Int32Array(options.classes);
  const width = String(n - 1).length;
  for (let i = 0; i < n; i++) {
    const label = labels.data[i];
    if (label >= options.classes)
      throw new DataError('label out of range', { where: `${options.where} example ${i}`, expected: `< ${options.classes}`, actual: label });
    if (options.perClass !== undefined && taken[label] >= options.perClass) continue;
    taken[label]++;
    yield { id: `${options.idPrefix}-${String(i).padStart(width, '0')}`, image: images.data.slice(i * h * w, (i + 1) * h * w), label };
  }
  const perClass = options.perClass;
  if (perClass !== undefined) {
    const short = Array.from(taken).findIndex((t) => t < perClass);
    if (short >= 0)
      throw new DataError('not enough examples of a class', { where: options.where, expected: `${options.perClass} of class ${short}`, actual: taken[short] });
  }
}

export interface IdxSplitFiles {
  images: string;
  labels: string;
  /** Keep at most this many examples per class (in file order). */
  perClass?: number;
}

export interface ConvertIdxOptions extends Observers {
  /** Split name → its pair of IDX files (raw or gzipped). */
  splits: Record<string, IdxSplitFiles>;
  output: string | BlobStore;
  name: string;
  classNames: string[];
  source?: string;
  license?: string;
  writer?: Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'overwrite' | 'store'>;
}

/**
 * Converts IDX image/label pairs (MNIST, Fashion-MNIST, …) into a dataset of
 * 1-channel raw images.
 * @example
 * await convertIdx({ name: 'mnist', classNames: ['0', …, '9'], output: '/data/mnist',
 *   splits: { train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' } } });
 */
export async function convertIdx(options: ConvertIdxOptions): Promise<DatasetManifest> {
  const progress = options.progress ?? silentProgress;
  const loaded: [string, IdxArray, IdxArray, IdxSplitFiles][] = [];
  for (const [split, files] of Object.entries(options.splits)) {
    loaded.push([split, await readIdxFile(files.images), await readIdxFile(files.labels), files]);
  }
  if (loaded.length === 0) throw new DataError('no splits to convert', { where: 'convertIdx', expected: '≥ 1 split' });
  const [, firstImages] = loaded[0];
  const [height, width] = firstImages.dims.slice(1);
  const writer = await createDatasetWriter(options.output, {
    ...options.writer,
    name: options.name,
    features: {
      image: { encoding: 'raw', height, width, channels: 1 },
      label: 'class',
      classNames: options.classNames,
      source: options.source ?? '',
      license: options.license ?? '',
    },
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let completed = 0;
  progress({ task: 'convert idx', phase: 'start', completed: 0 });
  try {
    for (const [split, images, labels, files] of loaded) {
      if (images.dims[1] !== height || images.dims[2] !== width) {
        throw new DataError('splits differ in image size', {
          where: files.images,
          expected: `${height}×${width}`,
          actual: `${images.dims[1]}×${images.dims[2]}`,
        });
      }
      for (const example of idxExamples(images, labels, {
        idPrefix: split,
        classes: options.classNames.length,
        where: files.images,
        ...(files.perClass === undefined ? {} : { perClass: files.perClass }),
      })) {
        await writer.write(split, example);
        if (++completed % 1000 === 0) progress({ task: 'convert idx', phase: 'advance', completed, item: split });
      }
    }
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  const manifest = await writer.close();
  progress({ task: 'convert idx', phase: 'end', completed });
  return manifest;
}
