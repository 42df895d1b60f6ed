/**
 * Reading multi-document Kubernetes YAML (what `kubectl kustomize` or
 * `ddinit k8s render` print) back into typed `kubernetes-models` objects, each
 * validated against the Kubernetes OpenAPI schema.
 */
import { ConfigError } from '@ddinit/core';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import type { RenderedObject } from './render-manifests';

/** The kinds ddinit's manifests consist of, keyed `apiVersion/kind`. */
const MODELS = {
  'v1/ConfigMap': (data: object) => new ConfigMap(data),
  'v1/Secret': (data: object) => new Secret(data),
  'batch/v1/Job': (data: object) => new Job(data),
} as const;

function isModelKey(key: string): key is keyof typeof MODELS {
  return key in MODELS;
}

/**
 * Parses every YAML document of `text` and validates it as a ConfigMap, Secret
 * or Job. Throws ConfigError naming the document (by position and name) that does
 * not parse, is of another kind, or fails validation.
 */
export function parseManifests(text: string): RenderedObject[] {
  const objects: RenderedObject[] = [];
  parseAllDocuments(text).forEach((document, position) => {
    const where = `document ${position + 1}`;
    if (document.errors.length > 0) {
      throw new ConfigError('a manifest does not parse as YAML', {
        where,
        expected: 'YAML',
        actual: document.errors[0].message,
      });
    }
    const value: unknown = document.toJSON();
    if (value === null) return; // an empty document, e.g. after a trailing `---`
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new ConfigError('a manifest is not a Kubernetes object', { where, expected: 'a mapping', actual: typeof value });
    }
    const { apiVersion, kind, metadata } = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
    const key = `${String(apiVersion)}/${String(kind)}`;
    if (!isModelKey(key)) {
      throw new ConfigError('a manifest is of a kind ddinit does not render', {
        where,
        expected: Object.keys(MODELS).join(', '),
        actual: key,
      });
    }
    const object = MODELS[key](value);
    try {
      object.validate();
    } catch (error) {
      throw new ConfigError('a manifest does not match the Kubernetes schema', {
        where: `${where} (${String(kind)} ${String(metadata?.name)})`,
        expected: 'an object the Kubernetes API accepts',
        actual: (error as Error).message,
        cause: error,
      });
    }
    objects.push(object);
  });
  return objects;
}
