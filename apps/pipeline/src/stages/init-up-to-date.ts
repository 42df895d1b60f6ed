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
import { MANIFEST_NAME, openStore, readManifest, type StoreOptions } from '@ddinit/data/storage';
import { resolveDataLocation, resultDefiningConfig, type PipelineConfig } from '../config/pipeline-config';
import { checkUpToDate } from '../store/artifact-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { stageConfigHash, upToDateOutcome } from './stage-hash';
import type { InitOutcome } from './init-stage';

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
  // The hash runStage computes for the init stage (its definingConfig is resultDefiningConfig; no inputs).
  const configHash = stageConfigHash(resultDefiningConfig(config), await readManifest(data));
  const location = openArtifactLocation(config.out, store);
  await location.prepare();
  const state = await checkUpToDate(location, configHash);
  return state.upToDate ? upToDateOutcome(location, configHash, options.logger) : null;
}
