import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeArtifact, hashConfig, isUpToDate } from './artifact-store';
import { LocalArtifactLocation } from './local-artifact-location';

const enc = (s: string) => new TextEncoder().encode(s);
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ddinit-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function info(configHash: string) {
  return { stage: 'init', configHash, seed: 1, codeVersion: '0.1.0', backend: 'wasm' };
}

describe('LocalArtifactLocation', () => {
  it('publishes files and metadata, reads them back with checksums', async () => {
    const location = new LocalArtifactLocation(join(root, 'artifacts', 'init'));
    expect(await location.readMetadata()).toBeNull();
    const files = new Map([
      ['model.json', enc('{"a":1}')],
      ['weights.bin', new Uint8Array([1, 2, 3])],
    ]);
    await location.publish(files, describeArtifact(files, info('h1')));
    const metadata = await location.readMetadata();
    expect(metadata?.files.map((f) => [f.name, f.bytes])).toEqual([
      ['model.json', 7],
      ['weights.bin', 3],
    ]);
    expect(Array.from(await location.readFile('weights.bin'))).toEqual([1, 2, 3]);
    expect(await isUpToDate(location, 'h1')).toBe(true);
    expect(await isUpToDate(location, 'h2')).toBe(false);
    expect(readdirSync(join(root, 'artifacts'))).toEqual(['init']);
  });

  it('replaces an existing artifact whole', async () => {
    const location = new LocalArtifactLocation(join(root, 'out'));
    const first = new Map([['a.txt', enc('one')], ['b.txt', enc('two')]]);
    await location.publish(first, describeArtifact(first, info('h1')));
    const second = new Map([['a.txt', enc('three')]]);
    await location.publish(second, describeArtifact(second, info('h2')));
    expect(readdirSync(join(root, 'out')).sort()).toEqual(['a.txt', 'metadata.json']);
    expect(new TextDecoder().decode(await location.readFile('a.txt'))).toBe('three');
    expect(readdirSync(root)).toEqual(['out']);
  });

  it('detects a corrupted file and refuses names that could escape the directory', async () => {
    const location = new LocalArtifactLocation(join(root, 'out'));
    const files = new Map([['a.txt', enc('one')]]);
    await location.publish(files, describeArtifact(files, info('h')));
    writeFileSync(join(root, 'out', 'a.txt'), 'oNe');
    await expect(location.readFile('a.txt')).rejects.toThrow(/a\.txt: artifact file is corrupt \(expected sha256 [0-9a-f]{64}, got sha256/);
    await expect(location.readFile('b.txt')).rejects.toThrow(/no such file in a complete artifact \(expected b\.txt, got \[a\.txt\]\)/);
    const bad = new Map([['../evil', enc('x')]]);
    await expect(location.publish(bad, describeArtifact(bad, info('h')))).rejects.toThrow(/plain names/);
  });

  it('leaves nothing a reader would take for a result when killed before the rename', async () => {
    const target = join(root, 'out');
    const location = new LocalArtifactLocation(target);
    // What a run killed mid-write leaves: a partial sibling directory, no target.
    const partial = join(root, `.out.partial-999-${Date.now() - 10_000}`);
    mkdirSync(partial);
    expect(await location.readMetadata()).toBeNull();
    expect(existsSync(target)).toBe(false);
    const removed = await location.removeStalePartials(1000);
    expect(removed).toHaveLength(1);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('hashConfig', () => {
  it('ignores key order and sees every value', () => {
    expect(hashConfig({ a: 1, b: { c: [1, 2] } })).toBe(hashConfig({ b: { c: [1, 2] }, a: 1 }));
    expect(hashConfig({ a: 1 })).not.toBe(hashConfig({ a: 2 }));
  });
});
