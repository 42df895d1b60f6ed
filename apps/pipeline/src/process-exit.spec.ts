/**
 * The real `ddinit` process, spawned against a loopback S3 server with a fault,
 * exits with the documented code soon after it printed its error: nothing it
 * started (hash workers, sockets, prefetches) may keep it alive, since in a pod
 * a process that never exits holds its GPU until the Job's deadline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { openStore } from '@ddinit/data';
import { S3RVER_CREDENTIALS, startFaultyProxy, startS3rver, writeSyntheticDataset, type FaultyProxy, type S3rverHandle } from '@ddinit/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../bin/ddinit.js');
/** After its error line, the process must be gone within this long. */
const EXIT_AFTER_ERROR_MS = 3_000;
const GIVE_UP_MS = 60_000;

interface Exit {
  code: number | string;
  /** The `ddinit: …` line. */
  error: string;
  /** From the error line to the exit (Infinity: killed, or no error line). */
  lingerMs: number;
}

function runDdinit(args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let errorAt: number | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (errorAt === undefined && /^ddinit: /m.test(stderr)) errorAt = performance.now();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      const error = /^ddinit: .*$/m.exec(stderr)?.[0] ?? stderr;
      resolveExit({ code: code ?? signal ?? 'unknown', error, lingerMs: errorAt === undefined || signal !== null ? Infinity : performance.now() - errorAt });
    });
  });
}

let s3: S3rverHandle;
let out: string;
const SHARDS = 'arrow';

beforeAll(async () => {
  s3 = await startS3rver(['data']);
  out = mkdtempSync(join(tmpdir(), 'ddinit-exit-'));
  const client = s3.client();
  // ~10 shards of 28×28 images, so a sample reads several and prefetches the next.
  const options = { splits: { train: 600 }, height: 28, width: 28, channels: 1, maxShardBytes: 64 * 1024, maxBatchBytes: 8 * 1024 };
  for (const prefix of ['ok', 'missing', 'corrupt']) await writeSyntheticDataset(openStore(`s3://data/${prefix}`, { client }), options);
  for (const key of await openStore('s3://data/missing', { client }).list()) {
    if (key.endsWith(SHARDS)) await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: `missing/${key}` }));
  }
  for (const key of await openStore('s3://data/corrupt', { client }).list()) {
    if (!key.endsWith(SHARDS)) continue;
    const body = (await client.send(new GetObjectCommand({ Bucket: 'data', Key: `corrupt/${key}` }))).Body;
    if (body === undefined) throw new Error(`no body for corrupt/${key}`);
    const bytes = await body.transformToByteArray();
    bytes[bytes.length >> 1] ^= 0x55;
    await client.send(new PutObjectCommand({ Bucket: 'data', Key: `corrupt/${key}`, Body: bytes }));
  }
});

afterAll(async () => {
  await s3?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

function envFor(endpoint: string, accessKeyId: string = S3RVER_CREDENTIALS.accessKeyId): NodeJS.ProcessEnv {
  return { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
}

function init(data: string, run: string): string[] {
  return ['init', '--data', data, '--out', join(out, run), '--sample', '32', '--init', 'ddinit-gaussian', '--log-format', 'json'];
}

describe('ddinit exits soon after a storage failure, with the documented code', () => {
  it('a shard the manifest lists is missing: exit 2, naming the shard', async () => {
    const exit = await runDdinit(init('s3://data/missing', 'missing'), envFor(s3.endpoint));
    expect(exit.error).toMatch(/^ddinit: shard s3:\/\/data\/missing\/train-\d+\.arrow: a shard the manifest lists does not exist/);
    expect(exit.code).toBe(2);
    expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
  });

  it('a corrupt shard: exit 2, naming the shard and both checksums', async () => {
    const exit = await runDdinit(init('s3://data/corrupt', 'corrupt'), envFor(s3.endpoint));
    expect(exit.error).toMatch(
      /^ddinit: shard s3:\/\/data\/corrupt\/train-\d+\.arrow: shard checksum does not match the manifest .*expected sha256 [0-9a-f]{64}, got sha256 [0-9a-f]{64}/,
    );
    expect(exit.code).toBe(2);
    expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
  });

  it('an access key the server does not know: exit 2, naming the bucket and the credential source, not the secret', async () => {
    const exit = await runDdinit(init('s3://data/ok', 'bad-key'), envFor(s3.endpoint, 'NOSUCHKEY'));
    expect(exit.error).toContain("the credentials are not valid for bucket 'data'");
    expect(exit.error).toContain('from AWS_ACCESS_KEY_ID (NOSU…) and AWS_SECRET_ACCESS_KEY in the environment');
    expect(exit.error).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
    expect(exit.code).toBe(2);
    expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
  });

  it('the server fails every shard read (HTTP 500): exit 1 after the retries', async () => {
    const proxy = await startFaultyProxy(s3.endpoint);
    try {
      proxy.inject(Array<'500'>(200).fill('500'), (method, path) => method === 'GET' && path.includes(`.${SHARDS}`));
      const exit = await runDdinit(init('s3://data/ok', 'http-500'), envFor(proxy.endpoint));
      expect(exit.error).toMatch(/^ddinit: s3:\/\/data\/ok\/train-\d+\.arrow: GET bytes=\d+-\d+ failed after retries \(got HTTP 500 InternalError/);
      expect(exit.code).toBe(1);
      expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
    } finally {
      await proxy.close();
    }
  });

  // Request 2 is a footer; at request 3 a shard has its footer (and a hash worker) but no chunk yet: that run used to hang.
  it.each([2, 3])('the server goes away at shard request %i: exit 1 after the retries', async (at) => {
    const proxy: FaultyProxy = await startFaultyProxy(s3.endpoint);
    let seen = 0;
    proxy.inject(['500'], (method, path) => {
      if (method === 'GET' && path.includes(`.${SHARDS}`) && ++seen === at) void proxy.close();
      return false;
    });
    try {
      const exit = await runDdinit(init('s3://data/ok', `gone-${at}`), envFor(proxy.endpoint));
      expect(exit.error).toMatch(/^ddinit: s3:\/\/data\/ok\/train-\d+\.arrow: GET bytes=\d+-\d+ failed after retries \(got .*ECONNREFUSED/);
      expect(exit.code).toBe(1);
      expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
    } finally {
      await proxy.close();
    }
  });
});

describe('a wrong --model is reported before any data is read', () => {
  it.each([
    ['vgg-plain-99999', /^ddinit: model vgg-plain-<N>: unsupported plain VGG depth \(expected an integer 11 ≤ N ≤ 1000, got 99999\)/],
    [
      '/nonexistent/net/model.json',
      /^ddinit: model: the model file does not exist \(expected a tfjs model\.json \(a path or s3:\/\/ URL\), got no \/nonexistent\/net\/model\.json\)/,
    ],
  ])('%s: exit 2 naming the model, although the data is missing too', async (model, message) => {
    const exit = await runDdinit([...init('s3://data/no-such-dataset', 'bad-model'), '--model', model], envFor(s3.endpoint));
    expect(exit.error).toMatch(message);
    expect(exit.code).toBe(2);
    expect(exit.lingerMs).toBeLessThan(EXIT_AFTER_ERROR_MS);
  });
});
