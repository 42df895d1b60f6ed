import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '@ddinit/core';
import { Workflow, WorkflowTemplate, type IDAGTask, type ITemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { INITIALIZATIONS } from '../config/initializations';
import { stageDefinition } from '../stages/stage-registry';
import { planStudy, type StudyPlan } from '../study/cells';
import { DEFAULT_STUDY, parseStudyConfig } from '../study/study-config';
import { CONFIG_PATH, KubernetesOptions } from './kubernetes-options';
import { readPipelineDocument } from './pipeline-document';
import { INTERIM_POLICIES, MAX_DAG_TASKS, MERGE_TEMPLATE, STUDY_TEMPLATE, partitionRuns, renderStudyWorkflow } from './workflow-manifest';

const options = KubernetesOptions.parse({});

/** A study of 3 × 2 × 3 × 2 × 2 = 72 cells with pretraining: 18 init, 18 pretrain, 72 finetune and 72 evaluate runs. */
const WIDE = parseStudyConfig({
  name: 'wide',
  out: 's3://bucket/studies/wide',
  data: 's3://bucket/datasets/fashion-mnist',
  init: ['glorot-uniform', 'gaussian-0.01', 'ddinit-kmeans+calibration'],
  model: ['caffenet-small', 'vgg-plain-11'],
  seed: [1, 2, 3],
  labelsPerClass: [100, null],
  pretrain: [false, { task: 'rotation', steps: 300 }],
});

/** The Workflow as a cluster would receive it: rendered, printed as YAML, read back and validated. */
function roundTrip(plan: StudyPlan, kind: 'Workflow' | 'WorkflowTemplate' = 'Workflow'): Workflow | WorkflowTemplate {
  const yaml = stringify(renderStudyWorkflow(plan, options, { kind }).toJSON(), { lineWidth: 0 });
  const data = parse(yaml) as Workflow;
  const object = kind === 'Workflow' ? new Workflow(data) : new WorkflowTemplate(data as unknown as WorkflowTemplate);
  object.validate();
  return object;
}

function templates(workflow: Workflow | WorkflowTemplate): Map<string, ITemplate> {
  return new Map((workflow.spec.templates ?? []).map((template) => [template.name as string, template]));
}

/** The task names a `depends` expression refers to. */
function dependsOn(task: IDAGTask): string[] {
  return [...new Set([...(task.depends ?? '').matchAll(/([a-z0-9-]+)\.(Succeeded|Failed|Errored|Omitted)/g)].map((match) => match[1]))];
}

/** Every DAG template's tasks by name, with the template holding them. */
function dagTasks(workflow: Workflow | WorkflowTemplate): Map<string, { task: IDAGTask; dag: string }> {
  const tasks = new Map<string, { task: IDAGTask; dag: string }>();
  for (const [name, template] of templates(workflow)) {
    for (const task of template.dag?.tasks ?? []) {
      expect(tasks.has(task.name), `task ${task.name} appears twice`).toBe(false);
      tasks.set(task.name, { task, dag: name });
    }
  }
  return tasks;
}

/** Kahn's algorithm over one DAG template: true when its tasks can be ordered (no cycle, no unknown dependency). */
function isAcyclic(tasks: readonly IDAGTask[]): boolean {
  const pending = new Map(tasks.map((task) => [task.name, new Set(dependsOn(task))]));
  let progressed = true;
  while (pending.size > 0 && progressed) {
    progressed = false;
    for (const [name, needs] of pending) {
      if ([...needs].every((need) => !pending.has(need) && tasks.some((task) => task.name === need))) {
        pending.delete(name);
        progressed = true;
      }
    }
  }
  return pending.size === 0;
}

describe('the study Workflow', () => {
  it('of the default study validates against the Argo Workflows schema, also as a WorkflowTemplate', () => {
    const workflow = roundTrip(planStudy(DEFAULT_STUDY));
    expect(workflow.kind).toBe('Workflow');
    expect(workflow.metadata.generateName).toBe('ddinit-study-');
    expect(workflow.spec.entrypoint).toBe(STUDY_TEMPLATE);
    const template = roundTrip(planStudy(DEFAULT_STUDY), 'WorkflowTemplate');
    expect(template.kind).toBe('WorkflowTemplate');
    expect(template.metadata.name).toBe('ddinit-study');
  });

  it('is checked by a schema that can fail: a task without a name does not validate', () => {
    const data = renderStudyWorkflow(planStudy(DEFAULT_STUDY), options).toJSON() as unknown as Workflow;
    const broken = structuredClone(data);
    delete (broken.spec.templates?.[0].dag?.tasks[0] as Partial<IDAGTask>).name;
    expect(() => new Workflow(broken).validate()).toThrow(/name/);
  });

  it('has one template per stage of the study and one for the merge, each running its ddinit command', () => {
    for (const [study, stages] of [
      [DEFAULT_STUDY, ['init', 'finetune', 'evaluate']],
      [WIDE, ['init', 'pretrain', 'finetune', 'evaluate']],
    ] as const) {
      const byName = templates(roundTrip(planStudy(study)));
      const commands = [...byName.values()].filter((template) => template.container !== undefined);
      expect(commands.map((template) => template.name).sort()).toEqual([...stages, MERGE_TEMPLATE].sort());
      for (const stage of stages) {
        const container = byName.get(stage)?.container;
        expect(container?.args).toEqual([
          'study-run',
          '--stage',
          stage,
          '--key',
          '{{inputs.parameters.key}}',
          '--config',
          CONFIG_PATH,
          '--backend',
          'node-gpu',
        ]);
        expect(byName.get(stage)?.inputs?.parameters).toEqual([{ name: 'config' }, { name: 'key' }]);
        expect(byName.get(stage)?.inputs?.artifacts?.[0]).toEqual({ name: 'config', path: CONFIG_PATH, raw: { data: '{{inputs.parameters.config}}' } });
      }
      expect(byName.get(MERGE_TEMPLATE)?.container?.args).toEqual(['compare', '--merge', '--config', CONFIG_PATH]);
      expect(JSON.stringify(byName.get(MERGE_TEMPLATE))).not.toContain('nvidia.com/gpu');
    }
  });

  it("turns each stage's Job policy into its template's retries, no retry after exit code 2, and its grace period", () => {
    const byName = templates(roundTrip(planStudy(WIDE)));
    const expected = {
      init: stageDefinition('init').job,
      pretrain: stageDefinition('pretrain').job,
      finetune: INTERIM_POLICIES.finetune,
      evaluate: INTERIM_POLICIES.evaluate,
      merge: INTERIM_POLICIES.merge,
    };
    for (const [name, policy] of Object.entries(expected)) {
      const template = byName.get(name) as ITemplate;
      expect(template.retryStrategy).toEqual({
        limit: policy.backoffLimit,
        retryPolicy: 'Always',
        expression: 'lastRetry.exitCode != "2" && lastRetry.exitCode != "3"',
      });
      expect(JSON.parse(template.podSpecPatch as string)).toEqual({ terminationGracePeriodSeconds: policy.terminationGracePeriodSeconds });
      expect(template.activeDeadlineSeconds).toBe(options.activeDeadlineSeconds);
      expect(template.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(template.container?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    }
    expect(byName.get('pretrain')?.podSpecPatch).toBe('{"terminationGracePeriodSeconds":120}');
  });

  it("runs every cell's chain in order, each task carrying its run's config, and the merge after every evaluation", () => {
    const plan = planStudy(WIDE);
    const workflow = roundTrip(plan);
    const tasks = dagTasks(workflow);
    const runs = new Map(plan.runs.map((run) => [run.name, run]));
    for (const cell of plan.cells) {
      cell.chain.forEach((name, position) => {
        const entry = tasks.get(name);
        expect(entry, `task ${name}`).toBeDefined();
        expect(entry?.task.template).toBe(runs.get(name)?.stage);
        expect(JSON.parse(entry?.task.arguments?.parameters?.[0].value as string)).toEqual(runs.get(name)?.document);
        expect(entry?.task.arguments?.parameters?.[1]).toEqual({ name: 'key', value: runs.get(name)?.key });
        expect(dependsOn(entry?.task as IDAGTask)).toEqual(position === 0 ? [] : [cell.chain[position - 1]]);
        if (position > 0) expect(entry?.dag).toBe(tasks.get(cell.chain[position - 1])?.dag); // a dependency never crosses parts
      });
    }
    const partCount = [...templates(workflow).keys()].filter((name) => name.startsWith('cells-')).length;
    expect(tasks.size).toBe(plan.runs.length + partCount + 1); // the runs, a task per part, the merge
    // The merge waits for every part, and every evaluate task is in a part.
    const merge = tasks.get(MERGE_TEMPLATE) as { task: IDAGTask; dag: string };
    expect(merge.dag).toBe(STUDY_TEMPLATE);
    const parts = dependsOn(merge.task);
    const entry = templates(workflow)
      .get(STUDY_TEMPLATE)
      ?.dag?.tasks.map((task) => task.name);
    expect(entry).toEqual([...parts, MERGE_TEMPLATE]);
    const evaluations = plan.runs.filter((run) => run.stage === 'evaluate').map((run) => run.name);
    for (const name of evaluations) expect(parts).toContain(tasks.get(name)?.dag);
    expect(merge.task.depends).toBe(parts.map((part) => `(${part}.Succeeded || ${part}.Failed || ${part}.Errored)`).join(' && '));
    expect(JSON.parse(merge.task.arguments?.parameters?.[0].value as string)).toMatchObject({ name: 'wide', baseline: 'glorot-uniform', out: WIDE.out });
    for (const template of templates(workflow).values()) {
      if (template.dag !== undefined) {
        expect(isAcyclic(template.dag.tasks), `DAG ${template.name}`).toBe(true);
        expect(template.dag.failFast).toBe(false);
      }
    }
  });

  it('starts the merge once the last run of every cell has ended, however it ended, with ddinit compare --merge', () => {
    const plan = planStudy(parseStudyConfig({ ...WIDE, kubernetes: undefined, init: INITIALIZATIONS.slice(0, 8), labelsPerClass: [10, 100, null] }));
    const workflow = roundTrip(plan);
    const tasks = dagTasks(workflow);
    const merge = tasks.get(MERGE_TEMPLATE)?.task as IDAGTask;
    const clauses = (merge.depends ?? '').split(' && ');
    expect(clauses.length).toBeGreaterThan(1); // several parts: the merge waits for each
    for (const cell of plan.cells) {
      const part = tasks.get(cell.chain.at(-1) as string)?.dag as string;
      expect(clauses, cell.id).toContain(`(${part}.Succeeded || ${part}.Failed || ${part}.Errored)`);
      expect(templates(workflow).get(part)?.dag?.failFast).toBe(false);
    }
    expect(templates(workflow).get(MERGE_TEMPLATE)?.container?.args).toEqual(['compare', '--merge', '--config', CONFIG_PATH]);
  });

  it('splits a study of more runs than a DAG allows into parts of whole trees, each within the limit', () => {
    const study = parseStudyConfig({ ...WIDE, kubernetes: undefined, init: INITIALIZATIONS.slice(0, 8), labelsPerClass: [10, 100, null] });
    const plan = planStudy(study);
    expect(plan.runs.length).toBeGreaterThan(MAX_DAG_TASKS);
    const workflow = roundTrip(plan);
    const parts = (workflow.spec.templates ?? []).filter((template) => template.name?.startsWith('cells-'));
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.dag?.tasks.length).toBeLessThanOrEqual(MAX_DAG_TASKS);
    expect(parts.reduce((sum, part) => sum + (part.dag?.tasks.length ?? 0), 0)).toBe(plan.runs.length);
    for (const part of partitionRuns(plan.runs)) {
      const names = new Set(part.map((run) => run.name));
      for (const run of part) if (run.upstream !== null) expect(names.has(run.upstream)).toBe(true);
    }
  });

  it('refuses a study too large for one Workflow, saying how large', () => {
    const study = parseStudyConfig({
      ...WIDE,
      init: [...INITIALIZATIONS],
      seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      labelsPerClass: [10, 100, 1000, null],
    });
    expect(() => renderStudyWorkflow(planStudy(study), options)).toThrow(ConfigError);
    expect(() => renderStudyWorkflow(planStudy(study), options)).toThrow(/too large for one Workflow|too many stage runs/);
  });

  it('runs on CPU nodes with the CPU backend for --overlay cpu', () => {
    const workflow = renderStudyWorkflow(planStudy(DEFAULT_STUDY), options, { overlay: 'cpu' });
    const init = templates(workflow).get('init') as ITemplate;
    expect(init.container?.args?.at(-1)).toBe('auto');
    expect(init.nodeSelector).toBeUndefined();
    expect(JSON.stringify(workflow.toJSON())).not.toContain('nvidia.com/gpu');
  });

  it('of the example study in k8s/workflows validates, with its image and parallelism', () => {
    const study = parseStudyConfig(readPipelineDocument(resolve(import.meta.dirname, '../../../../k8s/workflows/study.yaml')));
    const plan = planStudy(study);
    expect(plan.cells).toHaveLength(48);
    const workflow = renderStudyWorkflow(plan, study.kubernetes ?? options);
    workflow.validate();
    expect(workflow.metadata.generateName).toBe('ddinit-fashion-mnist-');
    expect(workflow.spec.parallelism).toBe(8);
    for (const run of plan.runs) expect(run.location.startsWith('s3://my-bucket/studies/fashion-mnist/')).toBe(true);
  });

  it("passes each run's config so that the pod reads back exactly the run's document from /etc/ddinit/config.yaml", () => {
    const plan = planStudy(WIDE);
    const tasks = dagTasks(renderStudyWorkflow(plan, options));
    const scratch = mkdtempSync(join(tmpdir(), 'ddinit-workflow-'));
    try {
      for (const run of plan.runs) {
        const path = join(scratch, 'config.yaml');
        writeFileSync(path, tasks.get(run.name)?.task.arguments?.parameters?.[0].value as string);
        expect(readPipelineDocument(path)).toEqual(run.document);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses a setting holding "{{", which Argo would expand, naming the run', () => {
    const study = parseStudyConfig({ ...WIDE, kubernetes: undefined, model: ['s3://bucket/{{workflow.name}}/model.json'] });
    expect(() => renderStudyWorkflow(planStudy(study), options)).toThrow(/holds "\{\{", which Argo would expand/);
  });
});
