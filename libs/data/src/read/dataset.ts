/**
 * An opened dataset: its manifest, and streams of its record batches,
 * examples and byte batches, for one split at a time.
 *
 * @example
 * const dataset = await openDataset('s3://datasets/fashion-mnist');
 * for await (const batch of dataset.batches('train', { batchSize: 64, seed: 1, epoch: 0 })) {
 *   // batch.images: Uint8Array of 64·28·28·1 bytes (NHWC); batch.labels: Int32Array(64)
 * }
 */
import type { RecordBatch } from 'apache-arrow';
import { DataError, silentLogger, type Logger } from '@ddinit/core';
import type { Example } from '../format/example';
import { rawImageBytes, type DatasetFeatures } from '../format/features';
import { MANIFEST_NAME, readManifest, type DatasetManifest, type ShardEntry, type SplitEntry } from '../format/manifest';
import type { BlobStore } from '../storage/blob-store';
import { openStore, type StoreOptions } from '../storage/open-store';
import { planEpoch, type EpochOptions } from '../iterate/epoch-plan';
import { BatchAssembler, type UintBatch } from '../iterate/uint-batch';
import { BufferPool } from './buffer-pool';
import { batchColumns, rowExample, ShardRows, type BatchColumns } from './record-columns';
import { readShard, type ShardReadOptions, type ShardStream } from './shard-reader';

export interface OpenDatasetOptions {
  store?: StoreOptions;
  logger?: Logger;
}

export interface ReadOptions {
  /** Verify every shard's SHA-256. Default true. */
  verify?: boolean;
  /** Bytes per ranged read. Default 8 MiB (local) or 16 MiB (S3: fewer, larger requests). */
  chunkBytes?: number;
  /** Ranged reads in flight per shard. Default 2 (local) or 4 (S3). */
  concurrency?: number;
  /** Bytes fetched ahead per shard, the next shard's included. Default 64 MiB. */
  prefetchBytes?: number;
}

export interface BatchOptions extends EpochOptions, ReadOptions {
  /** Examples per batch (≥ 1). */
  batchSize: number;
  /** Drop the last batch of the epoch when it is smaller than batchSize. Default false. */
  dropRemainder?: boolean;
  /**
   * Reuse the batch arrays: each batch is then valid only until the next one is
   * requested (turn it into a tensor first). Saves the page faults of fresh
   * buffers on the fast path. Default false.
   */
  reuseBuffers?: boolean;
  /** Fill `ids`. Default true. */
  ids?: boolean;
  /** Size to decode encoded (PNG/JPEG) images to; required for encoded datasets. */
  decode?: { height: number; width: number };
}

export class Dataset {
  readonly location: string;
  readonly features: DatasetFeatures;
  /** Chunk buffers reused across batches() calls (epochs), one pool per chunk size. */
  private readonly pools = new Map<number, BufferPool>();

  constructor(
    readonly store: BlobStore,
    readonly manifest: DatasetManifest,
    private readonly logger: Logger = silentLogger,
  ) {
    this.location = store.location;
    this.features = manifest.features;
  }

  get splitNames(): string[] {
    return Object.keys(this.manifest.splits);
  }

  /**
   * A split's manifest entry.
   * @throws DataError when the split does not exist or has no examples.
   */
  split(name: string): SplitEntry {
    const split = this.manifest.splits[name];
    if (split === undefined) {
      throw new DataError(`no split '${name}'`, { where: this.store.describe(MANIFEST_NAME), expected: `one of ${this.splitNames.join(', ')}`, actual: name });
    }
    if (split.examples === 0 || split.shards.length === 0) {
      throw new DataError(`split '${name}' is empty`, { where: this.store.describe(MANIFEST_NAME), expected: '≥ 1 example', actual: '0 examples' });
    }
    return split;
  }

  private chunkBytes(options: ReadOptions): number {
    return options.chunkBytes ?? (this.location.startsWith('s3://') ? 16 : 8) * 1024 * 1024;
  }

  /** The pool for this chunk size: enough buffers for a shard plus the prefetch. */
  private poolFor(options: ReadOptions): BufferPool {
    const chunkBytes = this.chunkBytes(options);
    let pool = this.pools.get(chunkBytes);
    if (pool === undefined) {
      const prefetch = options.prefetchBytes ?? 64 * 1024 * 1024;
      const largestShard = Math.max(...Object.values(this.manifest.splits).flatMap((s) => s.shards.map((x) => x.bytes)), 0);
      pool = new BufferPool(chunkBytes, Math.ceil((largestShard + prefetch) / chunkBytes) + 4);
      this.pools.set(chunkBytes, pool);
    }
    return pool;
  }

  private shardOptions(options: ReadOptions, pool?: BufferPool): ShardReadOptions {
    const s3 = this.location.startsWith('s3://');
    return {
      features: this.features,
      verify: options.verify ?? true,
      chunkBytes: this.chunkBytes(options),
      concurrency: options.concurrency ?? (s3 ? 4 : 2),
      maxBufferedBytes: options.prefetchBytes ?? 64 * 1024 * 1024,
      ...(pool === undefined ? {} : { pool, release: 'manual' as const }),
    };
  }

  /**
   * Opens shards in order, each one's fetching started while the previous one
   * is consumed (prefetch of the next shard).
   */
  private async *shardStreams(shards: ShardEntry[], options: ShardReadOptions): AsyncGenerator<ShardStream> {
    let next: ShardStream | undefined = shards.length > 0 ? readShard(this.store, shards[0], options) : undefined;
    let current: ShardStream | undefined;
    try {
      // `next` holds shard i at the top of each pass: started before the loop, then one ahead.
      for (let i = 0; next !== undefined; i++) {
        current = next;
        await current.open();
        next = i + 1 < shards.length ? readShard(this.store, shards[i + 1], options) : undefined;
        next?.open().catch(() => undefined); // errors surface when it becomes current
        yield current;
        current.cancel();
      }
    } finally {
      // The consumer stopped early or a shard failed: stop fetching this one and the next.
      current?.cancel();
      next?.cancel();
    }
  }

  /**
   * Every record batch of a split, shards in manifest order, streamed (one
   * chunk of a shard in memory at a time, plus the prefetch). Batches are fresh
   * buffers the caller may keep.
   */
  async *recordBatches(split: string, options: ReadOptions = {}): AsyncGenerator<{ shard: ShardEntry; batch: RecordBatch }> {
    const entry = this.split(split);
    let index = 0;
    for await (const stream of this.shardStreams(entry.shards, this.shardOptions(options))) {
      const shard = entry.shards[index++];
      for await (const batch of stream) yield { shard, batch };
    }
  }

  /**
   * The examples this worker reads in one epoch, in epoch order (see
   * {@link planEpoch}); each a copy the caller may keep.
   */
  async *examples(split: string, options: EpochOptions & ReadOptions = {}): AsyncGenerator<Example> {
    for await (const run of this.rowRuns(split, options, undefined)) {
      for (const row of run.rows) {
        const [columns, r] = run.shard.locate(row);
        yield rowExample(columns, r);
      }
    }
  }

  /**
   * Byte batches of one epoch (see {@link UintBatch}). Every example of this
   * worker's share appears exactly once; the last batch is smaller unless
   * `dropRemainder` is set.
   */
  async *batches(split: string, options: BatchOptions): AsyncGenerator<UintBatch> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batchSize must be an integer ≥ 1, got ${options.batchSize}`);
    }
    const f = this.features;
    const decode = options.decode;
    let size: { height: number; width: number };
    if (f.image.encoding === 'raw') size = { height: f.image.height, width: f.image.width };
    else if (decode !== undefined) size = decode;
    else {
      throw new DataError('this dataset stores encoded (PNG/JPEG) images: batches need options.decode = { height, width }', {
        where: this.location,
      });
    }
    const assembler = new BatchAssembler(
      {
        ...size,
        channels: f.image.channels,
        classes: f.classNames.length,
        label: f.label,
        mask: f.mask !== 'none',
        boxes: f.boxes !== 'none',
        ...(decode ? { decode } : {}),
      },
      options.batchSize,
      options.reuseBuffers ?? false,
      options.ids ?? true,
    );
    const needsDecode = f.image.encoding === 'encoded' || f.mask === 'encoded';
    for await (const run of this.rowRuns(split, options, this.poolFor(options))) {
      if (needsDecode) {
        // The rows of a batch are decoded at once: sharp decodes on libuv's thread pool, so they run in
        // parallel, and behind the caller's work on the previous batch (which asked for this one first).
        for (let start = 0; start < run.rows.length;) {
          const located = Array.from(run.rows.subarray(start, start + assembler.room), (row) => run.shard.locate(row));
          const decoded = await Promise.all(located.map(([columns, r]) => assembler.decodeRow(columns, r, run.where)));
          located.forEach(([columns, r], k) => assembler.addDecoded(columns, r, decoded[k], run.where));
          start += located.length;
          if (assembler.full) yield assembler.take();
        }
      } else {
        for (const row of run.rows) {
          const [columns, r] = run.shard.locate(row);
          assembler.add(columns, r, run.where);
          if (assembler.full) yield assembler.take();
        }
      }
      run.done();
    }
    if (assembler.pending > 0 && !options.dropRemainder) yield assembler.take();
  }

  /**
   * The rows of one epoch for this worker, as runs over a shard (shuffled) or
   * over one record batch (in order). Shuffled: all of a shard's batches are
   * read — and verified — before its rows are handed out in permuted order.
   * Call `done()` when the run's rows are copied out (releases pooled chunks).
   */
  private async *rowRuns(
    split: string,
    options: EpochOptions & ReadOptions,
    pool: BufferPool | undefined,
  ): AsyncGenerator<{ shard: ShardRows; rows: Int32Array; where: string; done: () => void }> {
    const entry = this.split(split);
    const where = `split '${split}' of ${this.location}`;
    const plan = planEpoch(
      entry.shards.map((s) => s.examples),
      options,
      where,
    );
    const shards = plan.map((p) => entry.shards[p.shard]);
    const shuffle = options.shuffle ?? true;
    let index = 0;
    let emitted = 0;
    for await (const stream of this.shardStreams(shards, this.shardOptions(options, pool))) {
      const { rows } = plan[index++];
      const shardWhere = stream.where;
      const done = (): void => stream.releaseHeld();
      if (shuffle) {
        const batches: BatchColumns[] = [];
        for await (const batch of stream) batches.push(batchColumns(batch, this.features, shardWhere));
        yield { shard: new ShardRows(batches), rows, where: shardWhere, done };
        emitted += rows.length;
      } else {
        // rows is increasing: walk the batches and hand out the selected rows of each.
        let base = 0;
        let k = 0;
        for await (const batch of stream) {
          const columns = batchColumns(batch, this.features, shardWhere);
          const first = k;
          while (k < rows.length && rows[k] < base + columns.rows) k++;
          const selected = rows.subarray(first, k).map((row) => row - base);
          if (selected.length > 0) yield { shard: new ShardRows([columns]), rows: selected, where: shardWhere, done };
          base += columns.rows;
        }
        emitted += k;
      }
      stream.releaseHeld();
    }
    const expected = plan.reduce((t, p) => t + p.rows.length, 0);
    if (emitted !== expected) {
      throw new DataError('epoch ended early', { where, expected: `${expected} examples`, actual: `${emitted} examples` });
    }
    this.logger.debug('epoch read', { split, examples: emitted, shards: shards.length, bytesPerImage: rawImageBytes(this.features) });
  }
}

/**
 * Opens a dataset by location: a directory, `file://` URL or `s3://bucket/prefix`.
 * Reads and validates `manifest.json` (zod schema, split sums, unique paths).
 * @throws StorageError when the manifest is missing; DataError when it is invalid.
 */
export async function openDataset(location: string | BlobStore, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const store = openStore(location, { ...options.store, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  return new Dataset(store, await readManifest(store), options.logger);
}
