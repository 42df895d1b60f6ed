/**
 * What makes two runs on "the same data" the same: the dataset's content, not
 * its location. The manifest lists every shard with its size and sha256, so the
 * hash of the parsed manifest changes whenever a shard is re-converted in place
 * (another `--size`, `data convert … --overwrite`) and is blind to how the JSON
 * is laid out.
 */
import { DataError } from '@ddinit/core';
import { MANIFEST_NAME, openStore, parseManifest, type StoreOptions } from '@ddinit/data';
import { hashConfig } from '../store/artifact-store';

/**
 * sha256 (hex) of the canonical manifest at `location`.
 * @throws DataError naming the location when it holds no manifest.json.
 */
export async function datasetIdentity(location: string, options: StoreOptions = {}): Promise<string> {
  const store = openStore(location, options);
  if (!(await store.exists(MANIFEST_NAME))) {
    throw new DataError('no dataset at this location', {
      where: location,
      expected: `a dataset directory or prefix holding ${MANIFEST_NAME}`,
      actual: `no ${store.describe(MANIFEST_NAME)}`,
    });
  }
  const text = new TextDecoder().decode(await store.readAll(MANIFEST_NAME));
  return hashConfig(parseManifest(text, store.describe(MANIFEST_NAME)));
}
