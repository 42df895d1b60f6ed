/**
 * Reading a pipeline config file (YAML or JSON) as a plain object, before any
 * schema sees it: `ddinit k8s render` only needs its `kubernetes:` section and
 * passes the whole document on to the ConfigMap unchanged.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '@ddinit/core/base';

/**
 * The YAML parser, loaded when a YAML file is read: importing `yaml` costs about
 * 0.07 s of CPU that `ddinit init` without a config file would pay at every start
 * (docs/RESULTS.md, "Start-up"). `yaml` is CommonJS on Node, so `require` loads it
 * synchronously, as this function's callers need.
 */
const loadYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml');

/**
 * Reads `path` and parses it as JSON (`.json`) or YAML (anything else; YAML is a
 * superset of JSON). Throws ConfigError naming the file when it cannot be read,
 * does not parse, or is not a mapping at the top level.
 */
export function readPipelineDocument(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('cannot read the config file', {
      where: path,
      expected: 'a readable YAML or JSON file',
      actual: (error as NodeJS.ErrnoException).code ?? String(error),
      cause: error,
    });
  }
  let document: unknown;
  const yaml = path.toLowerCase().endsWith('.json') ? undefined : loadYaml();
  try {
    document = yaml ? yaml.parse(text, { prettyErrors: true }) : JSON.parse(text);
  } catch (error) {
    const detail = (yaml && error instanceof yaml.YAMLParseError) || error instanceof SyntaxError ? error.message : String(error);
    throw new ConfigError('the config file does not parse', {
      where: path,
      expected: path.toLowerCase().endsWith('.json') ? 'JSON' : 'YAML',
      actual: detail,
      cause: error,
    });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError('the config file must hold a mapping of settings', {
      where: path,
      expected: 'a mapping such as "model: caffenet-small"',
      actual: document === null ? 'an empty document' : Array.isArray(document) ? 'a list' : typeof document,
    });
  }
  return document as Record<string, unknown>;
}
