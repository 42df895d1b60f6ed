import { openStore, isS3Uri, type StoreOptions } from '@ddinit/data';
import type { ArtifactLocation } from './artifact-store';
import { BlobArtifactLocation } from './blob-artifact-location';
import { LocalArtifactLocation } from './local-artifact-location';
import { fileURLToPath } from 'node:url';

/**
 * The artifact location for `--out`: a local directory (published by an atomic
 * directory rename) or `s3://bucket/prefix` (published metadata-last).
 */
export function openArtifactLocation(url: string, options: StoreOptions = {}): ArtifactLocation {
  if (isS3Uri(url)) return new BlobArtifactLocation(openStore(url, options));
  return new LocalArtifactLocation(url.startsWith('file://') ? fileURLToPath(url) : url);
}
