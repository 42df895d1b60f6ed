/**
 * `@ddinit/data/storage`: where datasets live and what they hold, without Arrow,
 * tfjs or the AWS SDK — stores (the SDK loads on an S3 store's first request),
 * locations, the embedded sample's path and the manifest. Enough to identify a
 * dataset by its manifest before paying for the readers (docs/RESULTS.md, "Start-up").
 * The same modules back `@ddinit/data`.
 */
export type { BlobStore, RangeHandle } from './blob-store';
export { LocalStore } from './local-store';
export { isS3Uri, openStore } from './open-store';
export type { StoreOptions } from './open-store';
export { parseS3Uri } from './s3-uri';
export { MANIFEST_NAME, parseManifest, readManifest } from '../format/manifest';
export type { DatasetManifest, ShardEntry, SplitEntry } from '../format/manifest';
export type { DatasetFeatures } from '../format/features';
export { defaultDatasetPath } from '../embedded/default-dataset-path';
