import { startS3rver, type S3rverHandle } from '@ddinit/data/testing';
import { openStore } from '@ddinit/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeArtifact, isUpToDate } from './artifact-store';
import { openArtifactLocation } from './open-artifact-location';

const enc = (s: string) => new TextEncoder().encode(s);
let s3: S3rverHandle;

beforeAll(async () => {
  s3 = await startS3rver(['artifacts']);
});
afterAll(async () => {
  await s3?.stop();
});

const info = (configHash: string) => ({ stage: 'init', configHash, seed: 3, codeVersion: '0.1.0', backend: 'wasm' });

describe('artifacts on S3', () => {
  it('publishes metadata last and reads files back with checksums', async () => {
    const location = openArtifactLocation('s3://artifacts/runs/init', { client: s3.client() });
    expect(await location.readMetadata()).toBeNull();
    const files = new Map([
      ['model.json', enc('{"m":1}')],
      ['weights.bin', new Uint8Array([9, 8, 7, 6])],
    ]);
    await location.publish(files, describeArtifact(files, info('abc')));
    expect(await isUpToDate(location, 'abc')).toBe(true);
    expect(Array.from(await location.readFile('weights.bin'))).toEqual([9, 8, 7, 6]);
    const keys = await openStore('s3://artifacts/runs/init', { client: s3.client() }).list();
    expect(keys).toEqual(['metadata.json', 'model.json', 'weights.bin']);
  });

  it('does not count a publish that died before its metadata', async () => {
    const store = openStore('s3://artifacts/runs/killed', { client: s3.client() });
    const location = openArtifactLocation('s3://artifacts/runs/killed', { client: s3.client() });
    const first = new Map([['a.txt', enc('old')]]);
    await location.publish(first, describeArtifact(first, info('h1')));
    // A second run dies after deleting the old metadata and writing one file.
    await store.delete('metadata.json');
    await store.write('a.txt', [enc('new, half done')]);
    expect(await location.readMetadata()).toBeNull();
    expect(await isUpToDate(location, 'h1')).toBe(false);
    await expect(location.readFile('a.txt')).rejects.toThrow(/no such file in a complete artifact/);
    // The rerun completes.
    const again = new Map([['a.txt', enc('new')]]);
    await location.publish(again, describeArtifact(again, info('h2')));
    expect(new TextDecoder().decode(await location.readFile('a.txt'))).toBe('new');
  });

  it('detects an object changed behind the metadata', async () => {
    const location = openArtifactLocation('s3://artifacts/runs/corrupt', { client: s3.client() });
    const files = new Map([['a.txt', enc('one')]]);
    await location.publish(files, describeArtifact(files, info('h')));
    await openStore('s3://artifacts/runs/corrupt', { client: s3.client() }).write('a.txt', [enc('two')]);
    await expect(location.readFile('a.txt')).rejects.toThrow(/s3:\/\/artifacts\/runs\/corrupt\/a\.txt: artifact file is corrupt/);
  });
});
