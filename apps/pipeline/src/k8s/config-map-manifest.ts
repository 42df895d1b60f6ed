/**
 * The ConfigMap that carries the pipeline config into the pods: one key,
 * `config.yaml`, mounted at /etc/ddinit/config.yaml, the file every Job's
 * `--config` points at. Sweep pods read the same file and pick their
 * configuration from its `kubernetes.sweep` section.
 */
import { ConfigError } from '@ddinit/core';
import { ConfigMap } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { CONFIG_FILE_NAME, type KubernetesOptions } from './kubernetes-options';
import { commonLabels, configMapName } from './object-names';

/** Kubernetes refuses ConfigMaps larger than 1 MiB. */
export const MAX_CONFIG_MAP_BYTES = 1024 * 1024;

/**
 * Serializes `pipelineConfig` as YAML into the ConfigMap `<name>-config`.
 * Throws ConfigError when the YAML exceeds the 1 MiB a ConfigMap may hold.
 *
 * @example
 * renderConfigMap({ model: 'caffenet-small' }, KubernetesOptions.parse({})).data?.['config.yaml']; // 'model: caffenet-small\n'
 */
export function renderConfigMap(pipelineConfig: Readonly<Record<string, unknown>>, options: KubernetesOptions): ConfigMap {
  const text = stringify(pipelineConfig, { lineWidth: 0 });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_MAP_BYTES) {
    throw new ConfigError('the pipeline config is too large for a ConfigMap', {
      where: CONFIG_FILE_NAME,
      expected: `at most ${MAX_CONFIG_MAP_BYTES} bytes of YAML`,
      actual: `${bytes} bytes`,
    });
  }
  return new ConfigMap({
    metadata: { name: configMapName(options), namespace: options.namespace, labels: commonLabels() },
    data: { [CONFIG_FILE_NAME]: text },
  });
}
