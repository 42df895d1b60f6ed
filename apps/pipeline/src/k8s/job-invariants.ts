/**
 * Rules the Kubernetes API server enforces on Jobs beyond the OpenAPI schema
 * (which `.validate()` checks), plus ddinit's own security baseline. Used by the
 * specs on both the kustomize output and the objects rendered in code, so a
 * manifest that the schema accepts but a cluster would refuse, or that runs as
 * root, fails a test instead of a user's `kubectl apply`.
 */
import type { IJob } from 'kubernetes-models/batch/v1';

/** Extended resources (GPUs) may not be overcommitted: requests, if given, equal limits. */
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('kubernetes.io/');
}

/**
 * Lists every violated rule of `job` as a sentence naming the field; empty when
 * the Job is fine.
 *
 * Rules: a pod failure policy needs `restartPolicy: Never` and names an existing
 * container; `FailIndex` and `backoffLimitPerIndex` need an Indexed Job; an
 * Indexed Job has `completions`; `parallelism ≤ completions`; extended resources
 * are set in limits (and requests equal them); pods run as non-root (non-zero
 * uid), without privilege escalation, with all capabilities dropped and a
 * read-only root filesystem.
 */
export function listJobViolations(job: IJob): string[] {
  const violations: string[] = [];
  const name = job.metadata?.name ?? '(unnamed)';
  const spec = job.spec;
  const pod = spec?.template.spec;
  if (spec === undefined || pod === undefined) return [`Job ${name}: no spec.template.spec`];
  const containers = pod.containers;
  const indexed = spec.completionMode === 'Indexed';

  if (spec.podFailurePolicy !== undefined) {
    if (pod.restartPolicy !== 'Never') {
      violations.push(`Job ${name}: podFailurePolicy needs template.spec.restartPolicy Never, got ${pod.restartPolicy}`);
    }
    for (const rule of spec.podFailurePolicy.rules) {
      const container = rule.onExitCodes?.containerName;
      if (container !== undefined && !containers.some((c) => c.name === container)) {
        violations.push(`Job ${name}: podFailurePolicy names container ${container}, which the pod does not have`);
      }
      if (rule.action === 'FailIndex' && spec.backoffLimitPerIndex === undefined) {
        violations.push(`Job ${name}: podFailurePolicy action FailIndex needs spec.backoffLimitPerIndex`);
      }
    }
  }
  if (spec.backoffLimitPerIndex !== undefined && !indexed) {
    violations.push(`Job ${name}: spec.backoffLimitPerIndex needs completionMode Indexed`);
  }
  if (indexed && spec.completions === undefined) {
    violations.push(`Job ${name}: an Indexed Job needs spec.completions`);
  }
  if (spec.completions !== undefined && spec.parallelism !== undefined && spec.parallelism > spec.completions) {
    violations.push(`Job ${name}: spec.parallelism ${spec.parallelism} exceeds spec.completions ${spec.completions}`);
  }

  const podSecurity = pod.securityContext;
  if (podSecurity?.runAsNonRoot !== true) violations.push(`Job ${name}: securityContext.runAsNonRoot is not true`);
  if (podSecurity?.runAsUser === undefined || podSecurity.runAsUser === 0) {
    violations.push(`Job ${name}: securityContext.runAsUser must be a non-zero uid, got ${podSecurity?.runAsUser}`);
  }
  for (const container of containers) {
    const where = `Job ${name} container ${container.name}`;
    const security = container.securityContext;
    if (security?.allowPrivilegeEscalation !== false) violations.push(`${where}: allowPrivilegeEscalation is not false`);
    if (security?.readOnlyRootFilesystem !== true) violations.push(`${where}: readOnlyRootFilesystem is not true`);
    if (!(security?.capabilities?.drop ?? []).includes('ALL')) violations.push(`${where}: capabilities.drop lacks ALL`);
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const resource of new Set([...Object.keys(requests), ...Object.keys(limits)])) {
      if (!isExtendedResource(resource)) continue;
      if (!(resource in limits)) violations.push(`${where}: extended resource ${resource} must be set in limits`);
      else if (resource in requests && String(requests[resource]) !== String(limits[resource])) {
        violations.push(`${where}: ${resource} request ${requests[resource]} differs from limit ${limits[resource]}`);
      }
    }
  }
  return violations;
}
