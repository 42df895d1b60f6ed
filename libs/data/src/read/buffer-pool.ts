/**
 * Reusable byte buffers for streaming reads. Fresh multi-megabyte buffers
 * cost page faults on every first touch (measured here: fresh 4 MiB buffers
 * read from the page cache at ~0.2–0.6 GB/s, reused ones at > 3 GB/s), so
 * the readers take their chunk buffers from a pool and give them back when the
 * consumer is done with them. Buffers are SharedArrayBuffers, so the hashing
 * worker reads a chunk where it lies instead of receiving a copy.
 */
export class BufferPool {
  private readonly free: SharedArrayBuffer[] = [];

  /**
   * @param minCapacity smallest buffer allocated (requests are rounded up to it), bytes.
   * @param maxFree buffers kept for reuse; extra released ones are dropped.
   */
  constructor(
    private readonly minCapacity = 8 * 1024 * 1024,
    private readonly maxFree = 8,
  ) {}

  /**
   * A buffer of exactly `size` bytes (contents undefined): the smallest free
   * one that fits, else a new one of at least `minCapacity` bytes. Requests of
   * less than 1/16 of `minCapacity` (footers, trailers) get a fresh small buffer.
   */
  acquire(size: number): Uint8Array {
    if (size < this.minCapacity / 16) return new Uint8Array(new SharedArrayBuffer(Math.max(size, 1)), 0, size);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].byteLength >= size && (best < 0 || this.free[i].byteLength < this.free[best].byteLength)) best = i;
    }
    if (best >= 0) return new Uint8Array(this.free.splice(best, 1)[0], 0, size);
    return new Uint8Array(new SharedArrayBuffer(Math.max(size, this.minCapacity)), 0, size);
  }

  /** Returns a buffer from {@link acquire}; no view of it may be used afterwards. */
  release(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < this.minCapacity || this.free.includes(buffer)) return;
    this.free.push(buffer);
    if (this.free.length > this.maxFree) {
      // Keep the larger buffers: they serve every request a smaller one would.
      this.free.sort((a, b) => b.byteLength - a.byteLength);
      this.free.length = this.maxFree;
    }
  }

  /** Buffers waiting for reuse. */
  get size(): number {
    return this.free.length;
  }
}
