/**
 * An artifact in a local directory, published without touching anything ddinit
 * did not write.
 *
 * The protocol of a publish into `dir`:
 * 1. Recover: finish a complete journal a killed publish left (step 4), remove
 *    incomplete ones whose process is gone.
 * 2. Check ownership: `dir` is new, empty, or holds a ddinit artifact (a valid
 *    `metadata.json`). Anything else is refused (ConfigError, exit 2) — so is a
 *    new file name that would overwrite a file the old artifact does not list.
 * 3. Stage: write every file, `replaces.json` (the old artifact's files) and
 *    `metadata.json` LAST into `dir/.ddinit-publish-<pid>-<ms>/`, each fsynced.
 *    A staging folder with a valid metadata.json is a complete journal.
 * 4. Roll forward: remove the old `metadata.json` (the old artifact stops
 *    counting), rename each new file into `dir`, remove the old files the new
 *    artifact does not reuse, rename the new `metadata.json` into place, remove
 *    the staging folder. Every step is idempotent, so a run killed anywhere in
 *    step 4 is finished by the next run's step 1.
 *
 * A reader sees the old artifact until step 4 starts and the new one when it
 * ends; in between it sees none (no metadata.json), never a mix. Files in `dir`
 * that no metadata lists — a user's notes, subfolders — are never touched.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, StorageError, silentLogger, type Logger } from '@ddinit/core/base';
import {
  METADATA_FILE,
  checkArtifactFileName,
  decodeMetadata,
  encodeMetadata,
  listForMessage,
  readVerifiedFile,
  type ArtifactFiles,
  type ArtifactLocation,
  type ArtifactMetadata,
} from './artifact-store';

/** Hidden entries of `--out` that are ddinit's own: publish journals, training checkpoints (checkpoint-store.ts). */
const OWN_HIDDEN_PREFIX = '.ddinit-';
const STAGING_PREFIX = '.ddinit-publish-';
const REPLACES_FILE = 'replaces.json';

/** The file operations a publish makes, one seam for fault-injection specs. */
export interface LocalFileOps {
  mkdir(path: string): Promise<unknown>;
  writeDurably(path: string, bytes: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmTree(path: string): Promise<void>;
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await fsp.open(path, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const nodeFileOps: LocalFileOps = {
  mkdir: (path) => fsp.mkdir(path, { recursive: true }),
  writeDurably,
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  rmTree: (path) => fsp.rm(path, { recursive: true, force: true }),
};

const isCode = (error: unknown, code: string): boolean => (error as NodeJS.ErrnoException | undefined)?.code === code;

async function ignoreMissing(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if (!isCode(error, 'ENOENT')) throw error;
  }
}

/** Whether a process id from a staging folder's name still runs on this machine. */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

async function listDir(dir: string): Promise<string[] | null> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch (error) {
    if (isCode(error, 'ENOENT')) return null;
    if (isCode(error, 'ENOTDIR')) {
      throw new ConfigError('the output location is not a directory (it, or a folder above it, is a file)', {
        where: dir,
        expected: 'a directory: new, empty, or a ddinit artifact',
      });
    }
    throw new StorageError('cannot list the output directory', { where: dir, cause: error });
  }
}

export interface LocalArtifactOptions {
  logger?: Logger;
  /** File operations (specs inject faults here). */
  ops?: LocalFileOps;
  /** The process id written into staging names (specs play a killed process). */
  pid?: number;
}

export class LocalArtifactLocation implements ArtifactLocation {
  readonly dir: string;
  readonly url: string;
  private readonly logger: Logger;
  private readonly ops: LocalFileOps;
  private readonly pid: number;

  constructor(dir: string, options: LocalArtifactOptions = {}) {
    this.dir = resolve(dir);
    this.url = `file://${this.dir}`;
    this.logger = options.logger ?? silentLogger;
    this.ops = options.ops ?? nodeFileOps;
    this.pid = options.pid ?? process.pid;
  }

  async readMetadata(): Promise<ArtifactMetadata | null> {
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(join(this.dir, METADATA_FILE));
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return null;
      throw new StorageError('cannot read artifact metadata', { where: join(this.dir, METADATA_FILE), cause: error });
    }
    return decodeMetadata(bytes);
  }

  async readFile(name: string, known?: ArtifactMetadata): Promise<Uint8Array> {
    const metadata = known ?? (await this.readMetadata());
    const path = join(this.dir, metadata?.filesDir ?? '', name);
    return readVerifiedFile(metadata, name, { artifact: this.url, file: path }, async () => {
      try {
        return new Uint8Array(await fsp.readFile(path));
      } catch (cause) {
        throw new StorageError(isCode(cause, 'ENOENT') ? 'artifact file is missing' : 'cannot read artifact file', { where: path, cause });
      }
    });
  }

  async prepare(): Promise<void> {
    await this.recover();
    await this.ownedFiles([]);
    await this.checkWritable();
  }

  async publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void> {
    for (const name of files.keys()) checkArtifactFileName(name, this.url);
    await this.recover();
    const replaces = await this.ownedFiles([...files.keys()]);
    const staging = join(this.dir, `${STAGING_PREFIX}${this.pid}-${Date.now()}`);
    try {
      await this.ops.mkdir(staging);
      for (const [name, bytes] of files) await this.ops.writeDurably(join(staging, name), bytes);
      await this.ops.writeDurably(join(staging, REPLACES_FILE), new TextEncoder().encode(JSON.stringify(replaces)));
      const { filesDir: _filesDir, ...beside } = metadata;
      await this.ops.writeDurably(join(staging, METADATA_FILE), encodeMetadata(beside));
    } catch (error) {
      await this.ops.rmTree(staging).catch(() => undefined);
      throw new StorageError('cannot publish artifact', { where: this.url, cause: error });
    }
    try {
      await this.rollForward(staging);
    } catch (error) {
      throw new StorageError('cannot publish artifact (the next run finishes it)', { where: this.url, cause: error });
    }
  }

  /**
   * The files (relative paths) of the artifact in `dir`, which a publish may
   * replace. Throws ConfigError when `dir` holds anything else that a publish of
   * `newNames` would have to overwrite, or holds no artifact but is not empty.
   */
  private async ownedFiles(newNames: string[]): Promise<string[]> {
    const entries = await listDir(this.dir);
    if (entries === null) return [];
    const metadata = await this.readMetadata();
    const visible = entries.filter((e) => !e.startsWith(OWN_HIDDEN_PREFIX));
    if (metadata === null) {
      if (visible.length === 0) return [];
      throw new ConfigError('the output directory holds files ddinit did not write; refusing to publish there', {
        where: this.dir,
        expected: 'a new or empty directory, or a ddinit artifact (a directory with its metadata.json)',
        actual: `${visible.length} ${visible.length === 1 ? 'entry' : 'entries'}: ${listForMessage(visible)}`,
      });
    }
    const owned = metadata.files.map((f) => (metadata.filesDir ? `${metadata.filesDir}/${f.name}` : f.name));
    const clashes = newNames.filter((name) => visible.includes(name) && !owned.includes(name));
    if (clashes.length > 0) {
      throw new ConfigError('publishing would overwrite files the artifact there does not list (not written by ddinit)', {
        where: this.dir,
        expected: 'no file of these names besides the artifact',
        actual: listForMessage(clashes),
      });
    }
    return owned;
  }

  /** Steps of the protocol's roll-forward; each is idempotent. */
  private async rollForward(staging: string): Promise<void> {
    const metadata = decodeMetadata(await fsp.readFile(join(staging, METADATA_FILE)));
    if (metadata === null) throw new StorageError('the publish journal has no valid metadata.json', { where: staging });
    const replaces = JSON.parse(await fsp.readFile(join(staging, REPLACES_FILE), 'utf8')) as string[];
    await ignoreMissing(this.ops.unlink(join(this.dir, METADATA_FILE)));
    for (const { name } of metadata.files) await ignoreMissing(this.ops.rename(join(staging, name), join(this.dir, name)));
    const kept = new Set(metadata.files.map((f) => f.name));
    for (const old of replaces.filter((name) => !kept.has(name))) await ignoreMissing(this.ops.unlink(join(this.dir, old)));
    for (const folder of new Set(replaces.filter((n) => n.includes('/')).map((n) => n.split('/')[0]))) {
      await fsp.rmdir(join(this.dir, folder)).catch(() => undefined);
    }
    await this.ops.rename(join(staging, METADATA_FILE), join(this.dir, METADATA_FILE));
    await this.ops.rmTree(staging);
    await syncDir(this.dir);
  }

  /** Finishes complete journals, removes incomplete ones of dead runs and legacy leftovers. */
  async recover(): Promise<void> {
    for (const name of (await listDir(this.dir)) ?? []) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      const staging = join(this.dir, name);
      const pid = Number(name.slice(STAGING_PREFIX.length).split('-')[0]);
      const complete = decodeMetadata(await fsp.readFile(join(staging, METADATA_FILE)).catch(() => new Uint8Array())) !== null;
      if (complete) {
        this.logger.info('finishing a publish a killed run left', { staging });
        await this.rollForward(staging);
      } else if (!processAlive(pid)) {
        this.logger.info('removing the partial publish of a killed run', { staging });
        await this.ops.rmTree(staging);
      }
    }
    await this.removeLegacyLeftovers();
  }

  /** Sibling `.name.partial-*` / `.name.previous-*` folders of ddinit ≤ 0.1 publishes. */
  private async removeLegacyLeftovers(): Promise<void> {
    const parent = dirname(this.dir);
    const base = basename(this.dir);
    let names: string[];
    try {
      names = await fsp.readdir(parent);
    } catch {
      return;
    }
    const complete = (await this.readMetadata()) !== null;
    for (const name of names) {
      const partial = name.startsWith(`.${base}.partial-`);
      const previous = name.startsWith(`.${base}.previous-`);
      if (!partial && !previous) continue;
      const pid = Number(name.split('-').at(-2));
      if (processAlive(pid) || (previous && !complete)) continue;
      this.logger.info('removing the leftover of a killed run', { path: join(parent, name) });
      await this.ops.rmTree(join(parent, name));
    }
  }

  /** A new directory can be made and an existing one written to. */
  private async checkWritable(): Promise<void> {
    let probe = this.dir;
    for (;;) {
      try {
        const stats = await fsp.stat(probe);
        if (!stats.isDirectory()) {
          throw new ConfigError('the output location is inside a file, not a directory', { where: this.dir, actual: `${probe} is a file` });
        }
        break;
      } catch (error) {
        if (!isCode(error, 'ENOENT') || dirname(probe) === probe) throw error;
        probe = dirname(probe);
      }
    }
    try {
      await fsp.access(probe, constants.W_OK);
    } catch (cause) {
      throw new ConfigError('the output location cannot be written', { where: this.dir, expected: `write permission on ${probe}`, cause });
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the renames are still ordered.
  } finally {
    await handle.close();
  }
}
