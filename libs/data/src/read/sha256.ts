/**
 * Incremental SHA-256 of a byte stream, computed on worker threads so that
 * verifying a shard overlaps with decoding it (SHA-256 runs at 1–1.6 GB/s on
 * one core here, the same order as the read path itself).
 *
 * Bytes in a SharedArrayBuffer are hashed where they lie (`update` resolves
 * once the worker is done with them). Other bytes are copied into one of a few
 * transfer buffers that cycle between this thread and the worker (moved, not
 * cloned), so steady-state hashing allocates nothing; `update` waits when all
 * of them are with the worker.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface StreamingHash {
  /** Adds bytes; the caller may reuse them once this resolves. */
  update(bytes: Uint8Array): Promise<void>;
  /** Lower-case hex digest of everything added. */
  digest(): Promise<string>;
  /** Drops the hash (the stream was abandoned); no digest follows. */
  discard(): void;
}

/** A SHA-256 computed on the calling thread (small inputs, tests). */
export function createLocalSha256(): StreamingHash {
  const hash = createHash('sha256');
  return {
    update: async (bytes) => {
      hash.update(bytes);
    },
    digest: async () => hash.digest('hex'),
    discard: () => undefined,
  };
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'update') {
    let h = sessions.get(m.id);
    if (!h) { h = createHash('sha256'); sessions.set(m.id, h); }
    h.update(new Uint8Array(m.buffer, 0, m.length));
    parentPort.postMessage({ type: 'returned', buffer: m.buffer }, [m.buffer]);
  } else if (m.type === 'shared') {
    let h = sessions.get(m.id);
    if (!h) { h = createHash('sha256'); sessions.set(m.id, h); }
    h.update(new Uint8Array(m.buffer, m.offset, m.length));
    parentPort.postMessage({ type: 'hashed', seq: m.seq });
  } else if (m.type === 'discard') {
    sessions.delete(m.id);
  } else if (m.type === 'digest') {
    const h = sessions.get(m.id) ?? createHash('sha256');
    sessions.delete(m.id);
    parentPort.postMessage({ type: 'digest', id: m.id, hex: h.digest('hex') });
  }
});
`;

type Reply = { type: 'returned'; buffer: ArrayBuffer } | { type: 'hashed'; seq: number } | { type: 'digest'; id: number; hex: string };

const TRANSFER_BYTES = 4 * 1024 * 1024;
const TRANSFER_BUFFERS = 3;

/** One worker shared by every hash session of the process; referenced only while it has work, so it never keeps Node alive. */
class HashWorker {
  private readonly worker: Worker;
  private readonly free: ArrayBuffer[] = [];
  private waitingForBuffer: (() => void)[] = [];
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private nextSeq = 0;
  private readonly hashed = new Map<number, () => void>();
  private pending = 0;
  private failure: Error | undefined;

  private post(message: unknown, transfer: ArrayBuffer[] = []): void {
    if (this.pending++ === 0) this.worker.ref();
    this.worker.postMessage(message, transfer);
  }

  private settled(): void {
    if (--this.pending === 0) this.worker.unref();
  }

  constructor() {
    // No inherited flags: the source is plain CommonJS, and flags such as `--input-type=module` would break it.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    for (let i = 0; i < TRANSFER_BUFFERS; i++) this.free.push(new ArrayBuffer(TRANSFER_BYTES));
    this.worker.on('message', (reply: Reply) => {
      this.settled();
      if (reply.type === 'returned') {
        this.free.push(reply.buffer);
        this.waitingForBuffer.shift()?.();
      } else if (reply.type === 'hashed') {
        this.hashed.get(reply.seq)?.();
        this.hashed.delete(reply.seq);
      } else {
        this.digests.get(reply.id)?.resolve(reply.hex);
        this.digests.delete(reply.id);
      }
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      for (const { reject } of this.digests.values()) reject(error);
      for (const wake of this.hashed.values()) wake();
      this.hashed.clear();
      this.digests.clear();
      for (const wake of this.waitingForBuffer) wake();
      this.waitingForBuffer = [];
    });
    // Last: adding the first 'message' listener refs the worker's port, and a
    // worker that never got work (its shard's first read failed) would then keep
    // the process alive after main() returned.
    this.worker.unref();
  }

  session(): number {
    return this.nextId++;
  }

  private async buffer(): Promise<ArrayBuffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const buffer = this.free.pop();
      if (buffer !== undefined) return buffer;
      await new Promise<void>((resolve) => this.waitingForBuffer.push(resolve));
    }
  }

  async update(id: number, bytes: Uint8Array): Promise<void> {
    if (bytes.buffer instanceof SharedArrayBuffer) {
      if (this.failure) throw this.failure;
      const seq = this.nextSeq++;
      await new Promise<void>((resolve) => {
        this.hashed.set(seq, resolve);
        this.post({ type: 'shared', id, seq, buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength });
      });
      if (this.failure) throw this.failure;
      return;
    }
    for (let offset = 0; offset < bytes.byteLength; offset += TRANSFER_BYTES) {
      const part = bytes.subarray(offset, Math.min(bytes.byteLength, offset + TRANSFER_BYTES));
      const buffer = await this.buffer();
      new Uint8Array(buffer, 0, part.byteLength).set(part);
      this.post({ type: 'update', id, buffer, length: part.byteLength }, [buffer]);
    }
  }

  discard(id: number): void {
    this.worker.postMessage({ type: 'discard', id });
  }

  digest(id: number): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.digests.set(id, { resolve, reject });
      this.post({ type: 'digest', id });
    });
  }
}

/** Two workers, so that the shard being consumed and the one being prefetched hash in parallel. */
const WORKERS = 2;
const shared: HashWorker[] = [];
let nextWorker = 0;

/** A SHA-256 computed on one of the shared hashing worker threads (sessions alternate between them). */
export function createSha256(): StreamingHash {
  const slot = nextWorker++ % WORKERS;
  shared[slot] ??= new HashWorker();
  const worker = shared[slot];
  const id = worker.session();
  return {
    update: (bytes) => worker.update(id, bytes),
    digest: () => worker.digest(id),
    discard: () => worker.discard(id),
  };
}
