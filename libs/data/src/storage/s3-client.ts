/**
 * An S3 client configured the way ddinit's readers and writers need it.
 *
 * - Credentials and region: the AWS SDK's standard chains (environment,
 *   shared config/credentials files, SSO, web identity, container and instance
 *   metadata) unless given explicitly.
 * - Endpoint: `options.endpoint`, else `AWS_ENDPOINT_URL_S3`, else
 *   `AWS_ENDPOINT_URL`; a custom endpoint switches to path-style addressing
 *   (`http://host:9000/bucket/key`), as MinIO, Ceph and s3rver expect.
 * - Checksums: computed and validated only when an operation requires them
 *   (`WHEN_REQUIRED`), which S3-compatible servers without the newer
 *   flexible-checksum headers accept.
 * - Retries: the SDK's own are off (`maxAttempts: 1`); {@link withRetries}
 *   retries whole operations, body included, so a connection reset in the
 *   middle of a ranged GET is retried too.
 * - Node 20: the SDK's notice that its releases after January 2027 need
 *   Node 22 is turned off (see {@link quietNodeVersionNotice}).
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  region?: string;
  endpoint?: string;
  /** Defaults to true when an endpoint is set (by option or environment), false otherwise. */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Socket idle timeout of a request, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** TCP connect timeout, ms. Default 5 000. */
  connectionTimeoutMs?: number;
  /** Concurrent connections per host. Default 16. */
  maxSockets?: number;
  /**
   * Environment to read `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` / `AWS_REGION` from. Default `process.env`.
   * A given environment's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` are used too.
   */
  env?: Record<string, string | undefined>;
}

/** The endpoint and addressing style the options and environment select. */
export function resolveS3Endpoint(options: S3ClientOptions = {}): { endpoint?: string; forcePathStyle: boolean } {
  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  return { endpoint, forcePathStyle: options.forcePathStyle ?? endpoint !== undefined };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The switch the AWS SDK documents for its Node-version notice (aws/aws-sdk-js-v3#7983). */
export const SDK_NODE_NOTICE_VARIABLE = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Under Node < 22 the SDK prints a multi-line process warning on the first
 * client of every run: SDK releases after the first week of January 2027 will
 * need Node 22. ddinit targets Node 20 with the SDK in its lockfile, which runs
 * there; the notice is for whoever upgrades ddinit's dependencies (see
 * docs/cli.md, S3), and nothing a person running `ddinit` can act on. So it is
 * off unless the environment already says otherwise. The SDK reads the
 * variable from `process.env` when a client is made; no other warning is
 * touched.
 */
function quietNodeVersionNotice(): void {
  if (process.env[SDK_NODE_NOTICE_VARIABLE] === undefined) process.env[SDK_NODE_NOTICE_VARIABLE] = 'true';
}

/** The access key pair of an explicitly given environment (the SDK itself reads only `process.env`). */
function staticCredentialsOf(env: Record<string, string | undefined>): S3ClientOptions['credentials'] {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

/**
 * Where the credentials of a client made by {@link createS3Client} come from,
 * in words for an error message: the first source of the AWS SDK's chain that
 * is configured. Never includes a secret; an access key id shows only its first
 * four characters.
 *
 * @example
 * describeCredentialSource({ env: { AWS_ACCESS_KEY_ID: 'AKIAXYZ…' } });
 * // 'AWS_ACCESS_KEY_ID (AKIA…) and AWS_SECRET_ACCESS_KEY in the environment'
 */
export function describeCredentialSource(options: S3ClientOptions = {}): string {
  const env = options.env ?? process.env;
  const keyId = (id: string): string => `${id.slice(0, 4)}…`;
  if (options.credentials !== undefined) return `the credentials passed to the S3 client (access key ${keyId(options.credentials.accessKeyId)})`;
  const envKey = nonEmpty(env.AWS_ACCESS_KEY_ID);
  if (envKey !== undefined) return `AWS_ACCESS_KEY_ID (${keyId(envKey)}) and AWS_SECRET_ACCESS_KEY in the environment`;
  const profile = nonEmpty(env.AWS_PROFILE);
  if (profile !== undefined) return `profile '${profile}' (AWS_PROFILE) of the shared AWS config and credentials files`;
  if (nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE) !== undefined) return 'the web identity token in AWS_WEB_IDENTITY_TOKEN_FILE (AWS_ROLE_ARN)';
  return 'the AWS SDK default chain (the default profile of ~/.aws/credentials, or container or instance metadata)';
}

/**
 * @example
 * // MinIO on a laptop: AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 AWS_REGION=us-east-1
 * const client = createS3Client();
 */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  const env = options.env ?? process.env;
  const { endpoint, forcePathStyle } = resolveS3Endpoint(options);
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  quietNodeVersionNotice();
  const credentials = options.credentials ?? (options.env === undefined ? undefined : staticCredentialsOf(options.env));
  return new S3Client({
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    forcePathStyle,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 16 },
      httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 16 },
    },
  });
}
