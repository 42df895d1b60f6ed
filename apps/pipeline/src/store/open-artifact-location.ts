import { fileURLToPath } from 'node:url';
import { openStore, isS3Uri, type StoreOptions } from '@ddinit/data/storage';
import type { ArtifactLocation } from './artifact-store';
import { BlobArtifactLocation } from './blob-artifact-location';
import { LocalArtifactLocation } from './local-artifact-location';

/**
 * The artifact location for `--out`: a local directory (files beside
 * metadata.json, published through a journal folder) or `s3://bucket/prefix`
 * (files under a folder per publish, metadata.json as the pointer written last).
 * `options.logger` gets the store's retries and the recovery of killed publishes.
 */
export function openArtifactLocation(url: string, options: StoreOptions = {}): ArtifactLocation {
  const logger = options.logger === undefined ? {} : { logger: options.logger };
  if (isS3Uri(url)) return new BlobArtifactLocation(openStore(url, options), logger);
  return new LocalArtifactLocation(url.startsWith('file://') ? fileURLToPath(url) : url, logger);
}
