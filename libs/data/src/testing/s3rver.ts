import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ClientOptions } from '../storage/s3-client';
import { makeTempDir } from './temp-dir';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** Where the server keeps its objects. */
  directory: string;
  /** A client for this server (path-style, s3rver's fixed credentials). */
  client(options?: Omit<S3ClientOptions, 'endpoint' | 'credentials' | 'region'> & { endpoint?: string }): S3Client;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** s3rver's built-in access key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * Starts s3rver on 127.0.0.1 in a child process (it needs Node's legacy
 * OpenSSL provider) with the given buckets; resolves once it listens.
 * @example
 * const s3 = await startS3rver(['bucket']);
 * try { const store = openStore('s3://bucket/ds', { client: s3.client() }); … } finally { await s3.stop(); }
 */
export async function startS3rver(buckets: string[], timeoutMs = 30_000): Promise<S3rverHandle> {
  const dir = await makeTempDir('ddinit-s3rver-');
  const script = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));
  // Typed from the three pipes, so its stdout and stderr are never null.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', script, dir.path, ...buckets], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch (error) {
          reject(new Error(`s3rver printed ${line}: ${String(error)}`));
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code}: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await dir.remove();
    throw error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    directory: dir.path,
    client: (options = {}) =>
      createS3Client({ region: 'us-east-1', credentials: { ...S3RVER_CREDENTIALS }, ...options, endpoint: options.endpoint ?? endpoint }),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await dir.remove();
    },
  };
}
