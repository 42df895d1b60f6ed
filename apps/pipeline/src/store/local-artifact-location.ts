/**
 * An artifact in a local directory. Publishing writes every file into a hidden
 * sibling directory (`.<name>.partial-<pid>-<time>`), fsyncs, writes
 * `metadata.json` last, then renames the directory into place; an existing
 * artifact is moved aside first and removed only after the new one is in place.
 */
import { mkdir, open, readFile, rename, rm, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StorageError } from '@ddinit/core';
import { ArtifactMetadataSchema, METADATA_FILE, readVerifiedFile, type ArtifactFiles, type ArtifactLocation, type ArtifactMetadata } from './artifact-store';

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function checkFileName(name: string, where: string): void {
  if (name === METADATA_FILE || name.includes('/') || name.includes('\\') || name.startsWith('.') || name.length === 0) {
    throw new StorageError('artifact file names must be plain names other than metadata.json', { where, actual: name });
  }
}

export class LocalArtifactLocation implements ArtifactLocation {
  readonly dir: string;
  readonly url: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.url = `file://${this.dir}`;
  }

  async readMetadata(): Promise<ArtifactMetadata | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir, METADATA_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StorageError('cannot read artifact metadata', { where: join(this.dir, METADATA_FILE), cause: error });
    }
    const parsed = ArtifactMetadataSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  }

  async readFile(name: string): Promise<Uint8Array> {
    return readVerifiedFile(await this.readMetadata(), name, { artifact: this.url, file: join(this.dir, name) }, async () => new Uint8Array(await readFile(join(this.dir, name))));
  }

  async publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void> {
    for (const name of files.keys()) checkFileName(name, this.url);
    const parent = dirname(this.dir);
    const stamp = `${process.pid}-${Date.now()}`;
    const partial = join(parent, `.${basename(this.dir)}.partial-${stamp}`);
    const previous = join(parent, `.${basename(this.dir)}.previous-${stamp}`);
    try {
      await mkdir(partial, { recursive: true });
      for (const [name, bytes] of files) await writeDurably(join(partial, name), bytes);
      await writeDurably(join(partial, METADATA_FILE), new TextEncoder().encode(`${JSON.stringify(metadata, null, 2)}\n`));
      let movedAside = false;
      try {
        await rename(this.dir, previous);
        movedAside = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await rename(partial, this.dir);
      if (movedAside) await rm(previous, { recursive: true, force: true });
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw new StorageError('cannot publish artifact', { where: this.url, cause: error });
    }
  }

  /** Removes partial directories left behind by runs that were killed (older than `maxAgeMs`). */
  async removeStalePartials(maxAgeMs = 0): Promise<string[]> {
    const parent = dirname(this.dir);
    const prefix = `.${basename(this.dir)}.partial-`;
    let names: string[];
    try {
      names = await readdir(parent);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names.filter((n) => n.startsWith(prefix))) {
      const time = Number(name.slice(prefix.length).split('-')[1]);
      if (Number.isFinite(time) && Date.now() - time >= maxAgeMs) {
        await rm(join(parent, name), { recursive: true, force: true });
        removed.push(join(parent, name));
      }
    }
    return removed;
  }
}
