/**
 * Turns a dataset location into a {@link BlobStore}: `s3://bucket/prefix` → S3,
 * `file:///abs/dir` or a plain path → local directory.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@ddinit/core';
import type { BlobStore } from './blob-store';
import { LocalStore } from './local-store';
import type { RetryOptions } from './retry';
import { createS3Client, describeCredentialSource, type S3ClientOptions } from './s3-client';
import { parseS3Uri, S3Store } from './s3-store';

export interface StoreOptions {
  /** An S3 client to use; otherwise one is made by {@link createS3Client} from `s3`. */
  client?: S3Client;
  s3?: S3ClientOptions;
  retry?: RetryOptions;
  /** Multipart part size for S3 writes. */
  partBytes?: number;
  logger?: Logger;
}

/** True for `s3://…` locations. */
export function isS3Uri(location: string): boolean {
  return location.startsWith('s3://');
}

/**
 * @example
 * const store = openStore('s3://datasets/fashion-mnist');  // credentials, region, endpoint from the environment
 * const local = openStore('/data/fashion-mnist');
 */
export function openStore(location: string | BlobStore, options: StoreOptions = {}): BlobStore {
  if (typeof location !== 'string') return location;
  if (isS3Uri(location)) {
    const { bucket, prefix } = parseS3Uri(location);
    return new S3Store({
      client: options.client ?? createS3Client(options.s3),
      ...(options.client === undefined ? { credentialSource: describeCredentialSource(options.s3) } : {}),
      bucket,
      prefix,
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.partBytes === undefined ? {} : { partBytes: options.partBytes }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  return new LocalStore(location.startsWith('file://') ? fileURLToPath(location) : location);
}
