/**
 * From a pipeline config to Kubernetes objects and multi-document YAML: the
 * ConfigMap with the config, optionally the S3 credentials Secret, and the Job
 * of a stage or the Indexed Job of a sweep. This is what `ddinit k8s render`
 * prints and what `kubectl kustomize k8s/overlays/<overlay>` renders for the
 * config in `k8s/base/config.yaml`.
 */
import { ConfigError } from '@ddinit/core';
import type { Job } from 'kubernetes-models/batch/v1';
import type { ConfigMap, Secret } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { renderConfigMap } from './config-map-manifest';
import { renderStageJob, renderSweepJob } from './job-manifest';
import type { KubernetesOptions, Overlay, Stage } from './kubernetes-options';
import { renderS3Secret } from './s3-secret-manifest';

/** Every object kind ddinit renders, as typed `kubernetes-models` instances. */
export type RenderedObject = ConfigMap | Secret | Job;

/** Choices made at render time; each falls back to the `kubernetes:` section of the config. */
export interface RenderChoices {
  overlay?: Overlay;
  stage?: Stage;
  /** Render the sweep's Indexed Job instead of the stage's Job. */
  sweep?: boolean;
  /** When given, also render the S3 credentials Secret from these variables (see `renderS3Secret`). */
  secretEnv?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the objects for one stage (or sweep) of `pipelineConfig` and validates
 * each against the Kubernetes schema. Order: ConfigMap, Secret (if asked for), Job.
 *
 * Throws ConfigError for an impossible setting (oversized sweep or config, a
 * missing credential, an object the Kubernetes schema rejects).
 *
 * @example
 * const config = readPipelineDocument('k8s/base/config.yaml');
 * const objects = renderManifests(config, kubernetesOptionsOf(config), { overlay: 'cpu' }); // kubernetes-options.ts
 * process.stdout.write(manifestsToYaml(objects));
 */
export function renderManifests(pipelineConfig: Readonly<Record<string, unknown>>, options: KubernetesOptions, choices: RenderChoices = {}): RenderedObject[] {
  const overlay = choices.overlay ?? options.overlay;
  const stage = choices.stage ?? options.stage;
  const objects: RenderedObject[] = [renderConfigMap(pipelineConfig, options)];
  if (choices.secretEnv !== undefined) objects.push(renderS3Secret(options, choices.secretEnv));
  objects.push(choices.sweep ? renderSweepJob(options, overlay, stage) : renderStageJob(options, overlay, stage));
  return validated(objects);
}

/** `objects` after each passed its Kubernetes schema; ConfigError (exit 2) naming the first that does not. */
export function validated(objects: RenderedObject[]): RenderedObject[] {
  for (const object of objects) {
    try {
      object.validate();
    } catch (error) {
      throw new ConfigError('a rendered object does not match the Kubernetes schema', {
        where: `${object.kind} ${object.metadata?.name ?? '(unnamed)'}`,
        expected: 'an object the Kubernetes API accepts',
        actual: (error as Error).message,
        cause: error,
      });
    }
  }
  return objects;
}

/** Multi-document YAML (`---` between objects), ready for `kubectl apply -f -`. */
export function manifestsToYaml(objects: readonly RenderedObject[]): string {
  return objects.map((object) => stringify(object.toJSON(), { lineWidth: 0 })).join('---\n');
}
