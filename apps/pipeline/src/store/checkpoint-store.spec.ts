import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, createMemoryLogger } from '@ddinit/core';
import { openStore } from '@ddinit/data';
import { startS3rver, type S3rverHandle } from '@ddinit/data/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeArtifact } from './artifact-store';
import { CheckpointStore, checkpointLocation } from './checkpoint-store';
import { openArtifactLocation } from './open-artifact-location';

const bytesOf = (step: number) => Uint8Array.from({ length: 64 + step }, (_, i) => (i * 7 + step) % 251);
let root: string;
let s3: S3rverHandle;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ddinit-ckpt-'));
  s3 = await startS3rver(['runs']);
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await s3?.stop();
});

describe('CheckpointStore', () => {
  for (const kind of ['local', 's3'] as const) {
    it(`${kind}: keeps the newest two, resumes from the newest complete one, skips a damaged one saying so`, async () => {
      const out = kind === 'local' ? join(root, 'run') : 's3://runs/train';
      const options = kind === 'local' ? {} : { client: s3.client() };
      const logger = createMemoryLogger();
      const store = new CheckpointStore(out, 'hash-a', { ...options, logger });
      expect(await store.latest()).toBeNull();
      for (const step of [100, 200, 300]) await store.save(step, bytesOf(step));
      const keys = await openStore(checkpointLocation(out), options).list();
      expect(keys.filter((k) => !k.includes('.tmp-'))).toEqual([
        'checkpoint-000000200.ddts',
        'checkpoint-000000200.json',
        'checkpoint-000000300.ddts',
        'checkpoint-000000300.json',
      ]);
      expect(await store.latest()).toMatchObject({ step: 300, bytes: bytesOf(300) });
      // The newest one's bytes damaged (a half-written file): the previous one, with a warning.
      await openStore(checkpointLocation(out), options).write('checkpoint-000000300.ddts', [bytesOf(300).subarray(0, 10)]);
      expect(await store.latest()).toMatchObject({ step: 200, bytes: bytesOf(200) });
      expect(logger.records.map((r) => r.message)).toContain('a checkpoint is damaged or half-written; trying the previous one');
      // Data without its record does not count (killed between the two writes).
      await openStore(checkpointLocation(out), options).write('checkpoint-000000400.ddts', [bytesOf(400)]);
      expect((await store.latest())?.step).toBe(200);
      await expect(new CheckpointStore(out, 'hash-b', options).latest()).rejects.toThrow(ConfigError);
      await expect(new CheckpointStore(out, 'hash-b', options).latest()).rejects.toThrow(
        /written by another configuration.*expected configuration hash-b, got configuration hash-a/,
      );
      await store.clear();
      expect(await openStore(checkpointLocation(out), options).list()).toEqual([]);
      if (kind === 'local') expect(readdirSync(out)).toEqual([]);
    });
  }

  it('does not make a local --out look foreign to the artifact store, and survives a publish there', async () => {
    const out = join(root, 'with-artifact');
    const store = new CheckpointStore(out, 'h');
    await store.save(5, bytesOf(5));
    const location = openArtifactLocation(out);
    await location.prepare();
    const files = new Map([['model.json', new TextEncoder().encode('{}')]]);
    await location.publish(files, describeArtifact(files, { stage: 'pretrain', configHash: 'h', seed: 0, codeVersion: '0', backend: 'wasm' }));
    expect(readdirSync(out).sort()).toEqual(['.ddinit-checkpoints', 'metadata.json', 'model.json']);
    expect((await store.latest())?.step).toBe(5);
    writeFileSync(join(out, '.ddinit-checkpoints', 'checkpoint-000000005.json'), '{');
    truncateSync(join(out, '.ddinit-checkpoints', 'checkpoint-000000005.ddts'), 1);
    expect(await store.latest()).toBeNull();
  });
});
