import { ConfigError } from '@ddinit/core';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listJobViolations } from './job-invariants';
import { KubernetesOptions, kubernetesOptionsOf } from './kubernetes-options';
import { parseManifests } from './parse-manifests';
import { manifestsToYaml, renderManifests } from './render-manifests';
import { sweepAssignmentAt } from './sweep';

const pipelineConfig = {
  data: 's3://bucket/datasets/fashion-mnist',
  model: 'caffenet-small',
  init: 'ddinit-pca',
  seed: 3,
  out: 's3://bucket/runs/a',
  kubernetes: {
    image: 'registry.test/ddinit:1.2.3',
    namespace: 'research',
    sweep: { axes: { init: ['ddinit-pca', 'ddinit-zca+calibration'], seed: [1, 2, 3] } },
  },
};
const options = kubernetesOptionsOf(pipelineConfig);

function jobOf(objects: unknown[]): Job {
  const job = objects.find((o) => o instanceof Job);
  if (!job) throw new Error('no Job rendered');
  return job as Job;
}

function containerOf(job: Job) {
  const container = job.spec?.template.spec?.containers[0];
  if (!container) throw new Error('no container');
  return container;
}

describe('renderManifests', () => {
  it('renders a ConfigMap holding the config and a Job running the stage, both schema-valid', () => {
    const objects = renderManifests(pipelineConfig, options, { overlay: 'gpu' });
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ConfigMap/ddinit-config', 'Job/ddinit-init']);
    for (const object of objects) {
      expect(object.metadata?.namespace).toBe('research');
      expect(() => object.validate()).not.toThrow();
    }
    const configMap = objects[0] as ConfigMap;
    expect(parse(configMap.data?.['config.yaml'] ?? '')).toEqual(pipelineConfig);

    const job = jobOf(objects);
    expect(listJobViolations(job)).toEqual([]);
    const container = containerOf(job);
    expect(container.image).toBe('registry.test/ddinit:1.2.3');
    expect(container.command).toEqual(['node', '/app/apps/pipeline/bin/ddinit.js']);
    expect(container.args).toEqual(['init', '--config', '/etc/ddinit/config.yaml', '--backend', 'node-gpu']);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'ddinit-s3' } }]);
    expect(container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/ddinit', readOnly: true });
    expect(job.spec?.template.spec?.volumes).toContainEqual({ name: 'config', configMap: { name: 'ddinit-config' } });
    expect(job.spec?.backoffLimit).toBe(2);
    expect(job.spec?.ttlSecondsAfterFinished).toBe(86_400);
    expect(job.spec?.podFailurePolicy?.rules.map((r) => r.action)).toEqual(['FailJob', 'Ignore']);
    // Bad input (2) and a divergence (3) fail at once: the same configuration would fail again.
    expect(job.spec?.podFailurePolicy?.rules[0].onExitCodes?.values).toEqual([2, 3]);
  });

  it('puts GPU limits, node selector and tolerations in GPU pods only', () => {
    const gpu = jobOf(renderManifests(pipelineConfig, options, { overlay: 'gpu' }));
    const cpu = jobOf(renderManifests(pipelineConfig, options, { overlay: 'cpu' }));
    expect(containerOf(gpu).resources?.limits).toEqual({ memory: '16Gi', 'nvidia.com/gpu': 1 });
    expect(gpu.spec?.template.spec?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(gpu.spec?.template.spec?.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });

    expect(containerOf(cpu).resources?.limits).toEqual({ memory: '16Gi' });
    expect(cpu.spec?.template.spec?.tolerations).toBeUndefined();
    expect(cpu.spec?.template.spec?.nodeSelector).toBeUndefined();
    expect(containerOf(cpu).args?.slice(-2)).toEqual(['--backend', 'auto']);
    expect(listJobViolations(cpu)).toEqual([]);
  });

  it('follows the kubernetes section: GPU count, resource name, stage, deadline, service account', () => {
    const custom = KubernetesOptions.parse({
      stage: 'init',
      overlay: 'cpu',
      gpu: { count: 4, resourceName: 'amd.com/gpu', nodeSelector: {}, tolerations: [] },
      activeDeadlineSeconds: 3600,
      serviceAccountName: 'trainer',
      imagePullSecrets: ['regcred'],
    });
    const job = jobOf(renderManifests({}, custom, { overlay: 'gpu' }));
    expect(job.metadata?.name).toBe('ddinit-init');
    expect(containerOf(job).args?.[0]).toBe('init');
    expect(containerOf(job).resources?.limits).toEqual({ memory: '16Gi', 'amd.com/gpu': 4 });
    expect(job.spec?.template.spec?.tolerations).toBeUndefined();
    expect(job.spec?.activeDeadlineSeconds).toBe(3600);
    expect(job.spec?.template.spec?.serviceAccountName).toBe('trainer');
    expect(job.spec?.template.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    // Without a choice, the section's own overlay and stage apply.
    expect(containerOf(jobOf(renderManifests({}, custom))).args).toEqual(['init', '--config', '/etc/ddinit/config.yaml', '--backend', 'auto']);
  });

  it('limits every run to activeDeadlineSeconds (6 h by default): the stage Job, or each pod of a sweep', () => {
    const stage = jobOf(renderManifests(pipelineConfig, options, { overlay: 'gpu' }));
    expect(stage.spec?.activeDeadlineSeconds).toBe(6 * 3600);
    expect(stage.spec?.template.spec?.activeDeadlineSeconds).toBeUndefined();
    const sweep = jobOf(renderManifests(pipelineConfig, options, { sweep: true, overlay: 'gpu' }));
    expect(sweep.spec?.activeDeadlineSeconds).toBeUndefined();
    expect(sweep.spec?.template.spec?.activeDeadlineSeconds).toBe(6 * 3600);
    const unlimited = KubernetesOptions.parse({ activeDeadlineSeconds: null });
    for (const job of [jobOf(renderManifests({}, unlimited)), jobOf(renderManifests({}, unlimited, { sweep: true }))]) {
      expect(job.spec?.activeDeadlineSeconds).toBeUndefined();
      expect(job.spec?.template.spec?.activeDeadlineSeconds).toBeUndefined();
      job.validate();
    }
    expect(() => KubernetesOptions.parse({ activeDeadlineSeconds: 0 })).toThrow();
  });

  it('renders a sweep as an Indexed Job with one completion per configuration', () => {
    const job = jobOf(renderManifests(pipelineConfig, options, { sweep: true, overlay: 'gpu' }));
    expect(job.metadata?.name).toBe('ddinit-init-sweep');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 6, parallelism: 2, backoffLimitPerIndex: 1 });
    expect(job.spec?.backoffLimit).toBeUndefined();
    expect(job.spec?.podFailurePolicy?.rules[0].action).toBe('FailIndex');
    expect(containerOf(job).args).toEqual(['sweep-run', '--stage', 'init', '--config', '/etc/ddinit/config.yaml', '--backend', 'node-gpu']);
    expect(listJobViolations(job)).toEqual([]);
    // The last completion index is the last configuration.
    expect(sweepAssignmentAt(options.sweep.axes, (job.spec?.completions ?? 0) - 1)).toEqual({ init: 'ddinit-zca+calibration', seed: 3 });
    // Parallelism never exceeds the number of configurations.
    const small = KubernetesOptions.parse({ sweep: { axes: { seed: [1] }, parallelism: 8 } });
    expect(jobOf(renderManifests({}, small, { sweep: true })).spec?.parallelism).toBe(1);
  });

  it('renders the S3 Secret from the environment only when asked, and names a missing variable', () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIA1',
      AWS_SECRET_ACCESS_KEY: 's3cr=t',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_S3: 'http://minio:9000',
      HOME: '/root',
    };
    const objects = renderManifests(pipelineConfig, options, { secretEnv: env });
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'Secret', 'Job']);
    const secret = objects[1] as Secret;
    expect(secret.metadata?.name).toBe('ddinit-s3');
    const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    expect(decoded).toEqual({ AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's3cr=t', AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://minio:9000' });
    expect(() => renderManifests(pipelineConfig, options, { secretEnv: { AWS_ACCESS_KEY_ID: 'a', AWS_REGION: 'r' } })).toThrow(
      /^AWS_SECRET_ACCESS_KEY: an S3 credential is missing/,
    );
  });

  it('refuses names Kubernetes would refuse', () => {
    const long = KubernetesOptions.parse({ name: 'a'.repeat(53) });
    expect(() => renderManifests({}, long, { sweep: true })).toThrow(ConfigError);
    expect(() => renderManifests({}, long, { sweep: true })).toThrow(/^kubernetes.name: .*got 64 characters\)$/);
  });

  it('refuses objects the Kubernetes schema rejects, naming the object', () => {
    // A value only a cast can smuggle past the types: the schema check still catches it.
    const bad = { ...options, runAsUser: 'root' as unknown as number };
    expect(() => renderManifests({}, bad)).toThrow(/^Job ddinit-init: a rendered object does not match the Kubernetes schema/);
  });

  it('prints YAML that reads back into the same validated objects', () => {
    const objects = renderManifests(pipelineConfig, options, { sweep: true, overlay: 'cpu' });
    const text = manifestsToYaml(objects);
    expect(text.split('\n---\n')).toHaveLength(2);
    expect(parseManifests(text).map((o) => o.toJSON())).toEqual(objects.map((o) => o.toJSON()));
  });
});

describe('typed manifests', () => {
  it('make a misspelt field a type error', () => {
    const build = () =>
      new Job({
        spec: {
          // @ts-expect-error `bakoffLimit` is not a JobSpec field; typecheck fails if this ever compiles.
          bakoffLimit: 2,
          template: { spec: { containers: [{ name: 'c', image: 'i' }] } },
        },
      });
    // The OpenAPI schema allows unknown fields, which is why the types are the guard.
    expect(() => build().validate()).not.toThrow();
    // A wrong type is caught by `.validate()` as well.
    const wrong = new Job({ spec: { completions: 'three' as unknown as number, template: { spec: { containers: [] } } } });
    expect(() => wrong.validate()).toThrow(/completions/);
  });
});
