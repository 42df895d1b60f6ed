/** A `--data` that is not a dataset is bad input (DataError, exit 2) that says what it found. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '@ddinit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../main';
import { loadInitSample } from './init-sample';

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'ddinit-data-location-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a --data location that is not a dataset', () => {
  it('a plain file: exit 2, saying it is a file', async () => {
    const file = join(dir, 'train-00000.arrow');
    writeFileSync(file, 'not a dataset');
    const error = await loadInitSample({ data: file, split: 'train', size: 4, seed: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect(exitCodeFor(error)).toBe(2);
    expect(String(error)).toContain(`${file}: this is a file, not a dataset (expected a dataset directory or prefix holding manifest.json`);
  });

  it('a directory without a manifest, or nothing at all: exit 2, naming the manifest it looked for', async () => {
    for (const location of [dir, join(dir, 'absent')]) {
      const error = await loadInitSample({ data: location, split: 'train', size: 4, seed: 0 }).catch((e: unknown) => e);
      expect(exitCodeFor(error)).toBe(2);
      expect(String(error)).toContain(`${location}: no dataset at this location`);
      expect(String(error)).toContain(`got no ${join(location, 'manifest.json')}`);
    }
  });
});
