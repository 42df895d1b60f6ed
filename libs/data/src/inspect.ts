/**
 * What a dataset holds, for `ddinit data inspect`: the manifest's splits and
 * shards and, with `verify`, a full read of every shard (size, magic, schema,
 * row count and SHA-256 checked) with per-class label counts.
 */
import { silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { DatasetFeatures } from './format/features';
import type { DatasetBuilder } from './format/manifest';
import { batchColumns } from './read/record-columns';
import { openDataset } from './read/dataset';
import type { BlobStore } from './storage/blob-store';
import type { StoreOptions } from './storage/open-store';

export interface SplitReport {
  name: string;
  examples: number;
  bytes: number;
  shards: { path: string; bytes: number; examples: number; sha256: string }[];
  /** Examples per class (label kind `class`) or per class mentioned (kind `multi`); only with `verify`. */
  labelCounts?: number[];
}

export interface DatasetReport {
  location: string;
  name: string;
  features: DatasetFeatures;
  examples: number;
  bytes: number;
  splits: SplitReport[];
  /** True when every shard was read in full and passed every check. */
  verified: boolean;
  /** How a generated dataset was made (the manifest's `builder`). */
  builder?: DatasetBuilder;
}

export interface InspectOptions extends Observers {
  /** Read every shard in full and check it (size, magic, schema, rows, SHA-256). Default false. */
  verify?: boolean;
  store?: StoreOptions;
}

/**
 * @throws StorageError / DataError exactly as reading would (naming the shard or key).
 * @example
 * const report = await inspectDataset('s3://datasets/voc2007', { verify: true });
 * console.log(formatDatasetReport(report));
 */
export async function inspectDataset(location: string | BlobStore, options: InspectOptions = {}): Promise<DatasetReport> {
  const logger = options.logger ?? silentLogger;
  const progress = options.progress ?? silentProgress;
  const dataset = await openDataset(location, { ...(options.store ? { store: options.store } : {}), logger });
  const { manifest, features } = dataset;
  const splits: SplitReport[] = [];
  const totalShards = Object.values(manifest.splits).reduce((t, s) => t + s.shards.length, 0);
  let done = 0;
  if (options.verify) progress({ task: 'verify shards', phase: 'start', completed: 0, total: totalShards });
  for (const [name, split] of Object.entries(manifest.splits)) {
    const report: SplitReport = {
      name,
      examples: split.examples,
      bytes: split.shards.reduce((t, s) => t + s.bytes, 0),
      shards: split.shards.map((s) => ({ ...s })),
    };
    if (options.verify && split.examples > 0) {
      const counts = new Array<number>(features.classNames.length).fill(0);
      let current = '';
      for await (const { shard, batch } of dataset.recordBatches(name, { verify: true })) {
        if (shard.path !== current) {
          if (current !== '') progress({ task: 'verify shards', phase: 'advance', completed: ++done, total: totalShards, item: current });
          current = shard.path;
        }
        const columns = batchColumns(batch, features, shard.path);
        if (columns.label) for (let r = 0; r < columns.rows; r++) counts[columns.label.values[columns.label.offset + r]]++;
        if (columns.multiLabel) {
          const m = columns.multiLabel;
          for (let j = m.offsets[m.offset]; j < m.offsets[m.offset + columns.rows]; j++) counts[m.values[m.valuesOffset + j]]++;
        }
      }
      progress({ task: 'verify shards', phase: 'advance', completed: ++done, total: totalShards, item: current });
      if (features.label !== 'none') report.labelCounts = counts;
    }
    splits.push(report);
  }
  if (options.verify) progress({ task: 'verify shards', phase: 'end', completed: done, total: totalShards });
  const examples = splits.reduce((t, s) => t + s.examples, 0);
  const bytes = splits.reduce((t, s) => t + s.bytes, 0);
  logger.info('dataset inspected', { location: dataset.location, examples, bytes, verified: options.verify === true });
  return {
    location: dataset.location,
    name: manifest.name,
    features,
    examples,
    bytes,
    splits,
    verified: options.verify === true,
    ...(manifest.builder ? { builder: manifest.builder } : {}),
  };
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A plain-text summary of a report (the app decides where it goes). */
export function formatDatasetReport(report: DatasetReport): string {
  const f = report.features;
  const image = f.image.encoding === 'raw' ? `${f.image.height}×${f.image.width}×${f.image.channels} raw` : `encoded (PNG/JPEG), ${f.image.channels} channels`;
  const lines = [
    `${report.name} at ${report.location}`,
    `  images: ${image}; labels: ${f.label}${f.classNames.length > 0 ? ` (${f.classNames.length} classes)` : ''}; masks: ${f.mask}${f.boxes === 'none' ? '' : `; boxes: ${f.boxes}`}`,
    `  ${report.examples} examples, ${formatBytes(report.bytes)}${report.verified ? ', every shard verified' : ''}`,
  ];
  if (f.source !== '') lines.push(`  source: ${f.source}`);
  if (f.license !== '') lines.push(`  license: ${f.license}`);
  if (report.builder) lines.push(`  built by ${report.builder.name}, seed ${report.builder.seed}: ${JSON.stringify(report.builder.parameters)}`);
  for (const split of report.splits) {
    lines.push(`  ${split.name}: ${split.examples} examples in ${split.shards.length} shard(s), ${formatBytes(split.bytes)}`);
    if (split.labelCounts) {
      lines.push(`    per class: ${split.labelCounts.map((count, k) => `${f.classNames[k] ?? k}=${count}`).join(', ')}`);
    }
  }
  return lines.join('\n');
}
