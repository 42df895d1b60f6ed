import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { INITIALIZATIONS } from '../config/initializations';
import { KubernetesOptions, kubernetesOptionsOf } from './kubernetes-options';

function issuesOf(input: unknown): string[] {
  const result = KubernetesOptions.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('KubernetesOptions', () => {
  it('fills every field with its documented default', () => {
    expect(KubernetesOptions.parse({})).toEqual({
      image: 'registry.example.com/ddinit:0.2.3',
      imagePullPolicy: 'IfNotPresent',
      imagePullSecrets: [],
      namespace: 'ddinit',
      name: 'ddinit',
      stage: 'init',
      overlay: 'gpu',
      command: ['node', '/app/apps/pipeline/bin/ddinit.js'],
      s3SecretName: 'ddinit-s3',
      serviceAccountName: null,
      backoffLimit: null,
      ttlSecondsAfterFinished: 86_400,
      activeDeadlineSeconds: 21_600,
      runAsUser: 1000,
      runAsGroup: 1000,
      resources: { cpu: '4', memory: '16Gi' },
      gpu: {
        count: 1,
        resourceName: 'nvidia.com/gpu',
        nodeSelector: { 'nvidia.com/gpu.present': 'true' },
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
        backend: 'node-gpu',
      },
      cpu: { nodeSelector: {}, tolerations: [], backend: 'auto' },
      sweep: {
        axes: { init: [...INITIALIZATIONS], seed: [0, 1, 2] },
        parallelism: 2,
        backoffLimitPerIndex: 1,
        outKey: 'out',
      },
    });
  });

  it('keeps defaults of untouched nested fields when one is set', () => {
    const options = KubernetesOptions.parse({ gpu: { count: 2 }, sweep: { parallelism: 6 } });
    expect(options.gpu.count).toBe(2);
    expect(options.gpu.resourceName).toBe('nvidia.com/gpu');
    expect(options.sweep.parallelism).toBe(6);
    expect(options.sweep.axes.seed).toEqual([0, 1, 2]);
  });

  it('rejects misspelt keys at every level, naming where', () => {
    expect(issuesOf({ imagee: 'x' })).toEqual([': Unrecognized key: "imagee"']);
    expect(issuesOf({ gpu: { cout: 1 } })).toEqual(['gpu: Unrecognized key: "cout"']);
    expect(issuesOf({ sweep: { axis: {} } })).toEqual(['sweep: Unrecognized key: "axis"']);
    expect(issuesOf({ gpu: { tolerations: [{ key: 'a', efect: 'NoSchedule' }] } })).toEqual(['gpu.tolerations.0: Unrecognized key: "efect"']);
    expect(() => KubernetesOptions.parse({ resources: { gpu: 1 } })).toThrow(ZodError);
  });

  it('rejects values Kubernetes would refuse', () => {
    expect(issuesOf({ namespace: 'My_NS' })[0]).toMatch(/^namespace: a DNS-1123 label/);
    expect(issuesOf({ resources: { memory: '16 GB' } })[0]).toMatch(/^resources.memory: a Kubernetes quantity/);
    expect(issuesOf({ gpu: { count: 0 } })[0]).toMatch(/^gpu.count: /);
    expect(issuesOf({ overlay: 'tpu' })[0]).toMatch(/^overlay: /);
    expect(issuesOf({ stage: 'train' })[0]).toMatch(/^stage: /);
    expect(issuesOf({ backoffLimit: -1 })[0]).toMatch(/^backoffLimit: /);
    expect(issuesOf({ gpu: { backend: 'cuda' } })[0]).toMatch(/^gpu.backend: /);
  });

  it('rejects sweeps whose run names would be ambiguous or empty', () => {
    expect(issuesOf({ sweep: { axes: {} } })).toEqual(['sweep.axes: a sweep needs at least one axis, e.g. { init: [he-normal, ddinit-pca] }']);
    expect(issuesOf({ sweep: { axes: { init: [] } } })[0]).toMatch(/^sweep.axes.init: /);
    expect(issuesOf({ sweep: { axes: { init: ['lsuv', 'lsuv'] } } })).toEqual(['sweep.axes.init: axis "init" lists a value twice']);
    // "+" is allowed: the calibrated ddinit names carry it.
    expect(issuesOf({ sweep: { axes: { init: ['ddinit-pca', 'ddinit-pca+calibration'] } } })).toEqual([]);
    // The removed keys are no axis: the message names their replacement.
    expect(issuesOf({ sweep: { axes: { within: ['pca'] } } })[0]).toMatch(/^sweep.axes.within: "within" was replaced by "init"/);
    expect(issuesOf({ sweep: { axes: { out: ['a,b'] } } })[0]).toMatch(/^sweep.axes.out.0: letters, digits/);
    expect(issuesOf({ sweep: { axes: { 'bad path': [1] } } })[0]).toBe('sweep.axes.bad path: a config path such as "init" or "pretrain.steps", got "bad path"');
    // The same number and string are different values.
    expect(issuesOf({ sweep: { axes: { seed: [1, '1'] } } })).toEqual([]);
  });
});

describe('Toleration', () => {
  it('follows the API server: no key needs Exists, Exists takes no value', () => {
    expect(issuesOf({ gpu: { tolerations: [{ effect: 'NoSchedule' }] } })).toEqual([
      'gpu.tolerations.0.operator: a toleration without a key needs operator Exists',
    ]);
    expect(issuesOf({ gpu: { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] } })).toEqual([
      'gpu.tolerations.0.value: operator Exists takes no value',
    ]);
    expect(issuesOf({ cpu: { tolerations: [{ operator: 'Exists' }, { key: 'k', value: 'v', effect: 'NoExecute' }] } })).toEqual([]);
  });
});

describe('kubernetesOptionsOf', () => {
  it('parses the section of a pipeline config, with paths starting at kubernetes', () => {
    expect(kubernetesOptionsOf({ model: 'x' }).namespace).toBe('ddinit');
    expect(kubernetesOptionsOf({ kubernetes: { namespace: 'lab' } }).namespace).toBe('lab');
    const result = (() => {
      try {
        kubernetesOptionsOf({ kubernetes: { gpu: { count: -1 } } });
        return [];
      } catch (error) {
        return (error as ZodError).issues.map((issue) => issue.path.join('.'));
      }
    })();
    expect(result).toEqual(['kubernetes.gpu.count']);
  });
});
