/**
 * Streams the record batches of one shard (an Arrow IPC file) front to back,
 * in chunks fetched ahead by ranged reads, without holding the whole shard.
 *
 * Checks, each a DataError naming the shard: size against the manifest,
 * leading and trailing magic, a readable footer length, the schema against the
 * dataset's features, the row count against the manifest, and the SHA-256 of
 * the whole file. Size and magic are checked before the first batch is
 * yielded; row count and checksum when the shard's last batch has been read —
 * the iteration then throws instead of finishing, so a corrupt shard can never
 * pass for a short one.
 */
import { Message, RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { Footer, type FileBlock } from 'apache-arrow/ipc/metadata/file';
import { DataError, isDdinitError } from '@ddinit/core';
import type { DatasetFeatures } from '../format/features';
import { checkSchemaFields, schemaToFeatures } from '../format/arrow-schema';
import { describeFeatures } from '../format/features';
import type { BlobStore, RangeHandle } from '../storage/blob-store';
import { createSha256, type StreamingHash } from './sha256';
import type { BufferPool } from './buffer-pool';
import { PrefetchingReader, type PrefetchOptions } from './prefetching-reader';

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const TRAILER_BYTES = 10; // int32 footer length + "ARROW1"
const HEADER_BYTES = 8; // "ARROW1" + 2 bytes padding

export interface ShardRef {
  /** Key relative to the store root. */
  path: string;
  /** Expected size (from the manifest); checked when given. */
  bytes?: number;
  /** Expected row count; checked when given. */
  examples?: number;
  /** Expected SHA-256 (hex); checked when given and `verify` is on. */
  sha256?: string;
}

export interface ShardReadOptions extends PrefetchOptions {
  /**
   * Read chunks into buffers from this pool and give them back: batches then
   * stay valid only until their chunk is released — automatically when the
   * next batch is requested (`release: 'auto'`), or at {@link ShardStream.releaseHeld}
   * (`release: 'manual'`). Without a pool every chunk is a fresh buffer and
   * batches stay valid for as long as they are referenced.
   */
  pool?: BufferPool;
  release?: 'auto' | 'manual';
  /** Features every shard must have (else: the shard's own, from its schema). */
  features?: DatasetFeatures;
  /** Verify the SHA-256 against `ShardRef.sha256`. Default true. */
  verify?: boolean;
}

function hasMagic(bytes: Uint8Array, offset: number): boolean {
  return MAGIC.every((value, i) => bytes[offset + i] === value);
}

function describeBytes(bytes: Uint8Array): string {
  return `'${Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}'`;
}

/** One ranged read of the plan: whole record-batch blocks (or the header / the footer). */
interface PlannedRead {
  start: number;
  end: number;
  blocks: FileBlock[];
}

/**
 * A shard opened for streaming: `open()` checks size and trailer, reads the
 * footer (schema and record-batch blocks) and starts fetching; iterating
 * yields its record batches.
 */
export class ShardStream implements AsyncIterable<RecordBatch> {
  private reader: PrefetchingReader | undefined;
  private plan: PlannedRead[] = [];
  private size = 0;
  private schemaMessage: Uint8Array | undefined;
  private opened: Promise<void> | undefined;
  private held: Uint8Array[] = [];
  private ranges: RangeHandle | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private hash: StreamingHash | undefined;
  /** Set once the digest has been taken (or there is nothing to verify). */
  private finished = false;
  /** Hashing happens in chunk order as chunks arrive (also while prefetching); this is the last update. */
  private hashTail: Promise<void> = Promise.resolve();
  /** The shard's schema (from its footer), once opened. */
  schema: Schema | undefined;
  /** The shard's features as its schema states them, once opened. */
  features: DatasetFeatures | undefined;
  /** Record batches in the shard, once opened. */
  batchCount = 0;

  constructor(
    readonly store: BlobStore,
    readonly shard: ShardRef,
    private readonly options: ShardReadOptions = {},
  ) {}

  /** Where the shard is, for messages. */
  get where(): string {
    return `shard ${this.store.describe(this.shard.path)}`;
  }

  /** Checks size, trailer, footer and schema, and starts prefetching (idempotent). */
  open(): Promise<void> {
    this.opened ??= this.openOnce().catch((error: unknown) => {
      this.closeRanges();
      throw error;
    });
    return this.opened;
  }

  /**
   * The shard's size. A shard the manifest lists but the store does not hold
   * is a broken dataset (DataError: retrying cannot help); other failures
   * stay the store's StorageError.
   */
  private async sizeOfListedShard(): Promise<number> {
    try {
      return await this.store.size(this.shard.path);
    } catch (error) {
      if (await this.store.exists(this.shard.path).catch(() => true)) throw error;
      throw new DataError('a shard the manifest lists does not exist', {
        where: this.where,
        expected: 'the file named in manifest.json (was the dataset copied in part?)',
        actual: 'no such object',
        cause: error,
      });
    }
  }

  private async openOnce(): Promise<void> {
    const { store, shard, where } = this;
    this.size = await this.sizeOfListedShard();
    if (shard.bytes !== undefined && this.size !== shard.bytes) {
      throw new DataError('shard size does not match the manifest (truncated or replaced?)', {
        where,
        expected: `${shard.bytes} bytes`,
        actual: `${this.size} bytes`,
      });
    }
    if (this.size < HEADER_BYTES + TRAILER_BYTES) {
      throw new DataError('file is too short to be an Arrow IPC file', {
        where,
        expected: `at least ${HEADER_BYTES + TRAILER_BYTES} bytes`,
        actual: `${this.size} bytes`,
      });
    }
    if (store.openRanges !== undefined) this.ranges = await store.openRanges(shard.path);
    const trailer = await this.readRange(this.size - TRAILER_BYTES, this.size);
    if (!hasMagic(trailer, 4)) {
      throw new DataError('file does not end with the Arrow magic (truncated, or not an Arrow IPC file)', {
        where,
        expected: "'ARROW1'",
        actual: describeBytes(trailer.subarray(4)),
      });
    }
    const footerLength = new DataView(trailer.buffer, trailer.byteOffset, 4).getInt32(0, true);
    const footerStart = this.size - TRAILER_BYTES - footerLength;
    if (footerLength <= 0 || footerStart < HEADER_BYTES) {
      throw new DataError('footer length is out of range', {
        where,
        expected: `1…${this.size - TRAILER_BYTES - HEADER_BYTES}`,
        actual: footerLength,
      });
    }
    // Read outside the try: a storage failure stays a StorageError, only undecodable bytes are a DataError.
    const footerBytes = await this.readRange(footerStart, footerStart + footerLength);
    let footer: Footer;
    try {
      footer = Footer.decode(footerBytes);
    } catch (cause) {
      throw new DataError('footer is not a readable Arrow footer (corrupt file)', { where, cause, actual: String(cause) });
    }
    this.schema = footer.schema;
    this.features = schemaToFeatures(footer.schema, where);
    const expected = this.options.features;
    if (expected !== undefined && describeFeatures(expected) !== describeFeatures(this.features)) {
      checkSchemaFields(footer.schema, expected, where);
      throw new DataError('shard schema metadata does not match the dataset', {
        where,
        expected: describeFeatures(expected),
        actual: describeFeatures(this.features),
      });
    }
    if (footer.numDictionaries > 0) {
      throw new DataError('dictionary-encoded columns are not part of the shard format', { where, actual: footer.numDictionaries });
    }
    const blocks = [...footer.recordBatches()];
    this.batchCount = blocks.length;
    this.plan = planReads(blocks, footerStart, this.size, this.options.chunkBytes ?? 8 * 1024 * 1024, where);
    this.schemaMessage = encodeSchemaMessage(footer.schema);
    const plan = this.plan;
    const pool = this.options.pool;
    const verify = (this.options.verify ?? true) && shard.sha256 !== undefined;
    const hash = verify ? createSha256() : undefined;
    this.hash = hash;
    this.reader = new PrefetchingReader(
      (index) => {
        const { start, end } = plan[index];
        const target = pool?.acquire(end - start);
        const chunk = this.readRange(start, end, target).catch((error: unknown) => {
          if (target !== undefined) pool?.release(target);
          throw error;
        });
        if (hash === undefined) return chunk;
        // The chain below subscribes to `chunk` only once the previous chunk is
        // hashed; a read failing before that must not count as unhandled (Node
        // would end the process with it): the failure surfaces through `hashed`.
        chunk.catch(() => undefined);
        // Reads are launched in index order; chaining keeps the hash in file order.
        const hashed = this.hashTail.then(() => chunk).then((bytes) => hash.update(bytes));
        this.hashTail = hashed.then(
          () => undefined,
          () => undefined,
        );
        return hashed.then(() => chunk);
      },
      plan.map((read) => read.end - read.start),
      this.options,
      pool === undefined ? {} : { discard: (chunk) => pool.release(chunk) },
    ).start();
  }

  /** One ranged read through the open handle (local files) or the store; tracked so the handle closes after it. */
  private readRange(start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error(`${this.where}: read after close`));
    const promise = this.ranges ? this.ranges.read(start, end, target) : this.store.read(this.shard.path, start, end, target);
    this.inFlight.add(promise);
    const settle = (): void => void this.inFlight.delete(promise);
    promise.then(settle, settle);
    return promise;
  }

  /** Closes the file handle once the reads in flight have settled. */
  private closeRanges(): void {
    if (this.closed) return;
    this.closed = true;
    const ranges = this.ranges;
    if (ranges !== undefined) void Promise.allSettled([...this.inFlight]).then(() => ranges.close().catch(() => undefined));
  }

  /** Stops fetching (when the consumer abandons the shard) and releases pooled chunks. */
  cancel(): void {
    this.reader?.cancel();
    this.closeRanges();
    this.releaseHeld();
    if (!this.finished) {
      // Updates still queued behind the tail are dropped with the session.
      void this.hashTail.then(() => this.hash?.discard());
    }
  }

  /**
   * Gives the chunks of every batch yielded before the current chunk back to
   * the pool (with `release: 'manual'`; done automatically with `'auto'`).
   * Call it only when no batch from those chunks is in use any more.
   */
  releaseHeld(): void {
    const pool = this.options.pool;
    if (pool !== undefined) for (const chunk of this.held) pool.release(chunk);
    this.held = [];
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
    await this.open();
    const { where, plan, schemaMessage, reader } = this;
    // open() sets both or throws; this only tells the compiler.
    if (reader === undefined || schemaMessage === undefined) throw new Error(`${where}: shard reader used before open()`);
    const hash = this.hash;
    const autoRelease = this.options.pool !== undefined && (this.options.release ?? 'auto') === 'auto';
    let rows = 0;
    let index = 0;
    try {
      for await (const chunk of reader) {
        if (autoRelease) this.releaseHeld();
        const read = plan[index++];
        if (read.start === 0 && !hasMagic(chunk, 0)) {
          throw new DataError('file does not start with the Arrow magic (not an Arrow IPC file)', {
            where,
            expected: "'ARROW1'",
            actual: describeBytes(chunk.subarray(0, 6)),
          });
        }
        for (const block of read.blocks) {
          const offset = block.offset - read.start;
          const batch = decodeBlock(
            schemaMessage,
            chunk.subarray(offset, offset + block.metaDataLength),
            chunk.subarray(offset + block.metaDataLength, offset + block.metaDataLength + block.bodyLength),
            where,
          );
          rows += batch.numRows;
          yield batch;
        }
        if (this.options.pool !== undefined) this.held.push(chunk);
      }
      if (autoRelease) this.releaseHeld();
    } catch (error) {
      this.cancel();
      if (isDdinitError(error)) throw error;
      throw new DataError('shard is not a readable Arrow IPC file (truncated or corrupt)', {
        where,
        actual: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
    if (this.shard.examples !== undefined && rows !== this.shard.examples) {
      throw new DataError('shard row count does not match the manifest', {
        where,
        expected: `${this.shard.examples} examples`,
        actual: `${rows} examples`,
      });
    }
    this.finished = true;
    this.closeRanges();
    if (hash !== undefined) {
      await this.hashTail;
      const digest = await hash.digest();
      if (digest !== this.shard.sha256) {
        throw new DataError('shard checksum does not match the manifest (corrupt or replaced)', {
          where,
          expected: `sha256 ${this.shard.sha256}`,
          actual: `sha256 ${digest}`,
        });
      }
    }
  }
}

/**
 * Splits `[0, size)` into ranged reads at block boundaries: the header (magic
 * and schema message), runs of whole record-batch blocks of about `chunkBytes`,
 * and the tail (end-of-stream marker, footer, trailer).
 */
function planReads(blocks: FileBlock[], footerStart: number, size: number, chunkBytes: number, where: string): PlannedRead[] {
  const reads: PlannedRead[] = [];
  let position = 0;
  let current: PlannedRead | undefined;
  const sorted = [...blocks].sort((a, b) => a.offset - b.offset);
  for (const block of sorted) {
    const end = block.offset + block.metaDataLength + block.bodyLength;
    if (block.offset < position || end > footerStart || block.metaDataLength < 8 || block.bodyLength < 0) {
      throw new DataError('footer lists a record batch outside the file body (corrupt footer)', {
        where,
        expected: `a block within [${position}, ${footerStart})`,
        actual: `offset ${block.offset}, ${block.metaDataLength} + ${block.bodyLength} bytes`,
      });
    }
    if (current === undefined || end - current.start > chunkBytes) {
      if (current !== undefined) reads.push(current);
      current = { start: position, end, blocks: [block] };
    } else {
      current.end = end;
      current.blocks.push(block);
    }
    position = end;
  }
  if (current !== undefined) reads.push(current);
  reads.push({ start: position, end: size, blocks: [] });
  return reads;
}

/** The stream-format schema message (continuation, length, flatbuffer, padding) for `schema`. */
function encodeSchemaMessage(schema: Schema): Uint8Array {
  const flatbuffer = Message.encode(Message.from(schema));
  const padded = (flatbuffer.byteLength + 8 + 7) & ~7;
  const out = new Uint8Array(padded);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, padded - 8, true);
  out.set(flatbuffer, 8);
  return out;
}

/** Decodes one record-batch message (metadata + body) against the schema, zero-copy. */
function decodeBlock(schemaMessage: Uint8Array, metadata: Uint8Array, body: Uint8Array, where: string): RecordBatch {
  const reader = RecordBatchReader.from([schemaMessage, metadata, body]);
  const result = reader.next();
  if (result.done || result.value.numRows === undefined) {
    throw new DataError('record batch message could not be decoded', { where });
  }
  return result.value;
}

/** Streams the record batches of one shard (see {@link ShardStream}). */
export function readShard(store: BlobStore, shard: ShardRef, options: ShardReadOptions = {}): ShardStream {
  return new ShardStream(store, shard, options);
}
