/**
 * The `kubernetes:` section of a pipeline config: everything needed to turn a
 * pipeline config into Kubernetes objects (image, namespace, stage, resources,
 * GPU scheduling, the S3 credentials Secret, retry and cleanup policies, sweep
 * axes). One zod schema, `.strict()` at every level, every field with an explicit
 * default, so `KubernetesOptions.parse({})` is a complete, usable setting.
 *
 * The defaults are the ones the kustomize tree under `k8s/` is written with; the
 * spec `kustomize.spec.ts` proves that `kubectl kustomize k8s/overlays/<overlay>`
 * and `renderManifests` agree.
 *
 * @example
 * const options = KubernetesOptions.parse({ image: 'registry.example.com/ddinit:0.2.3', gpu: { count: 2 } });
 * options.namespace; // 'ddinit'
 * options.sweep.axes; // { init: ['glorot-uniform', …, 'ddinit-patches+calibration'], seed: [0, 1, 2] }
 */
import { BACKEND_CHOICES } from '@ddinit/core/base';
import { z } from 'zod';
import { INITIALIZATIONS } from '../config/initializations';
import { REMOVED_KEYS } from '../config/removed-keys';
import { STAGE_NAMES, type StageName } from '../stages/stage-contract';

/**
 * The stages a Job can run, the one list `k8s render --stage`, `kubernetes.stage` and
 * `sweep-run --stage` offer: each is a `ddinit` command the pod executes, declared in
 * the stage registry (stages/stage-registry.ts).
 */
export const STAGES = STAGE_NAMES;
export type Stage = StageName;

/** Where a Job runs: on a GPU node with `nvidia.com/gpu`, or on any node. */
export const OVERLAYS = ['gpu', 'cpu'] as const;
export type Overlay = (typeof OVERLAYS)[number];

/** The ddinit `--backend` choices, declared in `@ddinit/core`. */
export { BACKEND_CHOICES };

/** Where the ConfigMap is mounted in the container and the file the container reads. */
export const CONFIG_MOUNT_PATH = '/etc/ddinit';
export const CONFIG_FILE_NAME = 'config.yaml';
export const CONFIG_PATH = `${CONFIG_MOUNT_PATH}/${CONFIG_FILE_NAME}`;

/** The container's name in every Job (pod failure policies refer to it). */
export const CONTAINER_NAME = 'ddinit';

/** The environment variables the S3 credentials Secret provides (AWS SDK standard names). */
export const S3_SECRET_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
export const S3_SECRET_OPTIONAL_KEYS = ['AWS_ENDPOINT_URL_S3', 'AWS_SESSION_TOKEN'] as const;

/** A DNS-1123 label, the form of Kubernetes object names and namespaces. */
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 label: lower-case letters, digits and "-", e.g. "ddinit"');

/** A Kubernetes resource quantity such as `4`, `500m`, `16Gi`. */
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, 'a Kubernetes quantity such as "4", "500m" or "16Gi"');

/** A label key or value for nodeSelector, kept loose (Kubernetes checks the details). */
const labelMap = z.record(z.string().min(1), z.string());

export const Toleration = z
  .object({
    key: z.string().min(1).optional(),
    operator: z.enum(['Exists', 'Equal']).default('Equal'),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().nonnegative().optional(),
  })
  .strict()
  .superRefine((toleration, ctx) => {
    // The API server's rules: no key means "every taint", which only Exists can say;
    // Exists matches any value, so a value with it is an error.
    if (toleration.key === undefined && toleration.operator !== 'Exists') {
      ctx.addIssue({ code: 'custom', path: ['operator'], message: 'a toleration without a key needs operator Exists' });
    }
    if (toleration.operator === 'Exists' && toleration.value !== undefined && toleration.value !== '') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'operator Exists takes no value' });
    }
  });
export type Toleration = z.infer<typeof Toleration>;

/** A config path such as `init`, `seed` or `pretrain.steps`: dot-separated identifiers. */
const CONFIG_PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const CONFIG_PATH_MESSAGE = 'a config path such as "init" or "pretrain.steps"';
const configPath = z.string().regex(CONFIG_PATH_PATTERN, CONFIG_PATH_MESSAGE);

/** A value a sweep axis may take; strings are restricted so run names stay unambiguous ("+" for `ddinit-kmeans+calibration`). */
const sweepValue = z.union([
  z.string().regex(/^[A-Za-z0-9._+-]+$/, 'letters, digits, ".", "_", "+" or "-" (no "," "=" "/" or spaces)'),
  z.number().finite(),
  z.boolean(),
]);
export type SweepValue = z.infer<typeof sweepValue>;

/** Default time limit of one run: 6 h (raise it for long training stages). */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 6 * 60 * 60;

/** The largest sweep rendered as one Indexed Job. */
export const MAX_SWEEP_SIZE = 10_000;

/** Every initialization of `INITIALIZATIONS` × three seeds. */
export const DEFAULT_SWEEP_AXES: Record<string, SweepValue[]> = {
  init: [...INITIALIZATIONS],
  seed: [0, 1, 2],
};

export const SweepOptions = z
  .object({
    /**
     * Config path → values. The sweep is the Cartesian product of the axes in the
     * order written; the first axis varies slowest (see `sweepAssignmentAt`).
     */
    axes: z
      .record(z.string(), z.array(sweepValue).min(1))
      .default(DEFAULT_SWEEP_AXES)
      .superRefine((axes, ctx) => {
        if (Object.keys(axes).length === 0) {
          ctx.addIssue({ code: 'custom', message: 'a sweep needs at least one axis, e.g. { init: [he-normal, ddinit-pca] }' });
        }
        for (const [axis, values] of Object.entries(axes)) {
          if ((REMOVED_KEYS as readonly string[]).includes(axis)) {
            ctx.addIssue({
              code: 'custom',
              path: [axis],
              message: `"${axis}" was replaced by "init": sweep over init names, e.g. { init: [ddinit-pca, ddinit-pca+calibration] }`,
            });
          } else if (!CONFIG_PATH_PATTERN.test(axis)) {
            ctx.addIssue({ code: 'custom', path: [axis], message: `${CONFIG_PATH_MESSAGE}, got "${axis}"` });
          }
          const seen = new Set(values.map((v) => `${typeof v}:${String(v)}`));
          if (seen.size !== values.length) {
            ctx.addIssue({ code: 'custom', path: [axis], message: `axis "${axis}" lists a value twice` });
          }
        }
      }),
    /** How many configurations run at once (pods of the Indexed Job). */
    parallelism: z.number().int().positive().default(2),
    /** Retries of one configuration before that index is marked failed; the other indexes go on. */
    backoffLimitPerIndex: z.number().int().nonnegative().default(1),
    /**
     * The config path of the run's output location (directory or `s3://…`); each
     * configuration writes below it, in `<out>/<run name>` (e.g. `…/init=ddinit-pca,seed=1`).
     */
    outKey: configPath.default('out'),
  })
  .strict();
export type SweepOptions = z.infer<typeof SweepOptions>;

export const GpuOptions = z
  .object({
    /** GPUs per pod, requested as `limits[resourceName]`. */
    count: z.number().int().positive().default(1),
    /** The extended resource the device plugin advertises. */
    resourceName: z.string().min(1).default('nvidia.com/gpu'),
    /** Set by NVIDIA GPU feature discovery; on GKE use `cloud.google.com/gke-accelerator`. */
    nodeSelector: labelMap.default({ 'nvidia.com/gpu.present': 'true' }),
    /** GPU node pools are usually tainted `nvidia.com/gpu:NoSchedule`. */
    tolerations: z.array(Toleration).default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]),
    /** `--backend` in GPU pods: an explicit backend, so a pod without a working GPU fails instead of running on CPU. */
    backend: z.enum(BACKEND_CHOICES).default('node-gpu'),
  })
  .strict();
export type GpuOptions = z.infer<typeof GpuOptions>;

export const CpuOptions = z
  .object({
    nodeSelector: labelMap.default({}),
    tolerations: z.array(Toleration).default([]),
    /** `--backend` in CPU pods; `auto` takes the image's tfjs-node-gpu on CPU, else wasm. */
    backend: z.enum(BACKEND_CHOICES).default('auto'),
  })
  .strict();
export type CpuOptions = z.infer<typeof CpuOptions>;

export const ResourceOptions = z
  .object({
    /** CPU request (no CPU limit: throttling a training process only slows it). */
    cpu: quantity.default('4'),
    /** Memory request and limit (equal, so the pod is not evicted first under pressure). */
    memory: quantity.default('16Gi'),
  })
  .strict();
export type ResourceOptions = z.infer<typeof ResourceOptions>;

export const KubernetesOptions = z
  .object({
    /** The container image built from the repository's Dockerfile. */
    image: z.string().min(1).default('registry.example.com/ddinit:0.2.3'),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
    /** Names of docker-registry Secrets for a private registry. */
    imagePullSecrets: z.array(dnsLabel).default([]),
    namespace: dnsLabel.default('ddinit'),
    /** Prefix of object names: `<name>-config`, `<name>-<stage>`, `<name>-<stage>-sweep`. */
    name: dnsLabel.default('ddinit'),
    /** The stage a Job runs (overridden by `ddinit k8s render --stage`). */
    stage: z.enum(STAGES).default('init'),
    /** GPU or CPU nodes (overridden by `--overlay`). */
    overlay: z.enum(OVERLAYS).default('gpu'),
    /** How the image starts the CLI. */
    command: z.array(z.string().min(1)).min(1).default(['node', '/app/apps/pipeline/bin/ddinit.js']),
    /** Secret with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and optionally AWS_ENDPOINT_URL_S3). */
    s3SecretName: dnsLabel.default('ddinit-s3'),
    /** ServiceAccount of the pods; null keeps the namespace default (its token is not mounted either way). */
    serviceAccountName: dnsLabel.nullable().default(null),
    /**
     * Pod retries of a (non-sweep) Job after a failure (exit 1) before it is marked failed;
     * null: the stage's own (init 2; pretrain 4, since each retry resumes from its checkpoint).
     */
    backoffLimit: z.number().int().nonnegative().nullable().default(null),
    /** Finished Jobs (and their pods and logs) are deleted this long after finishing. */
    ttlSecondsAfterFinished: z.number().int().nonnegative().default(86_400),
    /**
     * Wall-clock limit of one run, after which Kubernetes kills its pod and frees
     * the node (and GPU) even if the process hangs: a stage Job's
     * `spec.activeDeadlineSeconds` (its retries included); in a sweep, each pod's
     * `spec.activeDeadlineSeconds` (the sweep as a whole has no limit). null: none.
     */
    activeDeadlineSeconds: z.number().int().positive().nullable().default(DEFAULT_ACTIVE_DEADLINE_SECONDS),
    /** The non-root user and group the container runs as (the image's `ddinit` user). */
    runAsUser: z.number().int().positive().default(1000),
    runAsGroup: z.number().int().positive().default(1000),
    resources: ResourceOptions.prefault({}),
    gpu: GpuOptions.prefault({}),
    cpu: CpuOptions.prefault({}),
    sweep: SweepOptions.prefault({}),
  })
  .strict();
export type KubernetesOptions = z.infer<typeof KubernetesOptions>;

/** The `kubernetes:` section inside a pipeline config; other sections pass through untouched. */
const PipelineKubernetesSection = z.looseObject({ kubernetes: KubernetesOptions.prefault({}) });

/**
 * Parses the `kubernetes:` section of a pipeline config (absent → all defaults).
 * Throws ZodError whose paths start at `kubernetes`, e.g. `kubernetes.gpu.count`.
 */
export function kubernetesOptionsOf(pipelineConfig: Readonly<Record<string, unknown>>): KubernetesOptions {
  return PipelineKubernetesSection.parse(pipelineConfig).kubernetes;
}
/** What a user may write: every field optional. */
export type KubernetesOptionsInput = z.input<typeof KubernetesOptions>;
