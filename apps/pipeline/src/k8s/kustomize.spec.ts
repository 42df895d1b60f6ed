/**
 * The kustomize tree under k8s/ rendered with the real `kubectl kustomize`
 * (offline), every object validated against the Kubernetes schema, and compared
 * with what `renderManifests` builds in code from the same config: the two paths
 * must produce the same objects. Needs kubectl; without it these specs fail (they
 * never skip), saying so.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret } from 'kubernetes-models/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listJobViolations } from './job-invariants';
import { kustomizeBuild } from './kustomize-build';
import { parseManifests } from './parse-manifests';
import { readPipelineDocument } from './pipeline-document';
import { kubernetesOptionsOf } from './kubernetes-options';
import { renderManifests, type RenderedObject } from './render-manifests';
import { renderS3Secret } from './s3-secret-manifest';
import { sweepSize } from './sweep';

const repoRoot = resolve(import.meta.dirname, '../../../..');
const k8sDir = join(repoRoot, 'k8s');
const baseConfig = readPipelineDocument(join(k8sDir, 'base/config.yaml'));
const options = kubernetesOptionsOf(baseConfig);

const OVERLAYS = [
  { dir: 'gpu', overlay: 'gpu', stage: 'init', sweep: false },
  { dir: 'cpu', overlay: 'cpu', stage: 'init', sweep: false },
  { dir: 'gpu-sweep', overlay: 'gpu', stage: 'init', sweep: true },
  { dir: 'cpu-sweep', overlay: 'cpu', stage: 'init', sweep: true },
  { dir: 'gpu-pretrain', overlay: 'gpu', stage: 'pretrain', sweep: false },
  { dir: 'cpu-pretrain', overlay: 'cpu', stage: 'pretrain', sweep: false },
  { dir: 'gpu-finetune', overlay: 'gpu', stage: 'finetune', sweep: false },
  { dir: 'cpu-finetune', overlay: 'cpu', stage: 'finetune', sweep: false },
  { dir: 'gpu-evaluate', overlay: 'gpu', stage: 'evaluate', sweep: false },
  { dir: 'cpu-evaluate', overlay: 'cpu', stage: 'evaluate', sweep: false },
] as const;

function render(dir: string): RenderedObject[] {
  const { yaml, warnings } = kustomizeBuild(join(k8sDir, dir));
  // No deprecated kustomize fields: they print warnings, and later versions drop them.
  expect(warnings, `kustomize warnings for ${dir}`).toBe('');
  return parseManifests(yaml);
}

function one<T>(objects: RenderedObject[], type: abstract new (...args: never[]) => T): T {
  const found = objects.filter((o): o is RenderedObject & T => o instanceof type);
  expect(found).toHaveLength(1);
  return found[0];
}

/** What a user would check first: what runs, as whom, and what happens on failure. */
function essentials(job: Job) {
  const pod = job.spec?.template.spec;
  const container = pod?.containers[0];
  return {
    name: job.metadata?.name,
    namespace: job.metadata?.namespace,
    image: container?.image,
    command: container?.command,
    args: container?.args,
    podSecurityContext: pod?.securityContext,
    securityContext: container?.securityContext,
    podFailurePolicy: job.spec?.podFailurePolicy,
    backoffLimit: job.spec?.backoffLimit,
    terminationGracePeriodSeconds: pod?.terminationGracePeriodSeconds,
    backoffLimitPerIndex: job.spec?.backoffLimitPerIndex,
    ttlSecondsAfterFinished: job.spec?.ttlSecondsAfterFinished,
    activeDeadlineSeconds: job.spec?.activeDeadlineSeconds,
    podActiveDeadlineSeconds: pod?.activeDeadlineSeconds,
    completionMode: job.spec?.completionMode,
    completions: job.spec?.completions,
    parallelism: job.spec?.parallelism,
    resources: container?.resources,
    envFrom: container?.envFrom,
  };
}

function hasGpu(job: Job): boolean {
  const pod = job.spec?.template.spec;
  const limits = pod?.containers.flatMap((c) => Object.keys(c.resources?.limits ?? {})) ?? [];
  return limits.includes('nvidia.com/gpu') || (pod?.tolerations ?? []).length > 0 || pod?.nodeSelector !== undefined;
}

describe.each(OVERLAYS)('kubectl kustomize k8s/overlays/$dir', ({ dir, overlay, stage, sweep }) => {
  const objects = render(`overlays/${dir}`);
  const job = one(objects, Job);
  const configMap = one(objects, ConfigMap);

  it('renders a valid ConfigMap and Job (schema and API-server rules)', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Job']);
    expect(listJobViolations(job)).toEqual([]);
    expect(parse(configMap.data?.['config.yaml'] ?? '')).toEqual(baseConfig);
  });

  it(overlay === 'gpu' ? 'asks for a GPU, with the GPU node selector and toleration' : 'asks for no GPU', () => {
    const pod = job.spec?.template.spec;
    if (overlay === 'gpu') {
      expect(pod?.containers[0].resources?.limits?.['nvidia.com/gpu']).toBe(1);
      expect(pod?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
      expect(pod?.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
      expect(pod?.containers[0].args?.slice(-2)).toEqual(['--backend', 'node-gpu']);
    } else {
      expect(hasGpu(job)).toBe(false);
      expect(pod?.containers[0].args?.slice(-2)).toEqual(['--backend', 'auto']);
    }
  });

  it(sweep ? 'is an Indexed Job with one completion per configuration of the config' : `is a single-run Job of the ${stage} stage`, () => {
    if (sweep) {
      expect(job.spec?.completionMode).toBe('Indexed');
      expect(job.spec?.completions).toBe(sweepSize(options.sweep.axes));
      expect(job.spec?.template.spec?.containers[0].args?.slice(0, 3)).toEqual(['sweep-run', '--stage', stage]);
    } else {
      expect(job.spec?.completionMode).toBeUndefined();
      expect(job.metadata?.name).toBe(`ddinit-${stage}`);
      expect(job.spec?.template.spec?.containers[0].args?.slice(0, 3)).toEqual([stage, '--config', '/etc/ddinit/config.yaml']);
    }
  });

  if (stage === 'pretrain' || stage === 'finetune') {
    it('resumes after a pod restart: retries, and a grace period long enough to checkpoint on SIGTERM', () => {
      expect(job.spec?.backoffLimit).toBe(4);
      expect(job.spec?.template.spec?.terminationGracePeriodSeconds).toBe(120);
      // Exit code 2 (bad input) still fails the Job at once; a disruption is retried without counting.
      expect(job.spec?.podFailurePolicy?.rules.map((r) => r.action)).toEqual(['FailJob', 'Ignore']);
      expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    });
  }

  it('agrees with `ddinit k8s render` on the essentials, and then on every field', () => {
    const fromCode = renderManifests(baseConfig, options, { overlay, stage, sweep });
    const codeJob = one(fromCode, Job);
    const codeConfigMap = one(fromCode, ConfigMap);
    expect(essentials(job)).toEqual(essentials(codeJob));
    expect(job.toJSON()).toEqual(codeJob.toJSON());
    // The ConfigMap text differs only in layout and comments: same metadata, same parsed config.
    expect(configMap.metadata).toEqual(codeConfigMap.metadata);
    expect(parse(configMap.data?.['config.yaml'] ?? '')).toEqual(parse(codeConfigMap.data?.['config.yaml'] ?? ''));
  });
});

describe('kubectl kustomize k8s/secret', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ddinit-k8s-secret-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('renders the S3 Secret from s3.env as renderS3Secret does from the same variables', () => {
    cpSync(join(k8sDir, 'secret'), scratch, { recursive: true });
    copyFileSync(join(scratch, 's3.env.example'), join(scratch, 's3.env'));
    const env = Object.fromEntries(
      readFileSync(join(scratch, 's3.env'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(env).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_REGION', 'AWS_SECRET_ACCESS_KEY']);
    const { yaml, warnings } = kustomizeBuild(scratch);
    expect(warnings).toBe('');
    const objects = parseManifests(yaml);
    expect(objects).toHaveLength(1);
    const secret = one(objects, Secret);
    expect(secret.toJSON()).toEqual(renderS3Secret(options, env).toJSON());
    // The Jobs read the Secret by this name.
    const job = one(render('overlays/gpu'), Job);
    expect(job.spec?.template.spec?.containers[0].envFrom).toEqual([{ secretRef: { name: secret.metadata?.name } }]);
  });

  it('does not render without s3.env, so placeholder credentials are never applied by accident', () => {
    const bare = join(scratch, 'bare');
    cpSync(join(k8sDir, 'secret'), bare, { recursive: true });
    rmSync(join(bare, 's3.env'), { force: true });
    expect(() => kustomizeBuild(bare)).toThrow(/s3\.env/);
  });
});

describe('kustomizeBuild', () => {
  it('fails with a clear message when kubectl is missing', () => {
    expect(() => kustomizeBuild(join(k8sDir, 'overlays/gpu'), '/nonexistent/kubectl')).toThrow(/^\/nonexistent\/kubectl: kubectl is not installed; .*KUBECTL=/);
  });
});
