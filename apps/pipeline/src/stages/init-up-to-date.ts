/**
 * Whether the init stage has anything to do, decided from the configuration and
 * the dataset's manifest alone. The artifact's config hash covers the
 * result-defining configuration, the code version and the dataset's content (its
 * manifest), not its location; none of that needs an image, a model or tfjs. This
 * module imports nothing that loads tfjs, Arrow or (for local data and output) the
 * AWS SDK, so `ddinit init` on an up-to-date artifact finishes before any of them
 * loads (docs/RESULTS.md, "Start-up").
 */
import type { Logger } from '@ddinit/core/base';
import { MANIFEST_NAME, openStore, readManifest, type DatasetManifest, type StoreOptions } from '@ddinit/data/storage';
import { CODE_VERSION } from './code-version';
import { resolveDataLocation, resultDefiningConfig, type PipelineConfig } from '../config/pipeline-config';
import { checkUpToDate, hashConfig, type ArtifactLocation } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { datasetIdentity } from './dataset-identity';
import type { InitOutcome } from './init-stage';

export { CODE_VERSION };

/** The config hash of an init artifact: result-defining configuration + dataset content + code version. */
export function initConfigHash(config: PipelineConfig, manifest: DatasetManifest): string {
  return hashConfig({ ...resultDefiningConfig(config), dataset: datasetIdentity(manifest), codeVersion: CODE_VERSION });
}

/** The outcome of a run that found an artifact of `configHash` at `location`, logged. */
export function upToDateOutcome(location: ArtifactLocation, configHash: string, logger: Logger): InitOutcome {
  logger.info('up to date: an artifact of the same configuration exists (use --force to redo it)', { out: location.url, configHash });
  return { skipped: true, interrupted: false, location: location.url, configHash };
}

/**
 * The skipped outcome when `config.out` holds an intact artifact of this
 * configuration, else null (`config.force`, no dataset at `config.data`, no or
 * another artifact): the stage then runs and reports any problem itself. The
 * output location is prepared first, as the stage would (what a killed publish
 * left is finished or removed; a location holding foreign files is refused).
 * @throws DataError for an invalid manifest; StorageError / ConfigError from the output location.
 */
export async function findUpToDateInit(config: PipelineConfig, options: { store?: StoreOptions; logger: Logger }): Promise<InitOutcome | null> {
  if (config.force) return null;
  const store = { ...options.store, logger: options.logger };
  const data = openStore(resolveDataLocation(config.data), store);
  if (!(await data.exists(MANIFEST_NAME))) return null;
  const configHash = initConfigHash(config, await readManifest(data));
  const location = openArtifactLocation(config.out, store);
  await location.prepare();
  const state = await checkUpToDate(location, configHash);
  return state.upToDate ? upToDateOutcome(location, configHash, options.logger) : null;
}
