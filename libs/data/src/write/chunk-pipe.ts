/**
 * A one-producer, one-consumer byte pipe with backpressure: `push` resolves once
 * the consumer has taken enough that at most `highWaterBytes` stay buffered.
 * Small pushes are coalesced into chunks of at least `chunkBytes` for the
 * consumer (fewer, larger writes and uploads).
 */
export class ChunkPipe implements AsyncIterable<Uint8Array> {
  private queue: Uint8Array[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private buffered = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(
    private readonly highWaterBytes = 16 * 1024 * 1024,
    private readonly chunkBytes = 1024 * 1024,
  ) {}

  /** Appends bytes (kept by reference: do not modify them afterwards). */
  async push(bytes: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('ChunkPipe: push after end');
    if (bytes.byteLength === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    if (this.pendingBytes >= this.chunkBytes) this.flushPending();
    while (this.buffered > this.highWaterBytes && this.failure === undefined) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.failure !== undefined) throw this.failure.error;
  }

  /** No more bytes: the consumer's iteration ends after the buffered ones. */
  end(): void {
    this.flushPending();
    this.ended = true;
    this.wake();
  }

  /** Makes the consumer's iteration throw `error` (the producer failed). */
  fail(error: unknown): void {
    this.failure = { error };
    this.ended = true;
    this.wake();
  }

  private flushPending(): void {
    if (this.pendingBytes === 0) return;
    let chunk: Uint8Array;
    if (this.pending.length === 1) {
      chunk = this.pending[0];
    } else {
      chunk = new Uint8Array(this.pendingBytes);
      let offset = 0;
      for (const part of this.pending) {
        chunk.set(part, offset);
        offset += part.byteLength;
      }
    }
    this.queue.push(chunk);
    this.buffered += chunk.byteLength;
    this.pending = [];
    this.pendingBytes = 0;
    this.wake();
  }

  private wake(): void {
    const consumer = this.wakeConsumer;
    this.wakeConsumer = undefined;
    consumer?.();
    if (this.buffered <= this.highWaterBytes || this.failure !== undefined) {
      const producer = this.wakeProducer;
      this.wakeProducer = undefined;
      producer?.();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure.error;
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        this.buffered -= chunk.byteLength;
        this.wake();
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }
}
