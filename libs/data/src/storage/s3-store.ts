/**
 * A {@link BlobStore} over `s3://bucket/prefix`: ranged GETs, paged listing,
 * PutObject for small objects and multipart upload for large ones. Every
 * request (with its body) is retried on 5xx, throttling and connection resets.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ConfigError, StorageError, silentLogger, type Logger } from '@ddinit/core';
import { joinKey, type BlobStore } from './blob-store';
import { isRetryableError, withRetries, type RetryOptions } from './retry';
import { s3KeyUrl, s3Location } from './s3-uri';

/** Smallest part S3 accepts in a multipart upload (except the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix of the dataset, without leading or trailing `/` (may be empty). */
  prefix: string;
  retry?: RetryOptions;
  /** Where the client's credentials come from, for the error when S3 refuses them (see `describeCredentialSource`). */
  credentialSource?: string;
  /** Multipart part size (≥ 5 MiB). Objects smaller than one part go up in one PutObject. Default 8 MiB. */
  partBytes?: number;
  /** Keys per ListObjectsV2 page (1–1000). Default 1000. */
  listPageSize?: number;
  logger?: Logger;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return statusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** S3 error codes that mean the credentials (or the bucket policy) do not allow the request. */
const ACCESS_ERROR_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
]);

/** The error code S3 sent, if any (HEAD responses have no body, so no code: the SDK says 'Unknown'). */
function errorCodeOf(error: unknown): string | undefined {
  const name = (error as { name?: string } | undefined)?.name;
  return name === undefined || name === 'Unknown' || name === 'UnknownError' || name === 'Error' ? undefined : name;
}

function isAccessError(error: unknown): boolean {
  const code = errorCodeOf(error);
  return statusOf(error) === 403 || (code !== undefined && ACCESS_ERROR_NAMES.has(code));
}

/** An error thrown when a response body ends early; retryable. */
class RetryableBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableBodyError';
  }
}

export class S3Store implements BlobStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly retry: RetryOptions;
  private readonly partBytes: number;
  private readonly listPageSize: number;
  private readonly logger: Logger;
  private readonly credentialSource: string;

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.location = s3Location(this.bucket, this.prefix);
    this.logger = options.logger ?? silentLogger;
    this.retry = { logger: this.logger, ...options.retry };
    this.partBytes = options.partBytes ?? 8 * 1024 * 1024;
    if (this.partBytes < MIN_PART_BYTES) throw new RangeError(`partBytes must be ≥ ${MIN_PART_BYTES}, got ${this.partBytes}`);
    this.listPageSize = options.listPageSize ?? 1000;
    this.credentialSource = options.credentialSource ?? "the S3 client's credentials";
  }

  private keyOf(key: string): string {
    return joinKey(this.prefix, key);
  }

  describe(key: string): string {
    return s3KeyUrl(this.bucket, this.prefix, key);
  }

  /** Runs a request with retries; a final failure becomes a StorageError naming the key. */
  private async request<T>(what: string, key: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(`${what} ${this.describe(key)}`, operation, this.retry);
    } catch (cause) {
      if (cause instanceof StorageError) throw cause;
      if (isNotFound(cause)) throw new StorageError('object does not exist', { where: this.describe(key), cause });
      if (isAccessError(cause)) throw this.accessError(what, key, cause);
      const status = statusOf(cause);
      const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      throw new StorageError(`${what} failed${isRetryableError(cause) ? ' after retries' : ''}`, {
        where: this.describe(key),
        actual: status === undefined ? reason : `HTTP ${status} ${reason}`,
        cause,
      });
    }
  }

  /**
   * S3 refused the credentials: a configuration error (retrying cannot help)
   * naming the bucket and where the credentials came from, never the secret.
   */
  private accessError(what: string, key: string, cause: unknown): ConfigError {
    const code = errorCodeOf(cause);
    const status = statusOf(cause);
    const noCredentials = code === 'CredentialsProviderError';
    return new ConfigError(
      noCredentials
        ? `no S3 credentials were found for ${what}`
        : `S3 refused ${what}: the credentials are not valid for bucket '${this.bucket}' or may not access this key`,
      {
        where: this.describe(key),
        expected: `credentials allowed to use bucket '${this.bucket}', from ${this.credentialSource}`,
        actual: noCredentials
          ? 'none in any source of the chain'
          : [status === undefined ? undefined : `HTTP ${status}`, code].filter((part) => part !== undefined).join(' '),
        cause,
      },
    );
  }

  async size(key: string): Promise<number> {
    const head = await this.request('HEAD', key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
    if (head.ContentLength === undefined) throw new StorageError('HEAD returned no Content-Length', { where: this.describe(key) });
    return head.ContentLength;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.size(key);
      return true;
    } catch (error) {
      if (error instanceof StorageError && isNotFound(error.cause)) return false;
      throw error;
    }
  }

  async read(key: string, start: number, end: number, target?: Uint8Array): Promise<Uint8Array> {
    const length = end - start;
    if (!(start >= 0 && length >= 0)) throw new RangeError(`bad byte range [${start}, ${end})`);
    if (target !== undefined && target.byteLength !== length) {
      throw new RangeError(`target holds ${target.byteLength} bytes, range [${start}, ${end}) needs ${length}`);
    }
    if (length === 0) return target ?? new Uint8Array(0);
    // An explicit first-last range: s3rver and some gateways mishandle suffix ranges (bytes=-N).
    const range = `bytes=${start}-${end - 1}`;
    return this.request(`GET ${range}`, key, () => this.getInto(key, range, length, target));
  }

  async readAll(key: string): Promise<Uint8Array> {
    return this.request('GET', key, () => this.getInto(key, undefined, undefined, undefined));
  }

  /** One GET, its body copied into a single buffer; a short body is a retryable error. */
  private async getInto(key: string, range: string | undefined, length: number | undefined, target: Uint8Array | undefined): Promise<Uint8Array> {
    const response = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), ...(range === undefined ? {} : { Range: range }) }),
    );
    const expected = length ?? response.ContentLength;
    if (target !== undefined && target.byteLength !== expected) throw new RangeError('target size does not match the range');
    if (expected === undefined) throw new StorageError('GET returned no Content-Length', { where: this.describe(key) });
    if (response.ContentLength !== undefined && response.ContentLength !== expected) {
      throw new StorageError('object is shorter than the requested range', {
        where: this.describe(key),
        expected: `${expected} bytes (${range ?? 'whole object'})`,
        actual: `${response.ContentLength} bytes (${response.ContentRange ?? 'no Content-Range'})`,
      });
    }
    const out = target ?? new Uint8Array(expected);
    let filled = 0;
    const body = response.Body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined) throw new RetryableBodyError('GET returned no body');
    for await (const chunk of body) {
      if (filled + chunk.byteLength > expected) throw new StorageError('GET body is longer than announced', { where: this.describe(key) });
      out.set(chunk, filled);
      filled += chunk.byteLength;
    }
    if (filled !== expected) throw new RetryableBodyError(`body ended after ${filled} of ${expected} bytes`);
    return out;
  }

  async list(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    const root = this.prefix === '' ? '' : `${this.prefix}/`;
    let token: string | undefined;
    do {
      const page = await this.request('LIST', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: root + prefix,
            MaxKeys: this.listPageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key.slice(root.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && token === undefined) {
        throw new StorageError('truncated listing without a continuation token', { where: this.describe(prefix) });
      }
    } while (token !== undefined);
    return keys.sort();
  }

  async write(key: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<{ bytes: number }> {
    const objectKey = this.keyOf(key);
    let part = new Uint8Array(this.partBytes);
    let filled = 0;
    let bytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];

    const uploadPart = async (data: Uint8Array): Promise<void> => {
      if (uploadId === undefined) {
        const created = await this.request('CreateMultipartUpload', key, () =>
          this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey })),
        );
        if (created.UploadId === undefined) throw new StorageError('no UploadId returned', { where: this.describe(key) });
        uploadId = created.UploadId;
      }
      const id = uploadId;
      const partNumber = parts.length + 1;
      const result = await this.request(`UploadPart ${partNumber}`, key, () =>
        this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: objectKey, UploadId: id, PartNumber: partNumber, Body: data })),
      );
      if (result.ETag === undefined) throw new StorageError(`part ${partNumber} returned no ETag`, { where: this.describe(key) });
      parts.push({ ETag: result.ETag, PartNumber: partNumber });
    };

    try {
      for await (const chunk of chunks) {
        bytes += chunk.byteLength;
        let offset = 0;
        while (offset < chunk.byteLength) {
          const take = Math.min(chunk.byteLength - offset, this.partBytes - filled);
          part.set(chunk.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === this.partBytes) {
            await uploadPart(part);
            part = new Uint8Array(this.partBytes);
            filled = 0;
          }
        }
      }
      if (uploadId === undefined) {
        const body = part.subarray(0, filled);
        await this.request('PUT', key, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body })));
        return { bytes };
      }
      if (filled > 0) await uploadPart(part.subarray(0, filled));
      const id = uploadId;
      await this.request('CompleteMultipartUpload', key, () =>
        this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: id, MultipartUpload: { Parts: parts } })),
      );
      return { bytes };
    } catch (error) {
      if (uploadId !== undefined) {
        const id = uploadId;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: id })).catch((abortError: unknown) =>
          this.logger.warn('aborting a multipart upload failed; the parts stay until a lifecycle rule removes them', {
            key: this.describe(key),
            uploadId: id,
            error: String(abortError),
          }),
        );
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.request('DELETE', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) })));
  }
}
