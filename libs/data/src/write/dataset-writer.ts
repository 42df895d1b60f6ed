/**
 * Writes a dataset: examples stream into record batches of about
 * `maxBatchBytes`, batches into shards of at most `maxShardBytes`, each shard
 * published atomically; `manifest.json` is written last, so a reader that
 * finds a manifest finds every shard it lists, complete.
 *
 * @example
 * const writer = await createDatasetWriter('s3://datasets/mnist', {
 *   name: 'mnist',
 *   features: { image: { encoding: 'raw', height: 28, width: 28, channels: 1 }, label: 'class', classNames },
 * });
 * for (const example of train) await writer.write('train', example);
 * const manifest = await writer.close();
 */
import { DataError, StorageError, silentLogger, silentProgress, type Observers } from '@ddinit/core';
import type { Example } from '../format/example';
import { featuresToSchema } from '../format/arrow-schema';
import { parseFeatures, type DatasetFeatures, type DatasetFeaturesInput } from '../format/features';
import { MANIFEST_NAME, parseManifest, serializeManifest, type DatasetBuilder, type DatasetManifest, type SplitEntry } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { openStore, type StoreOptions } from '../storage/open-store';
import { BatchBuilder } from './batch-builder';
import { ShardFileWriter } from './shard-file-writer';

export interface DatasetWriterOptions extends Observers {
  name: string;
  features: DatasetFeaturesInput;
  /** For generated datasets: the builder, its seed and parameters, recorded in the manifest. */
  builder?: DatasetBuilder;
  /** Upper bound of a shard file's size, bytes. Default 64 MiB. */
  maxShardBytes?: number;
  /** Target size of one record batch, bytes. Default 4 MiB (capped at a quarter of a shard). */
  maxBatchBytes?: number;
  /** Replace an existing dataset at the location (its manifest is rewritten last). Default false. */
  overwrite?: boolean;
  store?: StoreOptions;
}

interface SplitState {
  builder: BatchBuilder;
  shard: ShardFileWriter | undefined;
  shardIndex: number;
  entries: SplitEntry['shards'];
}

export class DatasetWriter {
  readonly features: DatasetFeatures;
  private readonly schema;
  private readonly splits = new Map<string, SplitState>();
  private readonly maxShardBytes: number;
  private readonly maxBatchBytes: number;
  private readonly logger;
  private readonly progress;
  private closed = false;
  private examples = 0;

  constructor(
    readonly store: BlobStore,
    private readonly options: DatasetWriterOptions,
  ) {
    this.features = parseFeatures(options.features, `dataset '${options.name}' at ${store.location}`);
    this.schema = featuresToSchema(this.features);
    this.maxShardBytes = options.maxShardBytes ?? 64 * 1024 * 1024;
    this.maxBatchBytes = Math.min(options.maxBatchBytes ?? 4 * 1024 * 1024, Math.floor(this.maxShardBytes / 4));
    if (!(this.maxShardBytes >= 64 * 1024)) throw new RangeError(`maxShardBytes must be ≥ 64 KiB, got ${this.maxShardBytes}`);
    this.logger = options.logger ?? silentLogger;
    this.progress = options.progress ?? silentProgress;
  }

  private split(name: string): SplitState {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new DataError('split names use letters, digits, _ and -', { where: this.store.location, actual: name });
    }
    let state = this.splits.get(name);
    if (state === undefined) {
      state = {
        builder: new BatchBuilder(this.schema, this.features, `split '${name}' of ${this.store.location}`),
        shard: undefined,
        shardIndex: 0,
        entries: [],
      };
      this.splits.set(name, state);
    }
    return state;
  }

  /** Adds one example to a split; resolves when it is buffered (awaiting uploads when buffers are full). */
  async write(split: string, example: Example): Promise<void> {
    if (this.closed) throw new DataError('dataset writer is closed', { where: this.store.location });
    const state = this.split(split);
    const size = state.builder.sizeOf(example);
    if (size + 4096 > this.maxShardBytes) {
      throw new DataError('example does not fit in one shard', {
        where: `split '${split}' example '${example.id}'`,
        expected: `≤ ${this.maxShardBytes - 4096} bytes`,
        actual: size,
      });
    }
    if (state.builder.rows > 0 && state.builder.estimatedBytes + size > this.maxBatchBytes) await this.flush(split, state);
    state.builder.add(example);
    this.examples++;
  }

  /** Writes the pending batch of a split, starting a new shard first if it would not fit. */
  private async flush(split: string, state: SplitState): Promise<void> {
    if (state.builder.rows === 0) return;
    const batchBytes = state.builder.estimatedBytes;
    if (state.shard !== undefined && state.shard.bytesWritten + batchBytes + state.shard.footerBytes > this.maxShardBytes) {
      await this.finishShard(split, state);
    }
    if (state.shard === undefined) {
      const key = `${split}-${String(state.shardIndex).padStart(5, '0')}.arrow`;
      state.shardIndex++;
      state.shard = new ShardFileWriter(this.store, key, this.schema, Math.min(16 * 1024 * 1024, this.maxShardBytes));
    }
    await state.shard.writeBatch(state.builder.build());
  }

  private async finishShard(split: string, state: SplitState): Promise<void> {
    const shard = state.shard;
    if (shard === undefined) return;
    state.shard = undefined;
    const result = await shard.finish();
    state.entries.push({ path: result.key, bytes: result.bytes, examples: result.examples, sha256: result.sha256 });
    this.logger.debug('shard published', { shard: this.store.describe(result.key), bytes: result.bytes, examples: result.examples });
    this.progress({ task: 'write shards', phase: 'advance', completed: this.shardCount(), item: result.key, fields: { split } });
  }

  private shardCount(): number {
    let count = 0;
    for (const state of this.splits.values()) count += state.entries.length;
    return count;
  }

  /**
   * Flushes every split, publishes the last shards, then the manifest.
   * @throws DataError when no example was written.
   */
  async close(): Promise<DatasetManifest> {
    if (this.closed) throw new DataError('dataset writer is already closed', { where: this.store.location });
    if (this.examples === 0) {
      await this.abort(new DataError('no examples'));
      throw new DataError('dataset has no examples: nothing to publish', { where: this.store.location });
    }
    try {
      for (const [name, state] of this.splits) {
        await this.flush(name, state);
        await this.finishShard(name, state);
      }
    } catch (error) {
      await this.abort(error);
      throw error;
    }
    this.closed = true;
    const splits: Record<string, SplitEntry> = {};
    for (const [name, state] of [...this.splits].sort(([a], [b]) => a.localeCompare(b))) {
      splits[name] = { examples: state.entries.reduce((t, e) => t + e.examples, 0), shards: state.entries };
    }
    const manifest: DatasetManifest = {
      format: 'ddinit-dataset',
      version: 1,
      name: this.options.name,
      features: this.features,
      ...(this.options.builder === undefined ? {} : { builder: this.options.builder }),
      splits,
    };
    const text = serializeManifest(manifest);
    parseManifest(text, this.store.describe(MANIFEST_NAME));
    await this.store.write(MANIFEST_NAME, [new TextEncoder().encode(text)]);
    this.logger.info('dataset published', { location: this.store.location, examples: this.examples, shards: this.shardCount() });
    this.progress({ task: 'write shards', phase: 'end', completed: this.shardCount() });
    return manifest;
  }

  /** Stops writing; shards in progress are not published (finished ones stay, unlisted). */
  async abort(reason: unknown = new Error('aborted')): Promise<void> {
    this.closed = true;
    for (const state of this.splits.values()) {
      await state.shard?.abort(reason);
      state.shard = undefined;
    }
  }
}

/**
 * Opens a writer at a location (directory, `file://` URL or `s3://bucket/prefix`).
 * @throws StorageError if a dataset already exists there and `overwrite` is not set.
 */
export async function createDatasetWriter(location: string | BlobStore, options: DatasetWriterOptions): Promise<DatasetWriter> {
  const store = openStore(location, { ...options.store, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  if (!options.overwrite && (await store.exists(MANIFEST_NAME))) {
    throw new StorageError('a dataset already exists here (pass overwrite: true to replace it)', {
      where: store.describe(MANIFEST_NAME),
    });
  }
  return new DatasetWriter(store, options);
}

/** Writes all examples of `source` (pairs of split and example) and closes the writer. */
export async function writeDataset(
  location: string | BlobStore,
  source: AsyncIterable<[string, Example]> | Iterable<[string, Example]>,
  options: DatasetWriterOptions,
): Promise<DatasetManifest> {
  const writer = await createDatasetWriter(location, options);
  try {
    for await (const [split, example] of source) await writer.write(split, example);
  } catch (error) {
    await writer.abort(error);
    throw error;
  }
  return writer.close();
}
