/**
 * The Jobs that run pipeline stages: one Job per stage, and one Indexed Job per
 * sweep (completion index → one configuration, see `sweep.ts`). Built with the
 * typed classes of `kubernetes-models`, so a misspelt field fails typecheck and
 * `.validate()` checks the result against the Kubernetes OpenAPI schema.
 *
 * Both kinds of Job share one pod template:
 * - the container runs `<command> <stage> --config /etc/ddinit/config.yaml --backend <b>`
 *   (sweeps: `<command> sweep-run --stage <stage> --config … --backend <b>`);
 * - the pipeline config comes from the ConfigMap `<name>-config`, mounted read-only
 *   at /etc/ddinit; S3 credentials come from the Secret `<s3SecretName>` as
 *   environment variables (AWS_ACCESS_KEY_ID, …);
 * - non-root (runAsNonRoot, the image's uid 1000), no privilege escalation, all
 *   capabilities dropped, read-only root filesystem with an emptyDir at /tmp
 *   (tsx's compile cache and HOME live there), no service-account token;
 * - a time limit (`activeDeadlineSeconds`, 6 h by default): a process that hangs
 *   cannot hold its node and GPU for ever;
 * - `restartPolicy: Never` and a pod failure policy: exit code 2 (bad config or
 *   data) or 3 (a divergence; see `exit-status.ts`) fails the Job (sweeps: that index)
 *   at once, since a retry cannot help; pods killed by a disruption (preemption,
 *   eviction, node drain) are retried without counting against the backoff limit;
 * - the gpu overlay adds `limits[nvidia.com/gpu]`, its nodeSelector and tolerations.
 */
import { Job } from 'kubernetes-models/batch/v1';
import type { IJobSpec, IPodFailurePolicy } from 'kubernetes-models/batch/v1';
import type { IContainer, IPodSecurityContext, IPodTemplateSpec, IToleration } from 'kubernetes-models/v1';
import { EXIT_CODES_NOT_RETRIED } from '../exit-status';
import { stageDefinition } from '../stages/stage-registry';
import { CONFIG_MOUNT_PATH, CONFIG_PATH, CONTAINER_NAME, type KubernetesOptions, type Overlay, type Stage } from './kubernetes-options';
import { configMapName, jobName, stageLabels } from './object-names';
import { sweepSize } from './sweep';

/** The CLI subcommand an Indexed Job's pods run (the sweep runner). */
export const SWEEP_RUN_COMMAND = 'sweep-run';

/** The tolerations of the overlay's nodes (also the study Workflow's templates, workflow-manifest.ts). */
export function tolerationsFor(options: KubernetesOptions, overlay: Overlay): IToleration[] {
  const tolerations = overlay === 'gpu' ? options.gpu.tolerations : options.cpu.tolerations;
  // Copy field by field so the object has exactly the fields that were set.
  return tolerations.map((t) => ({
    ...(t.key === undefined ? {} : { key: t.key }),
    operator: t.operator,
    ...(t.value === undefined ? {} : { value: t.value }),
    ...(t.effect === undefined ? {} : { effect: t.effect }),
    ...(t.tolerationSeconds === undefined ? {} : { tolerationSeconds: t.tolerationSeconds }),
  }));
}

/** The ddinit container running `<command> <args> --config … --backend <b>` (also in the study Workflow's templates). */
export function containerFor(options: KubernetesOptions, overlay: Overlay, args: string[]): IContainer {
  const backend = overlay === 'gpu' ? options.gpu.backend : options.cpu.backend;
  const limits: Record<string, string | number> = { memory: options.resources.memory };
  if (overlay === 'gpu') limits[options.gpu.resourceName] = options.gpu.count;
  return {
    name: CONTAINER_NAME,
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    command: [...options.command],
    args: [...args, '--config', CONFIG_PATH, '--backend', backend],
    env: [{ name: 'HOME', value: '/tmp' }],
    envFrom: [{ secretRef: { name: options.s3SecretName } }],
    resources: {
      requests: { cpu: options.resources.cpu, memory: options.resources.memory },
      limits,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_MOUNT_PATH, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/** The pod template shared by stage Jobs and sweep Jobs; `podDeadlineSeconds` limits each pod's run (sweeps). */
export function renderPodTemplate(
  options: KubernetesOptions,
  overlay: Overlay,
  stage: Stage,
  args: string[],
  podDeadlineSeconds: number | null = null,
): IPodTemplateSpec {
  const nodeSelector = overlay === 'gpu' ? options.gpu.nodeSelector : options.cpu.nodeSelector;
  const tolerations = tolerationsFor(options, overlay);
  return {
    metadata: { labels: stageLabels(stage) },
    spec: {
      restartPolicy: 'Never',
      // SIGTERM to SIGKILL: a training stage writes a checkpoint in between (the stage declares how long it needs).
      terminationGracePeriodSeconds: stageDefinition(stage).job.terminationGracePeriodSeconds,
      ...(podDeadlineSeconds === null ? {} : { activeDeadlineSeconds: podDeadlineSeconds }),
      automountServiceAccountToken: false,
      ...(options.serviceAccountName === null ? {} : { serviceAccountName: options.serviceAccountName }),
      ...(options.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }),
      securityContext: podSecurityContext(options),
      ...(Object.keys(nodeSelector).length === 0 ? {} : { nodeSelector: { ...nodeSelector } }),
      ...(tolerations.length === 0 ? {} : { tolerations }),
      containers: [containerFor(options, overlay, args)],
      volumes: [
        { name: 'config', configMap: { name: configMapName(options) } },
        { name: 'tmp', emptyDir: {} },
      ],
    },
  };
}

/**
 * Exit codes 2 and 3 (a retry cannot help) end the Job, or the index, at once; disruptions
 * are retried without counting as failures. Also the study sweep's (study-sweep.ts).
 */
export function podFailurePolicy(onDeterministicFailure: 'FailJob' | 'FailIndex'): IPodFailurePolicy {
  return {
    rules: [
      {
        action: onDeterministicFailure,
        onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: [...EXIT_CODES_NOT_RETRIED] },
      },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ],
  };
}

/**
 * The Job that runs one stage once: `ddinit <stage> --config /etc/ddinit/config.yaml`,
 * within `activeDeadlineSeconds` (retries included).
 *
 * @example
 * renderStageJob(KubernetesOptions.parse({}), 'gpu', 'init').metadata?.name; // 'ddinit-init'
 */
export function renderStageJob(options: KubernetesOptions, overlay: Overlay, stage: Stage): Job {
  return new Job({
    metadata: { name: jobName(options, stage, false), namespace: options.namespace, labels: stageLabels(stage) },
    spec: {
      backoffLimit: options.backoffLimit ?? stageDefinition(stage).job.backoffLimit,
      podFailurePolicy: podFailurePolicy('FailJob'),
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      ...(options.activeDeadlineSeconds === null ? {} : { activeDeadlineSeconds: options.activeDeadlineSeconds }),
      template: renderPodTemplate(options, overlay, stage, [stage]),
    },
  });
}

/**
 * The Indexed Job of a sweep: `completions` is the number of configurations
 * (product of `kubernetes.sweep.axes` lengths), each pod runs
 * `ddinit sweep-run --stage <stage> --config …`, which reads `JOB_COMPLETION_INDEX`
 * and runs that configuration (`selectSweepRun`). A failing configuration is
 * retried `backoffLimitPerIndex` times and then marked failed while the others go on;
 * each pod runs at most `activeDeadlineSeconds`.
 *
 * Throws ConfigError for an empty or oversized sweep.
 */
export function renderSweepJob(options: KubernetesOptions, overlay: Overlay, stage: Stage): Job {
  return new Job({
    metadata: { name: jobName(options, stage, true), namespace: options.namespace, labels: stageLabels(stage) },
    // Per pod: a sweep's length grows with its size, one run's does not.
    spec: indexedJobSpec(
      options,
      sweepSize(options.sweep.axes),
      renderPodTemplate(options, overlay, stage, [SWEEP_RUN_COMMAND, '--stage', stage], options.activeDeadlineSeconds),
    ),
  });
}

/**
 * The spec of an Indexed Job of `completions` pods (a sweep's configurations, a study's cell
 * groups): `kubernetes.sweep.parallelism` at once, `backoffLimitPerIndex` retries per index,
 * exit 2 or 3 failing its index at once.
 */
export function indexedJobSpec(options: KubernetesOptions, completions: number, template: IPodTemplateSpec): IJobSpec {
  return {
    completionMode: 'Indexed',
    completions,
    parallelism: Math.min(options.sweep.parallelism, completions),
    backoffLimitPerIndex: options.sweep.backoffLimitPerIndex,
    podFailurePolicy: podFailurePolicy('FailIndex'),
    ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
    template,
  };
}

/** Every ddinit pod's security context: a non-root user and group (also owning mounted volumes), the runtime's seccomp profile. */
export function podSecurityContext(options: Pick<KubernetesOptions, 'runAsUser' | 'runAsGroup'>): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: options.runAsUser,
    runAsGroup: options.runAsGroup,
    fsGroup: options.runAsGroup,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
