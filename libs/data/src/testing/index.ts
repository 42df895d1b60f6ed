/**
 * Helpers for specs and benchmarks of @ddinit/data: temporary directories,
 * synthetic datasets, a real S3-protocol server (s3rver) and a fault-injecting proxy.
 */
export { withTempDir, makeTempDir } from './temp-dir';
export { syntheticExamples, writeSyntheticDataset } from './synthetic';
export type { SyntheticOptions } from './synthetic';
export { S3RVER_CREDENTIALS, startS3rver } from './s3rver';
export type { S3rverHandle } from './s3rver';
export { startFaultyProxy } from './faulty-proxy';
export type { FaultyProxy, ProxyFault } from './faulty-proxy';
export { palettePng } from './png';
