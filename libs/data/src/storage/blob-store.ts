/**
 * Where a dataset's files live: a local directory or an S3 prefix. Keys are
 * `/`-separated paths relative to the dataset root (`manifest.json`,
 * `train-00000.arrow`).
 */
export interface BlobStore {
  /** The root, as a URI: `file:///abs/dir` or `s3://bucket/prefix`. */
  readonly location: string;
  /** The full URI of a key, for messages: `s3://bucket/prefix/train-00000.arrow`. */
  describe(key: string): string;
  /** Size of an object in bytes. Throws StorageError naming the key if it does not exist. */
  size(key: string): Promise<number>;
  /** True when the key exists. */
  exists(key: string): Promise<boolean>;
  /**
   * Bytes `[start, end)` of an object, exactly `end − start` of them, written
   * into `target` when given (its length must be `end − start`), else into a
   * new buffer. Throws StorageError naming the key if it is missing or
   * shorter than `end`.
   */
  read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array>;
  /**
   * Optional: an open handle for many reads of one object (a local file kept
   * open instead of opened per read). Close it when done.
   */
  openRanges?(key: string): Promise<RangeHandle>;
  /** A whole (small) object, such as the manifest. */
  readAll(key: string): Promise<Uint8Array>;
  /** Every key under `prefix` (relative to the root), sorted. */
  list(prefix?: string): Promise<string[]>;
  /**
   * Publishes an object atomically: readers see either nothing (or the old
   * object) or all of `chunks`, never a prefix. Local: a temporary file renamed
   * into place; S3: one PutObject or a multipart upload completed at the end
   * (aborted on failure).
   */
  write(key: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ bytes: number }>;
  /** Removes an object (no error if absent). */
  delete(key: string): Promise<void>;
}

/** Repeated ranged reads of one object; see {@link BlobStore.read} for the contract of `read`. */
export interface RangeHandle {
  read(start: number, end: number, target?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Joins a root and a relative key with exactly one `/`. */
export function joinKey(root: string, key: string): string {
  if (root === '') return key;
  return `${root.replace(/\/+$/, '')}/${key.replace(/^\/+/, '')}`;
}
