/**
 * Running a stage of the contract (stage-contract.ts): the one place that binds
 * storage. In order, before any heavy work:
 *
 * 1. the stage's precheck (a wrong model is reported before any data is read);
 * 2. the dataset (manifest only: the split is checked, no shard is read);
 * 3. the input artifacts: each must hold a complete artifact of the declared stage,
 *    and, when found by configuration hash, exactly the upstream configuration's;
 * 4. the configuration hash: the stage's result-defining configuration, the
 *    dataset's content (its manifest), the input artifacts' hashes and the code
 *    version — never a location;
 * 5. the output: prepared (a killed publish finished or removed, foreign files
 *    refused), and skipped when it holds an intact artifact of the same hash
 *    (unless `force`).
 *
 * Then `run` gets everything opened, and its files are published atomically with
 * their metadata; a checkpointing stage's checkpoints go once the artifact is out.
 */
import { ConfigError, silentLogger, silentProgress, type Logger } from '@ddinit/core';
import type { StoreOptions } from '@ddinit/data';
import { CODE_VERSION } from './code-version';
import type { PipelineConfig } from '../config/pipeline-config';
import { checkUpToDate, describeArtifact } from '../store/artifact-store';
import { CheckpointStore } from '../store/checkpoint-store';
import { openArtifactLocation } from '../store/open-artifact-location';
import { openInitData, type InitData } from './init-sample';
import { stageConfigHash, upToDateOutcome } from './stage-hash';
import type { ArtifactInput, OpenedArtifact, StageConfigBase, StageContext, StageDefinition, StageName, StageOutcome } from './stage-contract';

/** The configuration hash of `config` for `definition`, given its opened dataset and input artifacts' hashes. */
function configHashOf(definition: StageDefinition, config: StageConfigBase, data: InitData, inputs: Record<string, string>): string {
  return stageConfigHash(definition.definingConfig(config), data.dataset.manifest, inputs);
}

/** The hash an upstream stage gives `config` (its inputs found the same way), without running it. */
async function expectedHashOf(
  definition: StageDefinition,
  config: StageConfigBase,
  pipeline: PipelineConfig | undefined,
  store: StoreOptions,
): Promise<string> {
  const data = await openInitData({ ...definition.dataset(config, store), store });
  const inputs = await openArtifacts(definition.artifacts(config, pipeline), pipeline, store, silentLogger);
  return configHashOf(definition, config, data, hashesOf(inputs));
}

const hashesOf = (artifacts: Record<string, OpenedArtifact>): Record<string, string> =>
  Object.fromEntries(Object.entries(artifacts).map(([name, a]) => [name, a.metadata.configHash]));

/**
 * Opens each input artifact and checks it is the one declared.
 * @throws ConfigError (exit 2) naming the key and location: no artifact there, one of another stage,
 *   or (found by configuration hash) one made from another configuration.
 */
async function openArtifacts(
  inputs: ArtifactInput[],
  pipeline: PipelineConfig | undefined,
  store: StoreOptions,
  logger: Logger,
): Promise<Record<string, OpenedArtifact>> {
  const opened: Record<string, OpenedArtifact> = {};
  for (const input of inputs) {
    const location = openArtifactLocation(input.location, { ...store, logger });
    const metadata = await location.readMetadata();
    const where = `${input.key} ${location.url}`;
    const accepted = (input.accepts ?? [input.stage]).join(' or ');
    if (metadata === null) {
      throw new ConfigError(`no ${accepted} artifact here (run \`ddinit ${input.stage}\` first, or name one with --from)`, {
        where,
        expected: `a directory or s3:// prefix holding a complete ${accepted} artifact (metadata.json)`,
        actual: 'no metadata.json',
      });
    }
    if (!(input.accepts ?? [input.stage]).includes(metadata.stage as StageName)) {
      throw new ConfigError(`this artifact was made by another stage`, {
        where,
        expected: `a ${accepted} artifact`,
        actual: `a ${metadata.stage} artifact`,
      });
    }
    if (input.expect.kind === 'config') {
      const expected = await expectedHashOf(input.expect.definition, input.expect.config, pipeline, store);
      if (metadata.configHash !== expected) {
        throw new ConfigError(`the ${input.stage} artifact here was made from another configuration than this config's ${input.stage} stage`, {
          where,
          expected: `configuration ${expected.slice(0, 12)} (run \`ddinit ${input.stage}\` with this config first, or name an artifact with --from)`,
          actual: `configuration ${metadata.configHash.slice(0, 12)}`,
        });
      }
    }
    opened[input.name] = { location, metadata };
  }
  return opened;
}

/**
 * Whether `config.out` holds the artifact `definition` would make from `config`, found
 * the way {@link runStage} finds it (steps 2–4 of the module doc) but changing nothing:
 * `ddinit compare --dry-run`.
 * @throws ConfigError when an input artifact is not there yet (its upstream stage has not run).
 */
export async function stageStatus<C extends StageConfigBase>(
  definition: StageDefinition<C, unknown>,
  config: C,
  store: StoreOptions,
  pipeline?: PipelineConfig,
): Promise<{ configHash: string; upToDate: boolean }> {
  const configHash = await expectedHashOf(definition as unknown as StageDefinition, config, pipeline, store);
  const state = await checkUpToDate(openArtifactLocation(config.out, { ...store, logger: silentLogger }), configHash);
  return { configHash, upToDate: state.upToDate };
}

/**
 * Runs `definition` on `config` (see the module doc for the order).
 * `pipeline`: the pipeline config the stage's upstream configurations come from (default: all defaults).
 * @throws ConfigError / DataError / ShapeError for bad configuration or input (the CLI exits 2),
 *   NumericalError or StorageError otherwise (exit 1).
 */
export async function runStage<C extends StageConfigBase, R>(
  definition: StageDefinition<C, R>,
  config: C,
  context: StageContext,
  pipeline?: PipelineConfig,
): Promise<StageOutcome<R>> {
  const logger = context.logger ?? silentLogger;
  const progress = context.progress ?? silentProgress;
  const storeOptions = context.store ?? {};
  const store = { ...storeOptions, logger };
  await definition.precheck?.(config, storeOptions);
  const data = await openInitData({ ...definition.dataset(config, storeOptions), store: storeOptions }, { logger, progress });
  const artifacts = await openArtifacts(definition.artifacts(config, pipeline), pipeline, storeOptions, logger);
  const configHash = configHashOf(definition as unknown as StageDefinition, config, data, hashesOf(artifacts));
  const out = openArtifactLocation(config.out, store);
  await out.prepare();
  if (!config.force) {
    const state = await checkUpToDate(out, configHash);
    if (state.upToDate) return upToDateOutcome(out, configHash, logger);
    if (state.reason !== 'no complete artifact') logger.info('redoing the stage', { out: out.url, reason: state.reason });
  }
  const checkpoints = new CheckpointStore(config.out, configHash, store);
  const result = await definition.run(config, { data, artifacts, out, checkpoints, configHash, store: storeOptions }, { ...context, logger, progress });
  if (result.interrupted) return { skipped: false, interrupted: true, location: out.url, configHash };
  await out.publish(
    result.files,
    describeArtifact(result.files, { stage: definition.name, configHash, seed: config.seed, codeVersion: CODE_VERSION, backend: context.backend }),
  );
  if (definition.checkpoints) await checkpoints.clear();
  logger.info('artifact published', { out: out.url, files: [...result.files.keys()] });
  return { skipped: false, interrupted: false, location: out.url, configHash, report: result.report };
}
