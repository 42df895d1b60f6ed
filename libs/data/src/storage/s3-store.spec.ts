import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, StorageError, createMemoryLogger } from '@ddinit/core';
import { openDataset } from '../read/dataset';
import { startFaultyProxy, startS3rver, writeSyntheticDataset, type FaultyProxy, type S3rverHandle } from '../testing';
import { describeCredentialSource, resolveS3Endpoint } from './s3-client';
import { S3Store } from './s3-store';
import { openStore } from './open-store';

let s3: S3rverHandle;
let proxy: FaultyProxy;

beforeAll(async () => {
  s3 = await startS3rver(['bucket']);
  proxy = await startFaultyProxy(s3.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
});

const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 256);

describe('S3 store against s3rver', () => {
  it('puts, lists in pages, reads ranges and reports a missing key by name', async () => {
    const store = new S3Store({ client: s3.client(), bucket: 'bucket', prefix: 'list-test', listPageSize: 2, retry: fastRetry });
    for (let i = 0; i < 5; i++) await store.write(`dir/k${i}`, [bytesOf(100, i)]);
    await store.write('other', [bytesOf(10, 9)]);
    expect(await store.list('dir/')).toEqual(['dir/k0', 'dir/k1', 'dir/k2', 'dir/k3', 'dir/k4']);
    expect(await store.list()).toHaveLength(6);
    expect(await store.size('dir/k3')).toBe(100);
    expect(Array.from(await store.read('dir/k3', 10, 20))).toEqual(Array.from(bytesOf(100, 3).subarray(10, 20)));
    // The last bytes by an explicit first-last range (s3rver mishandles bytes=-N).
    expect(Array.from(await store.read('dir/k3', 90, 100))).toEqual(Array.from(bytesOf(100, 3).subarray(90, 100)));
    const target = new Uint8Array(5);
    expect(await store.read('dir/k1', 0, 5, target)).toBe(target);
    await expect(store.read('dir/missing', 0, 10)).rejects.toThrow(StorageError);
    await expect(store.read('dir/missing', 0, 10)).rejects.toThrow('s3://bucket/list-test/dir/missing: object does not exist');
    await expect(store.size('nope')).rejects.toThrow('s3://bucket/list-test/nope: object does not exist');
    expect(await store.exists('nope')).toBe(false);
    await expect(store.read('dir/k1', 50, 150)).rejects.toThrow(/s3:\/\/bucket\/list-test\/dir\/k1: object is shorter than the requested range/);
  });

  it('uploads large objects in parts (multipart) and reads them back exactly', async () => {
    const store = new S3Store({ client: s3.client(), bucket: 'bucket', prefix: 'mp', partBytes: 5 * 1024 * 1024, retry: fastRetry });
    const data = bytesOf(11 * 1024 * 1024 + 123, 1);
    const chunks = [];
    for (let i = 0; i < data.length; i += 1_000_000) chunks.push(data.subarray(i, i + 1_000_000));
    proxy.log.length = 0;
    const viaProxy = new S3Store({
      client: s3.client({ endpoint: proxy.endpoint }),
      bucket: 'bucket',
      prefix: 'mp',
      partBytes: 5 * 1024 * 1024,
      retry: fastRetry,
    });
    expect(await viaProxy.write('big.bin', chunks)).toEqual({ bytes: data.length });
    const parts = proxy.log.filter((r) => r.method === 'PUT' && r.path.includes('partNumber='));
    expect(parts.length).toBe(3);
    expect(proxy.log.some((r) => r.method === 'POST' && r.path.includes('uploads'))).toBe(true);
    expect(await store.size('big.bin')).toBe(data.length);
    const middle = await store.read('big.bin', 5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10);
    expect(Array.from(middle)).toEqual(Array.from(data.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10)));
  });

  it.each(['503', '500', 'reset', 'truncate'] as const)('retries a ranged GET after an injected fault (%s) and logs it', async (fault) => {
    const direct = new S3Store({ client: s3.client(), bucket: 'bucket', prefix: 'faults', retry: fastRetry });
    const data = bytesOf(200_000, 5);
    await direct.write('obj', [data]);
    const logger = createMemoryLogger();
    const store = new S3Store({ client: s3.client({ endpoint: proxy.endpoint }), bucket: 'bucket', prefix: 'faults', retry: fastRetry, logger });
    proxy.log.length = 0;
    proxy.inject([fault], (method, _path, range) => method === 'GET' && range !== undefined);
    const read = await store.read('obj', 1000, 150_000);
    expect(Buffer.from(read).equals(Buffer.from(data.subarray(1000, 150_000)))).toBe(true);
    const gets = proxy.log.filter((r) => r.method === 'GET');
    expect(gets.map((r) => r.fault)).toEqual([fault, undefined]);
    expect(gets.every((r) => r.range === 'bytes=1000-149999')).toBe(true);
    expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual(['retrying after a transient error']);
  });

  it('gives up after the configured attempts with an error naming the key', async () => {
    const store = new S3Store({
      client: s3.client({ endpoint: proxy.endpoint }),
      bucket: 'bucket',
      prefix: 'faults',
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    proxy.inject(['503', '503', '503'], (method) => method === 'HEAD');
    await expect(store.size('obj')).rejects.toThrow(/s3:\/\/bucket\/faults\/obj: HEAD failed after retries \(got HTTP 503/);
  });
});

describe('datasets on S3', () => {
  it('writes a multi-shard dataset to s3:// and reads it back through a flaky connection', async () => {
    const client = s3.client();
    const manifest = await writeSyntheticDataset('s3://bucket/datasets/synth', {
      splits: { train: 300, test: 20 },
      height: 16,
      width: 16,
      maxShardBytes: 64 * 1024,
      maxBatchBytes: 8 * 1024,
      store: { client },
    });
    expect(manifest.splits.train.shards.length).toBeGreaterThan(3);
    const listed = await openStore('s3://bucket/datasets/synth', { client }).list();
    expect(listed).toContain('manifest.json');
    expect(listed.filter((k) => k.endsWith('.arrow')).length).toBe(manifest.splits.train.shards.length + manifest.splits.test.shards.length);

    const dataset = await openDataset('s3://bucket/datasets/synth', { store: { client: s3.client({ endpoint: proxy.endpoint }), retry: fastRetry } });
    proxy.inject(['reset', 'truncate', '503'], (method, _path, range) => method === 'GET' && range !== undefined);
    const ids = new Set<string>();
    for await (const batch of dataset.batches('train', { batchSize: 64, seed: 2, chunkBytes: 16 * 1024 })) for (const id of batch.ids) ids.add(id);
    expect(ids.size).toBe(300);
    expect(proxy.log.filter((r) => r.fault !== undefined).length).toBeGreaterThanOrEqual(3);
  });

  it('reports a missing dataset, a missing shard object and a corrupt one by key', async () => {
    const client = s3.client();
    await expect(openDataset('s3://bucket/datasets/none', { store: { client, retry: fastRetry } })).rejects.toThrow(
      's3://bucket/datasets/none/manifest.json: object does not exist',
    );
    const manifest = await writeSyntheticDataset('s3://bucket/datasets/broken', { splits: { train: 50 }, store: { client } });
    const shard = manifest.splits.train.shards[0];
    const store = openStore('s3://bucket/datasets/broken', { client });
    const bytes = await store.readAll(shard.path);
    bytes[bytes.length >> 1] ^= 0x55;
    await store.write(shard.path, [bytes]);
    const dataset = await openDataset('s3://bucket/datasets/broken', { store: { client } });
    const drain = async () => {
      for await (const b of dataset.batches('train', { batchSize: 10 })) void b;
    };
    await expect(drain()).rejects.toThrow(DataError);
    await expect(drain()).rejects.toThrow(`shard s3://bucket/datasets/broken/${shard.path}: shard checksum does not match the manifest`);
    await store.delete(shard.path);
    await expect(drain()).rejects.toThrow(`shard s3://bucket/datasets/broken/${shard.path}: a shard the manifest lists does not exist`);
  });
});

describe('S3 client configuration', () => {
  it('takes the endpoint from AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, with path-style addressing', () => {
    expect(resolveS3Endpoint({ env: {} })).toEqual({ forcePathStyle: false, endpoint: undefined });
    expect(resolveS3Endpoint({ env: { AWS_ENDPOINT_URL: 'http://minio:9000' } })).toEqual({ endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(resolveS3Endpoint({ env: { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' } })).toEqual({
      endpoint: 'http://b:2',
      forcePathStyle: true,
    });
    expect(resolveS3Endpoint({ env: { AWS_ENDPOINT_URL_S3: 'http://b:2' }, forcePathStyle: false }).forcePathStyle).toBe(false);
  });

  it('reaches s3rver through environment variables alone (endpoint, region, credentials)', async () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
      process.env.AWS_REGION = 'us-east-1';
      process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
      process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
      await writeSyntheticDataset('s3://bucket/datasets/env', { splits: { train: 5 } });
      const dataset = await openDataset('s3://bucket/datasets/env');
      expect(dataset.split('train').examples).toBe(5);
    } finally {
      for (const key of ['AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('names where the credentials come from, never the secret', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG';
    expect(describeCredentialSource({ env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: secret } })).toBe(
      'AWS_ACCESS_KEY_ID (AKIA…) and AWS_SECRET_ACCESS_KEY in the environment',
    );
    expect(describeCredentialSource({ env: { AWS_PROFILE: 'lab' } })).toMatch(/^profile 'lab' \(AWS_PROFILE\)/);
    expect(describeCredentialSource({ env: {}, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: secret } })).not.toContain(secret);
    expect(describeCredentialSource({ env: {} })).toMatch(/^the AWS SDK default chain/);
  });

  it('a refused access key is a ConfigError naming the bucket and the credentials source, without the secret', async () => {
    const secret = 'not-the-right-secret-1234';
    const env = { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: secret };
    const store = openStore('s3://bucket/datasets/env', { s3: { endpoint: s3.endpoint, region: 'us-east-1', env }, retry: fastRetry });
    for (const attempt of [() => store.exists('manifest.json'), () => store.readAll('manifest.json'), () => store.list()]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      const message = String(error);
      expect(message).toContain("the credentials are not valid for bucket 'bucket'");
      expect(message).toContain('from AWS_ACCESS_KEY_ID (WRON…) and AWS_SECRET_ACCESS_KEY in the environment');
      expect(message).toMatch(/got HTTP 403/);
      expect(message).not.toContain(secret);
      expect(message).not.toContain('UnknownError');
    }
  });
});
