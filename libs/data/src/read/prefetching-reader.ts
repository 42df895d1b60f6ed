/**
 * Reads a sequence of chunks (ranged reads of known sizes) in order, fetching
 * ahead: up to `concurrency` reads in flight and at most `maxBufferedBytes`
 * fetched but not yet consumed. Fetching starts at {@link start} (or the first
 * iteration), so a reader can be created and started for the next shard while
 * the current one is being consumed.
 */
export interface PrefetchOptions {
  /** Bytes per ranged read (a planning hint for callers). Default 8 MiB. */
  chunkBytes?: number;
  /** Fetched-but-unconsumed bytes allowed (at least one chunk). Default 32 MiB. */
  maxBufferedBytes?: number;
  /** Ranged reads in flight at once. Default 2. */
  concurrency?: number;
}

export interface PrefetchHooks {
  /** Called with chunks fetched but never handed out (after {@link PrefetchingReader.cancel}). */
  discard?: (chunk: Uint8Array) => void;
}

export class PrefetchingReader implements AsyncIterable<Uint8Array> {
  private readonly maxBufferedBytes: number;
  private readonly concurrency: number;
  private readonly count: number;
  private readonly chunks = new Map<number, Promise<Uint8Array>>();
  private launched = 0;
  private inFlight = 0;
  private outstandingBytes = 0;
  private started = false;
  private cancelled = false;

  constructor(
    private readonly read: (index: number) => Promise<Uint8Array>,
    private readonly sizes: readonly number[],
    options: PrefetchOptions = {},
    private readonly hooks: PrefetchHooks = {},
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 2;
    if (!(this.concurrency >= 1)) throw new RangeError(`concurrency must be ≥ 1, got ${this.concurrency}`);
    this.count = sizes.length;
  }

  /** Begins fetching (idempotent). */
  start(): this {
    this.started = true;
    this.pump();
    return this;
  }

  /** Stops launching reads; chunks already fetched are dropped. */
  cancel(): void {
    this.cancelled = true;
    const discard = this.hooks.discard;
    if (discard !== undefined) for (const promise of this.chunks.values()) promise.then(discard, () => undefined);
    this.chunks.clear();
  }

  private pump(): void {
    while (
      this.started &&
      !this.cancelled &&
      this.launched < this.count &&
      this.inFlight < this.concurrency &&
      (this.outstandingBytes === 0 || this.outstandingBytes + this.sizes[this.launched] <= this.maxBufferedBytes)
    ) {
      const index = this.launched++;
      this.inFlight++;
      this.outstandingBytes += this.sizes[index];
      const promise = this.read(index).finally(() => {
        this.inFlight--;
        this.pump();
      });
      promise.catch(() => undefined); // surfaced when the consumer reaches this chunk
      this.chunks.set(index, promise);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this.start();
    try {
      for (let index = 0; index < this.count; index++) {
        const promise = this.chunks.get(index);
        if (promise === undefined) throw new Error(`PrefetchingReader: chunk ${index} was not launched`);
        const chunk = await promise;
        this.chunks.delete(index);
        this.outstandingBytes -= this.sizes[index];
        this.pump();
        yield chunk;
      }
    } finally {
      this.cancel();
    }
  }
}
