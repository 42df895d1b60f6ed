/**
 * Turns a dataset location into a {@link BlobStore}: `s3://bucket/prefix` → S3,
 * `file:///abs/dir` or a plain path → local directory. The S3 store and the AWS SDK
 * are imported on the store's first request ({@link DeferredStore}), so importing
 * this module, or opening a local store, does not load the SDK.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@ddinit/core/base';
import type { BlobStore } from './blob-store';
import { DeferredStore } from './deferred-store';
import { LocalStore } from './local-store';
import type { RetryOptions } from './retry';
import type { S3ClientOptions } from './s3-client';
import { isS3Uri, parseS3Uri, s3KeyUrl, s3Location } from './s3-uri';

export { isS3Uri };

export interface StoreOptions {
  /** An S3 client to use; otherwise one is made by {@link createS3Client} from `s3`. */
  client?: S3Client;
  s3?: S3ClientOptions;
  retry?: RetryOptions;
  /** Multipart part size for S3 writes. */
  partBytes?: number;
  logger?: Logger;
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
    return new DeferredStore(
      s3Location(bucket, prefix),
      (key) => s3KeyUrl(bucket, prefix, key),
      () => openS3Store(bucket, prefix, options),
    );
  }
  return new LocalStore(location.startsWith('file://') ? fileURLToPath(location) : location);
}

async function openS3Store(bucket: string, prefix: string, options: StoreOptions): Promise<BlobStore> {
  const [{ S3Store }, { createS3Client, describeCredentialSource }] = await Promise.all([import('./s3-store'), import('./s3-client')]);
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
