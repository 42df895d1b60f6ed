/**
 * A study as Indexed Jobs (clusters without Argo): one cell group per completion
 * index, groups sharing no run, the pods reading back the study from the ConfigMap,
 * the merge Job suspended until the cells have ended; every Job valid as a cluster
 * would check it.
 */
import { ConfigError } from '@ddinit/core';
import { Job } from 'kubernetes-models/batch/v1';
import type { ConfigMap } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { planStudy } from '../study/cells';
import { DEFAULT_STUDY, parseStudyConfig } from '../study/study-config';
import { listJobViolations } from './job-invariants';
import { KubernetesOptions } from './kubernetes-options';
import { cellGroups, cellsOfGroup, renderStudySweep } from './study-sweep';

const options = KubernetesOptions.parse({ image: 'registry.test/ddinit:1', sweep: { parallelism: 4 } });
const shared = parseStudyConfig({ name: 'fm', init: ['he-normal', 'lsuv'], seed: [1, 2, 3], labelsPerClass: [10, null], out: 's3://b/studies/fm' });

describe('renderStudySweep', () => {
  it('renders the ConfigMap, an Indexed Job of one cell group per index and a suspended merge Job, all valid', () => {
    const objects = renderStudySweep(planStudy(DEFAULT_STUDY), options, 'gpu');
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ConfigMap/ddinit-study-config', 'Job/ddinit-study-cells', 'Job/ddinit-study-merge']);
    const [, cells, merge] = objects as [ConfigMap, Job, Job];
    for (const job of [cells, merge]) {
      expect(() => job.validate()).not.toThrow();
      expect(listJobViolations(job)).toEqual([]);
      expect(job.spec?.template.spec?.volumes).toContainEqual({ name: 'config', configMap: { name: 'ddinit-study-config' } });
    }
    expect(cells.spec).toMatchObject({ completionMode: 'Indexed', completions: 6, parallelism: 4, backoffLimitPerIndex: options.sweep.backoffLimitPerIndex });
    expect(cells.spec?.template.spec?.containers[0].args).toEqual(['compare', '--indexed', '--config', '/etc/ddinit/config.yaml', '--backend', 'node-gpu']);
    expect(cells.spec?.template.spec?.terminationGracePeriodSeconds).toBe(120);
    expect(JSON.stringify(cells.toJSON())).toContain('nvidia.com/gpu');
    expect(merge.spec?.suspend).toBe(true);
    expect(merge.spec?.template.spec?.containers[0].args).toEqual(['compare', '--merge', '--config', '/etc/ddinit/config.yaml', '--backend', 'auto']);
    expect(JSON.stringify(merge.toJSON())).not.toContain('nvidia.com/gpu');
  });

  it('puts the study in the ConfigMap so that the pods plan exactly the same cells and runs', () => {
    const plan = planStudy(shared);
    const [configMap] = renderStudySweep(plan, options, 'cpu') as [ConfigMap];
    const again = planStudy(parseStudyConfig(parse(configMap.data?.['config.yaml'] ?? '') as Record<string, unknown>));
    expect(again.cells).toEqual(plan.cells);
    expect(again.runs).toEqual(plan.runs);
  });

  it('gives cells that share an init run to one index: 2 inits × 3 seeds are 6 groups of 2 label counts', () => {
    const plan = planStudy(shared);
    const [, cells] = renderStudySweep(plan, options, 'cpu') as [ConfigMap, Job];
    expect(cells.spec?.completions).toBe(6);
    const groups = cellGroups(plan);
    expect(groups.map((group) => group.length)).toEqual([2, 2, 2, 2, 2, 2]);
    for (const group of groups) expect(new Set(group.map((index) => plan.cells[index].chain[0])).size).toBe(1);
    expect(cellsOfGroup(plan, 5, 'JOB_COMPLETION_INDEX')).toEqual([10, 11]);
    expect(() => cellsOfGroup(plan, 6, 'JOB_COMPLETION_INDEX')).toThrow(
      /^JOB_COMPLETION_INDEX: no such cell group in the study \(expected an integer in \[0, 5\], got 6\)$/,
    );
  });

  it('refuses names Kubernetes would refuse', () => {
    const long = KubernetesOptions.parse({ name: 'a'.repeat(30) });
    const plan = planStudy(parseStudyConfig({ name: 'b'.repeat(30) }));
    expect(() => renderStudySweep(plan, long, 'cpu')).toThrow(ConfigError);
    expect(() => renderStudySweep(plan, long, 'cpu')).toThrow(/^kubernetes.name and the study name: the Job name is longer than Kubernetes allows/);
  });
});
