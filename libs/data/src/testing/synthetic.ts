import type { Example } from '../format/example';
import type { DatasetManifest } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { writeDataset, type DatasetWriterOptions } from '../write/dataset-writer';

export interface SyntheticOptions {
  /** Examples per split. */
  splits: Record<string, number>;
  height?: number;
  width?: number;
  channels?: number;
  classes?: number;
}

/**
 * Deterministic examples whose content encodes their identity: pixel j of
 * example i of split s is `(i·31 + j·7 + s) mod 251`, the label `i mod classes`,
 * the id `<split>-<i>`; so a reader's output can be checked byte for byte.
 */
export function* syntheticExamples(options: SyntheticOptions): Generator<[string, Example]> {
  const h = options.height ?? 8;
  const w = options.width ?? 8;
  const c = options.channels ?? 3;
  const classes = options.classes ?? 10;
  let s = 0;
  for (const [split, count] of Object.entries(options.splits)) {
    for (let i = 0; i < count; i++) {
      const image = new Uint8Array(h * w * c);
      for (let j = 0; j < image.length; j++) image[j] = (i * 31 + j * 7 + s) % 251;
      yield [split, { id: `${split}-${i}`, image, label: i % classes }];
    }
    s++;
  }
}

/** Writes {@link syntheticExamples} as a dataset. */
export function writeSyntheticDataset(
  location: string | BlobStore,
  options: SyntheticOptions & Partial<Pick<DatasetWriterOptions, 'maxShardBytes' | 'maxBatchBytes' | 'store' | 'overwrite'>>,
): Promise<DatasetManifest> {
  const classes = options.classes ?? 10;
  return writeDataset(location, syntheticExamples(options), {
    name: 'synthetic',
    features: {
      image: { encoding: 'raw', height: options.height ?? 8, width: options.width ?? 8, channels: options.channels ?? 3 },
      label: 'class',
      classNames: Array.from({ length: classes }, (_, k) => `class-${k}`),
      source: 'synthetic (tests)',
      license: 'CC0-1.0',
    },
    ...(options.maxShardBytes === undefined ? {} : { maxShardBytes: options.maxShardBytes }),
    ...(options.maxBatchBytes === undefined ? {} : { maxBatchBytes: options.maxBatchBytes }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
  });
}
