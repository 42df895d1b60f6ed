/** `openStore('s3://…')` makes its S3 store (and imports the AWS SDK) on the first request. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeferredStore } from './deferred-store';
import { LocalStore } from './local-store';
import { openStore } from './open-store';
import { S3Store } from './s3-store';

describe('a deferred store', () => {
  it('makes the real store once, on the first request, never for its location or a key description', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ddinit-deferred-'));
    try {
      let opened = 0;
      const store = new DeferredStore(
        's3://bucket/prefix',
        (key) => `s3://bucket/prefix/${key}`,
        async () => {
          opened += 1;
          return new LocalStore(dir);
        },
      );
      expect([store.location, store.describe('manifest.json'), opened]).toEqual(['s3://bucket/prefix', 's3://bucket/prefix/manifest.json', 0]);
      await store.write('a', [new Uint8Array([1, 2, 3])]);
      expect(await Promise.all([store.exists('a'), store.size('a'), store.readAll('a'), store.read('a', 1, 3), store.list()])).toEqual([
        true,
        3,
        new Uint8Array([1, 2, 3]),
        new Uint8Array([2, 3]),
        ['a'],
      ]);
      await store.delete('a');
      expect(await store.exists('a')).toBe(false);
      expect(opened).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is what openStore returns for s3://, naming locations and keys exactly as the S3 store does', () => {
    const client = {} as never;
    for (const uri of ['s3://bucket', 's3://bucket/', 's3://bucket/some/prefix', 's3://bucket/some/prefix/']) {
      const deferred = openStore(uri, { client });
      const { bucket, prefix } = { bucket: 'bucket', prefix: uri.slice('s3://bucket'.length).replace(/^\/|\/$/g, '') };
      const direct = new S3Store({ client, bucket, prefix });
      expect(deferred).toBeInstanceOf(DeferredStore);
      expect([deferred.location, deferred.describe('train/x.arrow')]).toEqual([direct.location, direct.describe('train/x.arrow')]);
    }
  });
});
