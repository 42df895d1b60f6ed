/**
 * Streams record batches into one Arrow IPC file published through a
 * {@link BlobStore} (atomically: the store's `write`), hashing the bytes on the
 * way out. Memory stays bounded by the pipe's high-water mark plus one batch.
 */
import { createHash } from 'node:crypto';
import { AsyncByteQueue, Message, RecordBatchFileWriter, type RecordBatch, type Schema } from 'apache-arrow';
import type { BlobStore } from '../storage/blob-store';
import { ChunkPipe } from './chunk-pipe';

/** Arrow's byte sink, subclassed to hand each written buffer to us synchronously. */
class CapturingSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array | ArrayBufferView | ArrayBuffer): void {
    const bytes =
      value instanceof Uint8Array
        ? value
        : ArrayBuffer.isView(value)
          ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
          : new Uint8Array(value);
    if (bytes.byteLength > 0) this.chunks.push(bytes);
  }
}

/**
 * apache-arrow's file writer puts the schema only in the footer. The format
 * (and Arrow C++/pyarrow) also writes it as the first message after the magic,
 * which lets a reader stream the file front to back without its footer: do that.
 */
class StreamableFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    this._writeMagic()._writePadding(2);
    return this._writeMessage(Message.from(schema));
  }
}

export interface ShardFileResult {
  key: string;
  bytes: number;
  examples: number;
  sha256: string;
}

export class ShardFileWriter {
  private readonly writer = new StreamableFileWriter();
  private readonly sink = new CapturingSink();
  private readonly hash = createHash('sha256');
  private readonly pipe: ChunkPipe;
  private readonly upload: Promise<{ bytes: number }>;
  private uploadError: { error: unknown } | undefined;
  private written = 0;
  private rows = 0;
  private batches = 0;
  private schemaBytes = 0;

  constructor(
    private readonly store: BlobStore,
    readonly key: string,
    schema: Schema,
    highWaterBytes: number,
  ) {
    this.pipe = new ChunkPipe(highWaterBytes);
    this.upload = store.write(key, this.pipe);
    this.upload.catch((error: unknown) => {
      this.uploadError = { error };
      this.pipe.fail(error);
    });
    this.writer.reset(this.sink, schema);
    this.schemaBytes = this.sink.chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  }

  /** Bytes written so far (magic, schema and batches). */
  get bytesWritten(): number {
    return this.written;
  }

  get examples(): number {
    return this.rows;
  }

  /** Bytes the footer and trailer will add when the file is finished (an upper bound). */
  get footerBytes(): number {
    return this.schemaBytes + 64 + 32 * (this.batches + 1) + 8 + 10;
  }

  private async drain(): Promise<void> {
    const chunks = this.sink.chunks;
    this.sink.chunks = [];
    for (const chunk of chunks) {
      this.hash.update(chunk);
      this.written += chunk.byteLength;
      await this.pipe.push(chunk);
    }
    if (this.uploadError !== undefined) throw this.uploadError.error;
  }

  async writeBatch(batch: RecordBatch): Promise<void> {
    this.writer.write(batch);
    this.rows += batch.numRows;
    this.batches++;
    await this.drain();
  }

  /** Writes the footer, waits for the store to publish the file, returns its entry. */
  async finish(): Promise<ShardFileResult> {
    this.writer.finish();
    await this.drain();
    this.pipe.end();
    const { bytes } = await this.upload;
    if (bytes !== this.written) throw new Error(`${this.store.describe(this.key)}: stored ${bytes} of ${this.written} bytes`);
    return { key: this.key, bytes: this.written, examples: this.rows, sha256: this.hash.digest('hex') };
  }

  /** Abandons the file; nothing is published. */
  async abort(reason: unknown): Promise<void> {
    this.pipe.fail(reason);
    await this.upload.catch(() => undefined);
  }
}
