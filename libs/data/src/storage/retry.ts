/**
 * Retries with capped exponential backoff and full jitter (Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog, 2015): attempt k waits a uniform
 * time in [0, min(maxDelay, baseDelay·2^k)).
 */
import { Rng, silentLogger, type Logger } from '@ddinit/core/base';

export interface RetryOptions {
  /** Attempts in all, the first included (≥ 1). Default 5. */
  attempts?: number;
  /** First backoff ceiling in ms. Default 100. */
  baseDelayMs?: number;
  /** Largest backoff ceiling in ms. Default 5000. */
  maxDelayMs?: number;
  /** Jitter source; default a fixed-seed stream (jitter needs no reproducibility, only spread). */
  rng?: Rng;
  logger?: Logger;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const RETRYABLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TooManyRequestsException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
  'RetryableBodyError',
]);

/**
 * True for errors worth another attempt: HTTP 5xx and 429, S3 throttling codes,
 * connection resets, timeouts and streams cut short. Client errors (4xx such as
 * NoSuchKey or AccessDenied) are final.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
    cause?: unknown;
    message?: string;
  };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (status !== undefined && status >= 400) return false;
  if (e.$retryable) return true;
  if (e.name !== undefined && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code !== undefined && RETRYABLE_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && /socket hang up|ECONNRESET|aborted|premature close/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== error && isRetryableError(e.cause);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, a non-retryable error occurs, or the
 * attempts run out (then the last error is thrown). Each retry is logged at
 * `warn` with the operation's description, the attempt and the error.
 *
 * @example
 * const bytes = await withRetries('GET s3://b/k bytes=0-99', () => get(), { attempts: 4 });
 */
export async function withRetries<T>(description: string, operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 100;
  const cap = options.maxDelayMs ?? 5000;
  const rng = options.rng ?? Rng.fromSeed(0x5eed).derive(description);
  const logger = options.logger ?? silentLogger;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be an integer ≥ 1, got ${attempts}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetryableError(error)) throw error;
      const delay = rng.uniform() * Math.min(cap, base * 2 ** (attempt - 1));
      logger.warn('retrying after a transient error', {
        operation: description,
        attempt,
        of: attempts,
        delayMs: Math.round(delay),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      await sleep(delay);
    }
  }
}
