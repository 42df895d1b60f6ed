/**
 * Reads files beside a path that may be an artifact's: `s3://b/runs/a/model.json`
 * names the artifact at `s3://b/runs/a` as a user sees it, though on S3 its files
 * live in the folder metadata.json points to. When the folder holds a ddinit
 * artifact listing the file, reads go through the artifact (following the
 * pointer, checking sha256); otherwise they read the plain files.
 */
import { openStore, type StoreOptions } from '@ddinit/data';
import { openArtifactLocation } from './open-artifact-location';

/** A reader of the files named relative to `root` (an artifact location or a plain folder). */
export async function artifactFileReader(root: string, file: string, options: StoreOptions = {}): Promise<ArtifactFileReader> {
  const artifact = openArtifactLocation(root, options);
  const metadata = await artifact.readMetadata();
  if (metadata?.files.some((f) => f.name === file)) {
    const listed = new Set(metadata.files.map((f) => f.name));
    return { read: (name) => artifact.readFile(name, metadata), describe: (name) => `${artifact.url}/${name}`, exists: async (name) => listed.has(name) };
  }
  const store = openStore(root, options);
  return { read: (name) => store.readAll(name), describe: (name) => store.describe(name), exists: (name) => store.exists(name) };
}

export interface ArtifactFileReader {
  read(name: string): Promise<Uint8Array>;
  /** The file's location, for messages. */
  describe(name: string): string;
  exists(name: string): Promise<boolean>;
}
