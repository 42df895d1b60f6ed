/**
 * An artifact under a {@link BlobStore} root — an S3 prefix in practice. S3 has
 * no directory rename, so completeness rests on `metadata.json`: publishing
 * first deletes the old metadata (the old artifact stops counting as complete),
 * then writes every file as a complete object, then writes the new metadata
 * last. Readers trust only files listed in the metadata, with matching sha256.
 */
import { StorageError } from '@ddinit/core';
import type { BlobStore } from '@ddinit/data';
import { ArtifactMetadataSchema, METADATA_FILE, readVerifiedFile, type ArtifactFiles, type ArtifactLocation, type ArtifactMetadata } from './artifact-store';

export class BlobArtifactLocation implements ArtifactLocation {
  readonly url: string;

  constructor(private readonly store: BlobStore) {
    this.url = store.location;
  }

  async readMetadata(): Promise<ArtifactMetadata | null> {
    if (!(await this.store.exists(METADATA_FILE))) return null;
    const bytes = await this.store.readAll(METADATA_FILE);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
    const parsed = ArtifactMetadataSchema.safeParse(json);
    return parsed.success ? parsed.data : null;
  }

  async readFile(name: string): Promise<Uint8Array> {
    return readVerifiedFile(await this.readMetadata(), name, { artifact: this.url, file: this.store.describe(name) }, () => this.store.readAll(name));
  }

  async publish(files: ArtifactFiles, metadata: ArtifactMetadata): Promise<void> {
    for (const name of files.keys()) {
      if (name === METADATA_FILE || name.includes('/') || name.length === 0) {
        throw new StorageError('artifact file names must be plain names other than metadata.json', { where: this.url, actual: name });
      }
    }
    try {
      await this.store.delete(METADATA_FILE);
      for (const [name, bytes] of files) await this.store.write(name, [bytes]);
      await this.store.write(METADATA_FILE, [new TextEncoder().encode(`${JSON.stringify(metadata, null, 2)}\n`)]);
    } catch (error) {
      if (error instanceof StorageError) throw error;
      throw new StorageError('cannot publish artifact', { where: this.url, cause: error });
    }
  }
}
