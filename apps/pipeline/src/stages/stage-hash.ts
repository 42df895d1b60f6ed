/**
 * A stage artifact's identity: the configuration hash that decides "up to date", and the
 * outcome of a run that found one. One formula for `runStage` and for init's check before
 * tfjs loads (init-up-to-date.ts); nothing here loads tfjs, Arrow or the AWS SDK.
 */
import type { Logger } from '@ddinit/core/base';
import type { DatasetManifest } from '@ddinit/data/storage';
import { hashConfig, type ArtifactLocation } from '../store/artifact-store';
import { CODE_VERSION } from './code-version';
import { datasetIdentity } from './dataset-identity';
import type { StageOutcome } from './stage-contract';

/**
 * The hash of the result-defining configuration, the dataset's content (its manifest) and
 * the code version, plus the input artifacts' hashes when there are any (init has none, so
 * artifacts made before stages had inputs stay up to date).
 */
export function stageConfigHash(defining: Record<string, unknown>, manifest: DatasetManifest, inputs: Record<string, string> = {}): string {
  const upstream = Object.keys(inputs).length === 0 ? {} : { inputs };
  return hashConfig({ ...defining, dataset: datasetIdentity(manifest), codeVersion: CODE_VERSION, ...upstream });
}

/** The outcome of a run that found an artifact of `configHash` at `location`, logged. */
export function upToDateOutcome<R>(location: ArtifactLocation, configHash: string, logger: Logger): StageOutcome<R> {
  logger.info('up to date: an artifact of the same configuration exists (use --force to redo it)', { out: location.url, configHash });
  return { skipped: true, interrupted: false, location: location.url, configHash };
}
