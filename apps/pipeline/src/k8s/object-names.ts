/**
 * Names and labels of the objects ddinit renders. The kustomize tree under `k8s/`
 * uses the same names (`ddinit-config`, `ddinit-init`, `ddinit-init-sweep`,
 * `ddinit-s3`) so both paths produce the same objects.
 */
import { ConfigError } from '@ddinit/core';
import type { KubernetesOptions, Stage } from './kubernetes-options';

/** Kubernetes limits label values, and so Job names (the `job-name` label), to 63 characters. */
export const MAX_JOB_NAME_LENGTH = 63;

/** Name of the ConfigMap holding the pipeline config. */
export function configMapName(options: Pick<KubernetesOptions, 'name'>): string {
  return `${options.name}-config`;
}

/**
 * Name of a stage's Job (`ddinit-init`) or sweep Job (`ddinit-init-sweep`).
 * Throws ConfigError when `kubernetes.name` makes it longer than 63 characters.
 */
export function jobName(options: Pick<KubernetesOptions, 'name'>, stage: Stage, sweep: boolean): string {
  const name = `${options.name}-${stage}${sweep ? '-sweep' : ''}`;
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw new ConfigError('the Job name is longer than Kubernetes allows', {
      where: 'kubernetes.name',
      expected: `a name that keeps the Job name "${name}" within ${MAX_JOB_NAME_LENGTH} characters`,
      actual: `${name.length} characters`,
    });
  }
  return name;
}

/** Labels on every object ddinit renders. */
export function commonLabels(): Record<string, string> {
  return { 'app.kubernetes.io/name': 'ddinit' };
}

/** Labels of a stage's Job and its pods: the common ones plus the stage as `component`. */
export function stageLabels(stage: Stage): Record<string, string> {
  return { ...commonLabels(), 'app.kubernetes.io/component': stage };
}
