import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, createMemoryLogger } from '@ddinit/core';
import { openStore } from '@ddinit/data';
import { startFaultyProxy, startS3rver, type S3rverHandle } from '@ddinit/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUpToDate, describeArtifact, isUpToDate } from './artifact-store';
import { openArtifactLocation } from './open-artifact-location';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
let s3: S3rverHandle;

beforeAll(async () => {
  s3 = await startS3rver(['artifacts']);
});
afterAll(async () => {
  await s3?.stop();
});

const info = (configHash: string) => ({ stage: 'init', configHash, seed: 3, codeVersion: '0.1.0', backend: 'wasm' });

function artifact(configHash: string, entries: Record<string, string>) {
  const files = new Map(Object.entries(entries).map(([name, text]) => [name, enc(text)]));
  return { files, metadata: describeArtifact(files, info(configHash)) };
}

/**
 * A client whose requests fail from the `failAt`-th on, as if the process had
 * been killed there: nothing after the fault reaches the server. Counts requests.
 */
function clientKilledAt(failAt: number): { client: S3Client; requests: () => number } {
  const client = s3.client();
  let requests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      requests += 1;
      if (requests >= failAt) throw Object.assign(new Error(`killed at request ${failAt}`), { name: 'Killed' });
      return next(args);
    },
    { step: 'initialize', name: 'killSwitch' },
  );
  return { client, requests: () => requests };
}

async function keysUnder(url: string): Promise<string[]> {
  return openStore(url, { client: s3.client() }).list();
}

describe('artifacts on S3', () => {
  it('publishes the files under a folder of their own and metadata.json last, and reads them back with checksums', async () => {
    const location = openArtifactLocation('s3://artifacts/runs/init', { client: s3.client() });
    expect(await location.readMetadata()).toBeNull();
    await location.prepare();
    const { files, metadata } = artifact('abc', { 'model.json': '{"m":1}', 'weights.bin': 'wxyz' });
    await location.publish(files, metadata);
    expect(await isUpToDate(location, 'abc')).toBe(true);
    expect(dec(await location.readFile('weights.bin'))).toBe('wxyz');
    const keys = await keysUnder('s3://artifacts/runs/init');
    const folder = (await location.readMetadata())?.filesDir;
    expect(folder).toMatch(/^ddinit-\d{8}t\d{9}z-[0-9a-f]{8}$/);
    expect(keys).toEqual([`${folder}/model.json`, `${folder}/weights.bin`, 'metadata.json']);
  });

  it('killed at any request of a publish, a reader sees the previous artifact or the new one whole; the rerun leaves only the new one', async () => {
    const url = 's3://artifacts/runs/faults';
    const previous = artifact('old', { 'model.json': 'old model', 'weights.bin': 'old weights', 'report.html': 'old report' });
    const next = artifact('new', { 'model.json': 'new model', 'weights.bin': 'new weights' });
    await openArtifactLocation(url, { client: s3.client() }).publish(previous.files, previous.metadata);
    // The requests of one whole publish over a previous artifact: LIST, HEAD + GET metadata.json,
    // PUT model.json, PUT weights.bin, PUT metadata.json, DELETE the previous three files.
    const counted = clientKilledAt(Infinity);
    await openArtifactLocation(url, { client: counted.client }).publish(next.files, next.metadata);
    expect(counted.requests()).toBe(9);
    const seen: string[] = [];
    for (let failAt = 1; failAt <= counted.requests(); failAt += 1) {
      await openArtifactLocation(url, { client: s3.client() }).publish(previous.files, previous.metadata);
      const killed = clientKilledAt(failAt);
      await openArtifactLocation(url, { client: killed.client, retry: { attempts: 1 } })
        .publish(next.files, next.metadata)
        .catch(() => undefined);
      const reader = openArtifactLocation(url, { client: s3.client() });
      const hash = (await reader.readMetadata())?.configHash ?? 'none';
      const expected = hash === 'old' ? previous : next;
      for (const [name, bytes] of expected.files) expect(dec(await reader.readFile(name))).toBe(dec(bytes));
      seen.push(hash);
    }
    // Killed before the PUT of metadata.json (request 6): the previous artifact; from then on: the new one.
    expect(seen).toEqual(['old', 'old', 'old', 'old', 'old', 'old', 'new', 'new', 'new']);
    const rerun = openArtifactLocation(url, { client: s3.client() });
    await rerun.publish(next.files, next.metadata);
    const folder = (await rerun.readMetadata())?.filesDir;
    expect(await keysUnder(url)).toEqual([`${folder}/model.json`, `${folder}/weights.bin`, 'metadata.json']);
    expect((await checkUpToDate(rerun, 'new')).upToDate).toBe(true);
  });

  it('refuses a prefix holding objects ddinit did not write, and writes nothing there', async () => {
    const url = 's3://artifacts/users/data';
    await openStore(url, { client: s3.client() }).write('train.csv', [enc('a,b')]);
    const location = openArtifactLocation(url, { client: s3.client() });
    const error = await location.prepare().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      /^s3:\/\/artifacts\/users\/data: the output prefix holds objects ddinit did not write; refusing to publish there \(.*got 1 object: train\.csv\)$/,
    );
    const { files, metadata } = artifact('h', { 'a.txt': 'x' });
    await expect(location.publish(files, metadata)).rejects.toBeInstanceOf(ConfigError);
    expect(await keysUnder(url)).toEqual(['train.csv']);
  });

  it('says before any work that the output bucket does not exist', async () => {
    const location = openArtifactLocation('s3://no-such-bucket/runs/a', { client: s3.client(), retry: { attempts: 1 } });
    await expect(location.prepare()).rejects.toThrow(/^s3:\/\/no-such-bucket\/runs\/a: the output bucket does not exist/);
  });

  it('detects an object changed behind the metadata', async () => {
    const url = 's3://artifacts/runs/corrupt';
    const location = openArtifactLocation(url, { client: s3.client() });
    const { files, metadata } = artifact('h', { 'a.txt': 'one' });
    await location.publish(files, metadata);
    const folder = (await location.readMetadata())?.filesDir;
    await openStore(url, { client: s3.client() }).write(`${folder}/a.txt`, [enc('two')]);
    await expect(location.readFile('a.txt')).rejects.toThrow(`${url}/${folder}/a.txt: artifact file is corrupt`);
    expect(await checkUpToDate(location, 'h')).toEqual({ upToDate: false, reason: expect.stringMatching(/a\.txt: artifact file is corrupt/) });
  });

  it('logs the retries of a publish to the output location', async () => {
    const proxy = await startFaultyProxy(s3.endpoint);
    try {
      const logger = createMemoryLogger();
      const location = openArtifactLocation('s3://artifacts/runs/retried', {
        client: s3.client({ endpoint: proxy.endpoint }),
        logger,
        retry: { baseDelayMs: 1 },
      });
      proxy.inject(['503'], (method) => method === 'PUT');
      const { files, metadata } = artifact('h', { 'a.txt': 'one' });
      await location.publish(files, metadata);
      expect(logger.records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual(['retrying after a transient error']);
      expect(dec(await location.readFile('a.txt'))).toBe('one');
    } finally {
      await proxy.close();
    }
  });
});
