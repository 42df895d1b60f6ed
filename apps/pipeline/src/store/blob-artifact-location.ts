/**
 * An artifact under a {@link BlobStore} root — an S3 prefix in practice — that a
 * reader following `metadata.json` sees whole at every instant.
 *
 * S3 has no rename, but a PUT of one object is atomic. So `metadata.json` is a
 * pointer: it lists the files and names the folder `ddinit-<time>-<random>/`
 * that holds them. A publish:
 * 1. Lists the prefix: anything but `metadata.json`, the files it lists and
 *    `ddinit-*` folders is not ddinit's, and the publish is refused (ConfigError,
 *    exit 2) before any write.
 * 2. Writes every file under a new `ddinit-<id>/` folder no reader looks at yet.
 * 3. PUTs `metadata.json` naming that folder — the one instant the artifact
 *    changes from the previous one to the new one.
 * 4. Deletes the previous artifact's files and every `ddinit-*` folder no
 *    metadata names (what killed publishes left). A failure here only logs:
 *    the new artifact is already published.
 * A fault or kill before step 3 leaves the previous artifact as it was, plus
 * an orphan folder that the next publish removes; after step 3, the new one.
 * Two runs publishing to one prefix at the same time are not supported (the
 * second's step 4 would remove the first's folder before its pointer moves).
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, StorageError, silentLogger, type Logger } from '@ddinit/core/base';
import type { BlobStore } from '@ddinit/data/storage';
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

const FOLDER_PREFIX = 'ddinit-';

/** Object keys (relative to the location) of the files `metadata` lists. */
function listedKeys(metadata: ArtifactMetadata | null): string[] {
  if (metadata === null) return [];
  return metadata.files.map((f) => (metadata.filesDir ? `${metadata.filesDir}/${f.name}` : f.name));
}

/** A folder name that sorts by time and does not collide between runs. */
function newFolderName(): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').toLowerCase();
  return `${FOLDER_PREFIX}${stamp}-${randomBytes(4).toString('hex')}`;
}

export class BlobArtifactLocation implements ArtifactLocation {
  readonly url: string;
  private readonly logger: Logger;

  constructor(
    private readonly store: BlobStore,
    options: { logger?: Logger } = {},
  ) {
    this.url = store.location;
    this.logger = options.logger ?? silentLogger;
  }

  async readMetadata(): Promise<ArtifactMetadata | null> {
    if (!(await this.store.exists(METADATA_FILE))) return null;
    return decodeMetadata(await this.store.readAll(METADATA_FILE));
  }

  async readFile(name: string, known?: ArtifactMetadata): Promise<Uint8Array> {
    const metadata = known ?? (await this.readMetadata());
    const key = metadata?.filesDir ? `${metadata.filesDir}/${name}` : name;
    return readVerifiedFile(metadata, name, { artifact: this.url, file: this.store.describe(key) }, () => this.store.readAll(key));
  }

  async prepare(): Promise<void> {
    try {
      await this.ownership();
      // A PUT and a DELETE of a probe inside a ddinit- folder: fails now, not after the work, on a
      // read-only credential; a killed probe is removed like any orphan folder.
      const probe = `${newFolderName()}/.write-check`;
      await this.store.write(probe, [new Uint8Array(0)]);
      await this.store.delete(probe);
    } catch (error) {
      if (error instanceof StorageError && (error.cause as { name?: string } | undefined)?.name === 'NoSuchBucket') {
        throw new ConfigError('the output bucket does not exist', { where: this.url, expected: 'an existing bucket', cause: error });
      }
      throw error;
    }
  }

  async publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void> {
    for (const name of files.keys()) checkArtifactFileName(name, this.url);
    const previous = await this.ownership();
    const folder = newFolderName();
    try {
      for (const [name, bytes] of files) await this.store.write(`${folder}/${name}`, [bytes]);
      await this.store.write(METADATA_FILE, [encodeMetadata({ ...metadata, filesDir: folder })]);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError('cannot publish artifact', { where: this.url, cause: error });
    }
    await this.removeUnreferenced(previous.keys, folder);
  }

  /**
   * The previous artifact's metadata and all keys under the location, after
   * checking that every key is ddinit's.
   * @throws ConfigError naming the keys that are not.
   */
  private async ownership(): Promise<{ metadata: ArtifactMetadata | null; keys: string[] }> {
    const keys = await this.store.list();
    const metadata = await this.readMetadata();
    const listed = new Set(listedKeys(metadata));
    const foreign = keys.filter((k) => !(k === METADATA_FILE && metadata !== null) && !listed.has(k) && !k.startsWith(FOLDER_PREFIX));
    if (foreign.length > 0) {
      throw new ConfigError('the output prefix holds objects ddinit did not write; refusing to publish there', {
        where: this.url,
        expected: 'a new or empty prefix, or a ddinit artifact (a prefix with its metadata.json)',
        actual: `${foreign.length} ${foreign.length === 1 ? 'object' : 'objects'}: ${listForMessage(foreign)}`,
      });
    }
    return { metadata, keys };
  }

  /** Step 4: every key that was ddinit's before this publish and is not in `folder`. */
  private async removeUnreferenced(keys: string[], folder: string): Promise<void> {
    const stale = keys.filter((k) => k !== METADATA_FILE && !k.startsWith(`${folder}/`));
    try {
      for (const key of stale) await this.store.delete(key);
    } catch (error) {
      this.logger.warn('the new artifact is published, but removing the previous one failed; the next publish retries', {
        out: this.url,
        left: listForMessage(stale),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
