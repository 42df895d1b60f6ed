/**
 * What makes two runs on "the same data" the same: the dataset's content, not
 * its location. The manifest lists every shard with its size and sha256, so the
 * hash of the parsed manifest changes whenever a shard is re-converted in place
 * (another `--size`, `data convert … --overwrite`) and is blind to where the
 * dataset lives and how its JSON is laid out.
 */
import type { DatasetManifest } from '@ddinit/data/storage';
import { hashConfig } from '../store/artifact-store';

/** sha256 (hex) of the canonical manifest. */
export function datasetIdentity(manifest: DatasetManifest): string {
  return hashConfig(manifest);
}
