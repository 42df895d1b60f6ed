import type { IJob } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import { renderStageJob, renderSweepJob } from './job-manifest';
import { listJobViolations } from './job-invariants';
import { KubernetesOptions, STAGES } from './kubernetes-options';

const options = KubernetesOptions.parse({});

/** A deep copy of a rendered Job as a plain object, with handles on the parts the tests break on purpose. */
function breakable(job: { toJSON(): unknown }) {
  const copy = structuredClone(job.toJSON()) as IJob;
  const spec = copy.spec;
  const pod = spec?.template.spec;
  const container = pod?.containers[0];
  const rule = spec?.podFailurePolicy?.rules[0];
  if (!spec || !pod || !container || !rule?.onExitCodes) throw new Error('rendered Job lacks a part the test needs');
  return { job: copy, spec, pod, container, exitCodes: rule.onExitCodes };
}

describe('listJobViolations', () => {
  it('finds nothing wrong with the Jobs ddinit renders', () => {
    for (const overlay of ['gpu', 'cpu'] as const) {
      for (const stage of STAGES) {
        expect(listJobViolations(renderStageJob(options, overlay, stage))).toEqual([]);
        expect(listJobViolations(renderSweepJob(options, overlay, stage))).toEqual([]);
      }
    }
  });

  it('flags a pod failure policy with restarts, or naming a missing container', () => {
    const { job, pod, exitCodes } = breakable(renderStageJob(options, 'gpu', 'init'));
    pod.restartPolicy = 'OnFailure';
    exitCodes.containerName = 'main';
    expect(listJobViolations(job)).toEqual([
      'Job ddinit-init: podFailurePolicy needs template.spec.restartPolicy Never, got OnFailure',
      'Job ddinit-init: podFailurePolicy names container main, which the pod does not have',
    ]);
  });

  it('flags per-index settings on a Job that is not Indexed, and parallelism past completions', () => {
    const { job, spec } = breakable(renderSweepJob(options, 'gpu', 'init'));
    spec.completionMode = 'NonIndexed';
    spec.parallelism = 60;
    expect(listJobViolations(job)).toEqual([
      'Job ddinit-init-sweep: spec.backoffLimitPerIndex needs completionMode Indexed',
      'Job ddinit-init-sweep: spec.parallelism 60 exceeds spec.completions 51',
    ]);
    const noLimit = breakable(renderSweepJob(options, 'gpu', 'init'));
    delete noLimit.spec.backoffLimitPerIndex;
    delete noLimit.spec.completions;
    expect(listJobViolations(noLimit.job)).toEqual([
      'Job ddinit-init-sweep: podFailurePolicy action FailIndex needs spec.backoffLimitPerIndex',
      'Job ddinit-init-sweep: an Indexed Job needs spec.completions',
    ]);
  });

  it('flags root, privilege escalation, kept capabilities and a writable root filesystem', () => {
    const { job, pod, container } = breakable(renderStageJob(options, 'cpu', 'init'));
    pod.securityContext = { runAsUser: 0 };
    container.securityContext = {};
    expect(listJobViolations(job)).toEqual([
      'Job ddinit-init: securityContext.runAsNonRoot is not true',
      'Job ddinit-init: securityContext.runAsUser must be a non-zero uid, got 0',
      'Job ddinit-init container ddinit: allowPrivilegeEscalation is not false',
      'Job ddinit-init container ddinit: readOnlyRootFilesystem is not true',
      'Job ddinit-init container ddinit: capabilities.drop lacks ALL',
    ]);
  });

  it('flags GPUs requested without a limit or with a different limit', () => {
    const { job, container } = breakable(renderStageJob(options, 'gpu', 'init'));
    const limits = { ...container.resources?.limits };
    container.resources = { requests: { ...container.resources?.requests, 'nvidia.com/gpu': 2 }, limits };
    expect(listJobViolations(job)).toEqual(['Job ddinit-init container ddinit: nvidia.com/gpu request 2 differs from limit 1']);
    delete limits['nvidia.com/gpu'];
    expect(listJobViolations(job)).toEqual(['Job ddinit-init container ddinit: extended resource nvidia.com/gpu must be set in limits']);
  });
});
