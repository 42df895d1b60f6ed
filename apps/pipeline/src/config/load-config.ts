/**
 * Resolving the pipeline configuration: defaults < file < environment < flags.
 * Each layer is a partial object; the merged object is parsed once by
 * {@link PipelineConfigSchema}, whose errors (zod) the CLI pretty-prints with exit 2.
 */
import { ConfigError } from '@ddinit/core/base';
import { readPipelineDocument } from '../k8s/pipeline-document';
import { explainUnknownKeys } from './key-suggestions';
import { PipelineConfigSchema, type PipelineConfig, type PipelineConfigInput } from './pipeline-config';
import { REMOVED_ENVIRONMENT, rejectRemovedKeys } from './removed-keys';

type Scalar = 'string' | 'int' | 'boolean';

/** Environment variables that override the file, and the type of each. */
export const ENVIRONMENT_KEYS: Record<string, { key: keyof PipelineConfigInput; type: Scalar }> = {
  DDINIT_DATA: { key: 'data', type: 'string' },
  DDINIT_SPLIT: { key: 'split', type: 'string' },
  DDINIT_SAMPLE: { key: 'sample', type: 'int' },
  DDINIT_MODEL: { key: 'model', type: 'string' },
  DDINIT_INIT: { key: 'init', type: 'string' },
  DDINIT_SEED: { key: 'seed', type: 'int' },
  DDINIT_BACKEND: { key: 'backend', type: 'string' },
  DDINIT_OUT: { key: 'out', type: 'string' },
  DDINIT_FORCE: { key: 'force', type: 'boolean' },
};

function parseScalar(name: string, value: string, type: Scalar): string | number | boolean {
  if (type === 'string') return value;
  if (type === 'int') {
    if (!/^-?\d+$/.test(value.trim()))
      throw new ConfigError('not an integer', { where: `environment variable ${name}`, expected: 'an integer', actual: value });
    return Number(value);
  }
  const lower = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(lower)) return false;
  throw new ConfigError('not a boolean', { where: `environment variable ${name}`, expected: 'true/false/1/0/yes/no', actual: value });
}

/** The overrides the environment makes (only the DDINIT_* variables that are set). */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Partial<PipelineConfigInput> {
  const out: Record<string, unknown> = {};
  for (const [name, { key, type }] of Object.entries(ENVIRONMENT_KEYS)) {
    const value = env[name];
    if (value !== undefined) out[key] = parseScalar(name, value, type);
  }
  // Kept as given so the migration message (config/removed-keys.ts) can name the equivalent `init`.
  for (const [name, key] of Object.entries(REMOVED_ENVIRONMENT)) if (env[name] !== undefined) out[key] = env[name];
  return out as Partial<PipelineConfigInput>;
}

export interface ConfigSources {
  /** Path of a YAML or JSON config file. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values given on the command line (undefined = not given). */
  flags?: Partial<PipelineConfigInput>;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Where a top-level key of the merged config came from, for error messages: the last source that set it. */
function sourceNamer(sources: ConfigSources, environment: Partial<PipelineConfigInput>, flags: Partial<PipelineConfigInput>) {
  return (key: string): string => {
    if (key in flags) return 'the command-line flags';
    if (key in environment) {
      const variable = [...Object.entries(ENVIRONMENT_KEYS).map(([name, spec]) => [name, spec.key]), ...Object.entries(REMOVED_ENVIRONMENT)].find(
        ([, k]) => k === key,
      )?.[0];
      return `the environment variable ${variable}`;
    }
    return sources.file !== undefined ? `config file ${sources.file}` : 'the config';
  };
}

/**
 * Merges the sources (shallowly: a key given later replaces the whole value)
 * and parses the result.
 * @throws ConfigError for an unreadable file, a bad environment value or a removed
 *   key (`within`, `calibrate`: the message names the equivalent `init`);
 *   ZodError for a value the schema rejects (path and expectation in the message;
 *   a misspelt key names its source and the closest known key).
 */
export function loadPipelineConfig(sources: ConfigSources = {}): PipelineConfig {
  const file = sources.file ? readPipelineDocument(sources.file) : {};
  const environment = configFromEnvironment(sources.env ?? process.env);
  const flags = defined(sources.flags ?? {});
  const merged = { ...file, ...environment, ...flags };
  rejectRemovedKeys(merged, sourceNamer(sources, environment, flags));
  const parsed = PipelineConfigSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  throw explainUnknownKeys(parsed.error, PipelineConfigSchema, sourceNamer(sources, environment, flags));
}
