/**
 * `s3://bucket/prefix` locations as text, apart from the S3 client so a caller can
 * name and route locations without loading the AWS SDK.
 */
import { StorageError } from '@ddinit/core/base';
import { joinKey } from './blob-store';

/** True for `s3://…` locations. */
export function isS3Uri(location: string): boolean {
  return location.startsWith('s3://');
}

/** Splits `s3://bucket/some/prefix` into bucket and prefix. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match || match[1] === '') {
    throw new StorageError('not an S3 URI', { where: uri, expected: 's3://bucket/prefix' });
  }
  return { bucket: match[1], prefix: match[2].replace(/\/+$/, '') };
}

/** `s3://bucket/prefix` of a store (no trailing `/`; just `s3://bucket` for an empty prefix). */
export function s3Location(bucket: string, prefix: string): string {
  return `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`;
}

/** The URL of `key` in a store, for messages. */
export function s3KeyUrl(bucket: string, prefix: string, key: string): string {
  return `s3://${bucket}/${joinKey(prefix, key)}`;
}
