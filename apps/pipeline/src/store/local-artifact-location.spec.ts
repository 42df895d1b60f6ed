import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ddinit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkUpToDate, describeArtifact, hashConfig, isUpToDate } from './artifact-store';
import { LocalArtifactLocation, nodeFileOps, type LocalFileOps } from './local-artifact-location';

const DEAD_PID = 2 ** 22 + 17; // above Linux's default pid_max (2^22): no such process
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ddinit-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function info(configHash: string) {
  return { stage: 'init', configHash, seed: 1, codeVersion: '0.1.0', backend: 'wasm' };
}

function artifact(configHash: string, entries: Record<string, string>) {
  const files = new Map(Object.entries(entries).map(([name, text]) => [name, enc(text)]));
  return { files, metadata: describeArtifact(files, info(configHash)) };
}

/** The user's files in `dir`, to check they survive every publish. */
function addUserFiles(dir: string): void {
  writeFileSync(join(dir, 'notes.md'), 'my notes');
  mkdirSync(join(dir, 'plots'));
  writeFileSync(join(dir, 'plots', 'a.png'), 'png');
}

function expectUserFiles(dir: string): void {
  expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('my notes');
  expect(readFileSync(join(dir, 'plots', 'a.png'), 'utf8')).toBe('png');
}

/** File operations that fail from the `failAt`-th call on, as a killed process would stop. */
function killedAt(failAt: number): { ops: LocalFileOps; calls: () => number } {
  let calls = 0;
  const gate =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      calls += 1;
      if (calls >= failAt) throw new Error(`killed at file operation ${failAt}`);
      return fn(...args);
    };
  return {
    ops: {
      mkdir: gate(nodeFileOps.mkdir),
      writeDurably: gate(nodeFileOps.writeDurably),
      rename: gate(nodeFileOps.rename),
      unlink: gate(nodeFileOps.unlink),
      rmTree: gate(nodeFileOps.rmTree),
    },
    calls: () => calls,
  };
}

describe('LocalArtifactLocation', () => {
  it('publishes files and metadata, reads them back with checksums', async () => {
    const location = new LocalArtifactLocation(join(root, 'artifacts', 'init'));
    expect(await location.readMetadata()).toBeNull();
    const { files, metadata } = artifact('h1', { 'model.json': '{"a":1}', 'weights.bin': '\u0001\u0002\u0003' });
    await location.prepare();
    await location.publish(files, metadata);
    expect((await location.readMetadata())?.files.map((f) => [f.name, f.bytes])).toEqual([
      ['model.json', 7],
      ['weights.bin', 3],
    ]);
    expect(Array.from(await location.readFile('weights.bin'))).toEqual([1, 2, 3]);
    expect(await isUpToDate(location, 'h1')).toBe(true);
    expect(await isUpToDate(location, 'h2')).toBe(false);
    expect(readdirSync(join(root, 'artifacts'))).toEqual(['init']);
    expect(readdirSync(join(root, 'artifacts', 'init'))).toEqual(['metadata.json', 'model.json', 'weights.bin']);
  });

  it('replaces only the files the old artifact lists, keeping what the user added', async () => {
    const dir = join(root, 'out');
    const location = new LocalArtifactLocation(dir);
    const first = artifact('h1', { 'a.txt': 'one', 'b.txt': 'two' });
    await location.publish(first.files, first.metadata);
    addUserFiles(dir);
    const second = artifact('h2', { 'a.txt': 'three' });
    await location.prepare();
    await location.publish(second.files, second.metadata);
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'metadata.json', 'notes.md', 'plots']);
    expect(dec(await location.readFile('a.txt'))).toBe('three');
    expectUserFiles(dir);
  });

  it('refuses a non-empty directory that holds no artifact, naming it and what is in it, and changes nothing', async () => {
    const dir = join(root, 'project');
    mkdirSync(dir);
    addUserFiles(dir);
    const location = new LocalArtifactLocation(dir);
    const error = await location.prepare().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${dir}: the output directory holds files ddinit did not write; refusing to publish there (expected a new or empty directory, or a ddinit artifact (a directory with its metadata.json), got 2 entries: notes.md, plots)`,
    );
    const { files, metadata } = artifact('h', { 'a.txt': 'x' });
    await expect(location.publish(files, metadata)).rejects.toBeInstanceOf(ConfigError);
    expect(readdirSync(dir).sort()).toEqual(['notes.md', 'plots']);
    expectUserFiles(dir);
  });

  it('refuses to overwrite a user file of the same name as a new artifact file', async () => {
    const dir = join(root, 'out');
    const location = new LocalArtifactLocation(dir);
    const first = artifact('h1', { 'a.txt': 'one' });
    await location.publish(first.files, first.metadata);
    writeFileSync(join(dir, 'report.html'), 'mine');
    const second = artifact('h2', { 'a.txt': 'two', 'report.html': 'generated' });
    await expect(location.publish(second.files, second.metadata)).rejects.toThrow(/would overwrite files the artifact there does not list .*got report\.html/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toBe('mine');
    expect(dec(await location.readFile('a.txt'))).toBe('one');
  });

  it('refuses a file as the output location', async () => {
    writeFileSync(join(root, 'file'), 'x');
    for (const out of [join(root, 'file'), join(root, 'file', 'sub')]) {
      await expect(new LocalArtifactLocation(out).prepare()).rejects.toThrow(`${out}: the output location is not a directory`);
    }
  });

  it('killed at any file operation of a publish, the next run shows the old or the new artifact whole and then publishes', async () => {
    const oldFiles = { 'a.txt': 'old a', 'b.txt': 'old b' };
    const newFiles = { 'a.txt': 'new a', 'c.txt': 'new c' };
    let failAt = 1;
    for (;;) {
      const dir = join(root, `out-${failAt}`);
      const old = artifact('old', oldFiles);
      await new LocalArtifactLocation(dir).publish(old.files, old.metadata);
      addUserFiles(dir);
      const killed = killedAt(failAt);
      const next = artifact('new', newFiles);
      const outcome = await new LocalArtifactLocation(dir, { ops: killed.ops, pid: DEAD_PID }).publish(next.files, next.metadata).then(
        () => 'completed',
        () => 'killed',
      );
      // The next run: recovery, then what a reader sees.
      const rerun = new LocalArtifactLocation(dir);
      await rerun.prepare();
      const seen = (await rerun.readMetadata())?.configHash;
      expect(['old', 'new']).toContain(seen);
      const expected: Record<string, string> = seen === 'old' ? oldFiles : newFiles;
      for (const [name, text] of Object.entries(expected)) expect(dec(await rerun.readFile(name))).toBe(text);
      expectUserFiles(dir);
      await rerun.publish(next.files, next.metadata);
      expect(readdirSync(dir).sort()).toEqual(['a.txt', 'c.txt', 'metadata.json', 'notes.md', 'plots']);
      expect((await checkUpToDate(rerun, 'new')).upToDate).toBe(true);
      if (outcome === 'completed') break;
      failAt += 1;
    }
    // mkdir, 2 files, replaces.json, metadata.json, unlink, 2 renames, 1 unlink, rename, rmTree.
    expect(failAt).toBe(12);
  });

  it('removes what killed runs left: an incomplete publish of a dead process, and legacy sibling folders', async () => {
    const dir = join(root, 'out');
    const { files, metadata } = artifact('h', { 'a.txt': 'one' });
    await new LocalArtifactLocation(dir).publish(files, metadata);
    const deadPid = DEAD_PID;
    mkdirSync(join(dir, `.ddinit-publish-${deadPid}-1000`));
    writeFileSync(join(dir, `.ddinit-publish-${deadPid}-1000`, 'a.txt'), 'partial');
    mkdirSync(join(root, `.out.partial-${deadPid}-1000`));
    mkdirSync(join(root, `.out.previous-${deadPid}-1000`));
    const live = join(dir, `.ddinit-publish-${process.pid}-2000`);
    mkdirSync(live);
    await new LocalArtifactLocation(dir).prepare();
    expect(readdirSync(root)).toEqual(['out']);
    expect(readdirSync(dir).sort()).toEqual([`.ddinit-publish-${process.pid}-2000`, 'a.txt', 'metadata.json']);
  });

  it('detects a corrupted file and refuses names that could escape the directory', async () => {
    const location = new LocalArtifactLocation(join(root, 'out'));
    const { files, metadata } = artifact('h', { 'a.txt': 'one' });
    await location.publish(files, metadata);
    writeFileSync(join(root, 'out', 'a.txt'), 'oNe');
    await expect(location.readFile('a.txt')).rejects.toThrow(/a\.txt: artifact file is corrupt \(expected sha256 [0-9a-f]{64}, got sha256/);
    await expect(location.readFile('b.txt')).rejects.toThrow(/no such file in a complete artifact \(expected b\.txt, got \[a\.txt\]\)/);
    for (const name of ['../evil', '.hidden', 'metadata.json', 'ddinit-x']) {
      const bad = new Map([[name, enc('x')]]);
      await expect(location.publish(bad, describeArtifact(bad, info('h')))).rejects.toThrow(/plain names/);
    }
  });
});

describe('checkUpToDate', () => {
  it('redoes an artifact whose file was truncated or deleted, saying which', async () => {
    const dir = join(root, 'out');
    const location = new LocalArtifactLocation(dir);
    const { files, metadata } = artifact('h', { 'weights.bin': 'wwwwwwww', 'report.html': '<html>' });
    await location.publish(files, metadata);
    expect(await checkUpToDate(location, 'h')).toMatchObject({ upToDate: true });
    truncateSync(join(dir, 'weights.bin'), 3);
    expect(await checkUpToDate(location, 'h')).toEqual({ upToDate: false, reason: expect.stringMatching(/weights\.bin: artifact file is corrupt/) });
    await location.publish(files, metadata);
    unlinkSync(join(dir, 'report.html'));
    expect(await checkUpToDate(location, 'h')).toEqual({ upToDate: false, reason: expect.stringMatching(/report\.html: artifact file is missing/) });
    expect(await checkUpToDate(location, 'other')).toEqual({ upToDate: false, reason: 'made from another configuration' });
    expect(existsSync(join(dir, 'metadata.json'))).toBe(true);
  });
});

describe('hashConfig', () => {
  it('ignores key order and sees every value', () => {
    expect(hashConfig({ a: 1, b: { c: [1, 2] } })).toBe(hashConfig({ b: { c: [1, 2] }, a: 1 }));
    expect(hashConfig({ a: 1 })).not.toBe(hashConfig({ a: 2 }));
  });
});
