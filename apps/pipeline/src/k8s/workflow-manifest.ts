/**
 * A comparison study as one Argo Workflows `Workflow` (or `WorkflowTemplate`):
 * Argo runs the DAG, Kubernetes the pods, the bucket holds the artifacts.
 *
 * - One template per stage (`init`, `pretrain`, `finetune`, `evaluate`) and one for
 *   the merge: the image's `ddinit study-run --stage <stage> --key <run key> --config
 *   /etc/ddinit/config.yaml --backend <b>` (the stage as `ddinit <stage> --config` runs it,
 *   its failure, a divergence say, recorded beside its output for the merge),
 *   with the pod settings of the stage Jobs (job-manifest.ts: non-root, read-only root
 *   filesystem, S3 credentials from the Secret, GPU or CPU nodes) and the stage's
 *   Job policy as Argo's: `retryStrategy.limit` = the Job's backoffLimit, no retry
 *   after exit code 2 (bad config or data) or 3 (a divergence), the grace period
 *   through `podSpecPatch`.
 * - The config each run reads is the run's document (study/cells.ts) as JSON, a DAG
 *   task parameter that the template writes to /etc/ddinit/config.yaml as a raw input
 *   artifact (JSON is YAML); raw artifacts need no artifact repository. The stages
 *   pass artifacts through the bucket: each reads its `from` and writes its `out`.
 * - A task per stage run (runs shared by several cells appear once), each depending
 *   on the run it reads (`depends: <upstream>.Succeeded`). Argo allows 200 tasks per
 *   DAG, so the tasks are split into DAG templates `cells-1`, `cells-2`, … of at most
 *   200, each holding whole trees (an init run and every run reading from it); the entry
 *   DAG `study` runs the parts and then the `merge` task (`ddinit compare --merge`),
 *   once every part has ended, however it ended: a failed cell is a note in the
 *   comparison, not a reason to lose the others. `failFast: false` everywhere keeps
 *   the other cells running when one fails.
 *
 * Every stage's policy comes from the stage registry; the merge (`ddinit compare
 * --merge`) is no stage, and its policy, like the finetune and evaluate entries kept for
 * the table in docs/kubernetes.md, is in {@link INTERIM_POLICIES}.
 */
import { ConfigError } from '@ddinit/core';
import { Workflow, WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import type { IDAGTask, ITemplate, IWorkflowSpec } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1';
import { EXIT_CODES_NOT_RETRIED } from '../exit-status';
import { STAGE_NAMES, type StageJobPolicy, type StageName } from '../stages/stage-contract';
import { stageDefinition } from '../stages/stage-registry';
import type { StageRun, StudyPlan, StudyStage } from '../study/cells';
import { mergeDocument } from '../study/stage-documents';
import { containerFor, podSecurityContext, tolerationsFor } from './job-manifest';
import { CONFIG_PATH, type KubernetesOptions, type Overlay } from './kubernetes-options';
import { commonLabels } from './object-names';

/** The name of the DAG template (the entry point) and of the merge task and template. */
export const STUDY_TEMPLATE = 'study';
export const MERGE_TEMPLATE = 'merge';

/** The parameter (and raw artifact) carrying a run's config. */
export const CONFIG_PARAMETER = 'config';

/** The parameter carrying a run's key (its failure record names it). */
export const KEY_PARAMETER = 'key';

/** Argo names the container of a container template `main`. */
const MAIN_CONTAINER = 'main';

/**
 * A Workflow is one Kubernetes object, stored in etcd with its status beside its spec
 * (etcd refuses requests over 1.5 MiB by default): past this the study should be split.
 */
export const MAX_WORKFLOW_SPEC_BYTES = 512 * 1024;

/** Argo's schema allows at most this many tasks in one DAG (and templates in one Workflow). */
export const MAX_DAG_TASKS = 200;

/** Policies of the templates without a stage definition yet (finetune checkpoints like pretrain). */
export const INTERIM_POLICIES: Readonly<Record<'finetune' | 'evaluate' | 'merge', StageJobPolicy>> = {
  finetune: { backoffLimit: 4, terminationGracePeriodSeconds: 120 },
  evaluate: { backoffLimit: 2, terminationGracePeriodSeconds: 30 },
  merge: { backoffLimit: 2, terminationGracePeriodSeconds: 30 },
};

/** The merge reads JSON reports and writes one report: a CPU and a little memory. */
const MERGE_RESOURCES = { cpu: '1', memory: '2Gi' };

function isStageName(name: string): name is StageName {
  return (STAGE_NAMES as readonly string[]).includes(name);
}

/** The Job policy of a template: the stage registry's where the stage exists, else the interim table's. */
export function templatePolicy(template: StudyStage | typeof MERGE_TEMPLATE): StageJobPolicy {
  if (isStageName(template)) return stageDefinition(template).job;
  return INTERIM_POLICIES[template as keyof typeof INTERIM_POLICIES];
}

export interface WorkflowChoices {
  overlay?: Overlay;
  /** `WorkflowTemplate`: a named template to `argo submit --from workflowtemplate/<name>`. */
  kind?: 'Workflow' | 'WorkflowTemplate';
}

/** A template running `args` in the image, its config arriving as a raw artifact at CONFIG_PATH; `parameters`: further inputs. */
function commandTemplate(
  name: string,
  options: KubernetesOptions,
  overlay: Overlay,
  args: string[],
  policy: StageJobPolicy,
  parameters: readonly string[] = [],
): ITemplate {
  const nodeSelector = overlay === 'gpu' ? options.gpu.nodeSelector : options.cpu.nodeSelector;
  const tolerations = tolerationsFor(options, overlay);
  const container = containerFor(options, overlay, args);
  return {
    name,
    metadata: { labels: { ...commonLabels(), 'app.kubernetes.io/component': name } },
    inputs: {
      parameters: [{ name: CONFIG_PARAMETER }, ...parameters.map((parameter) => ({ name: parameter }))],
      artifacts: [{ name: CONFIG_PARAMETER, path: CONFIG_PATH, raw: { data: `{{inputs.parameters.${CONFIG_PARAMETER}}}` } }],
    },
    retryStrategy: {
      limit: policy.backoffLimit,
      // Failures and errors (a lost pod) are retried, bad input and divergences are not; `lastRetry.exitCode` is a string.
      retryPolicy: 'Always',
      expression: EXIT_CODES_NOT_RETRIED.map((code) => `lastRetry.exitCode != "${code}"`).join(' && '),
    },
    ...(options.activeDeadlineSeconds === null ? {} : { activeDeadlineSeconds: options.activeDeadlineSeconds }),
    // SIGTERM to SIGKILL: a training stage writes a checkpoint in between (Templates have no field for it).
    podSpecPatch: JSON.stringify({ terminationGracePeriodSeconds: policy.terminationGracePeriodSeconds }),
    ...(Object.keys(nodeSelector).length === 0 ? {} : { nodeSelector: { ...nodeSelector } }),
    ...(tolerations.length === 0 ? {} : { tolerations }),
    securityContext: podSecurityContext(options),
    // The config arrives through Argo's input-artifact volume, so only /tmp is mounted here.
    container: { ...container, name: MAIN_CONTAINER, volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] },
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
}

/** The merge's template: `ddinit compare --merge --config …` on a CPU node. */
function mergeTemplate(options: KubernetesOptions): ITemplate {
  const cpuOptions: KubernetesOptions = { ...options, resources: MERGE_RESOURCES };
  const template = commandTemplate(MERGE_TEMPLATE, cpuOptions, 'cpu', ['compare', '--merge'], templatePolicy(MERGE_TEMPLATE));
  const container = template.container;
  // `compare --merge` trains nothing: no --backend.
  return { ...template, container: container && { ...container, args: ['compare', '--merge', '--config', CONFIG_PATH] } };
}

/** `a.Succeeded || …`: the task ended, however it ended. */
function ended(task: string): string {
  return `(${task}.Succeeded || ${task}.Failed || ${task}.Errored)`;
}

/**
 * A run's config as a task parameter. Argo expands `{{…}}` in parameter values, so a
 * setting holding `{{` (a path, say) would be rewritten or fail the task: refused here.
 */
function configParameter(document: Record<string, unknown>, where: string): { name: string; value: string } {
  const value = JSON.stringify(document);
  if (value.includes('{{')) {
    throw new ConfigError('a setting of the study holds "{{", which Argo would expand', {
      where,
      expected: 'settings without "{{"',
      actual: value,
    });
  }
  return { name: CONFIG_PARAMETER, value };
}

function stageTask(run: StageRun): IDAGTask {
  return {
    name: run.name,
    template: run.stage,
    ...(run.upstream === null ? {} : { depends: `${run.upstream}.Succeeded` }),
    arguments: { parameters: [configParameter(run.document, `the ${run.stage} run ${run.key}`), { name: KEY_PARAMETER, value: run.key }] },
  };
}

/**
 * A stage's template: `ddinit study-run --stage <stage> --key <run key>`, which runs the stage
 * exactly as `ddinit <stage> --config` and records a failure (a divergence) beside the run's
 * output, where the merge, in another pod, finds it.
 */
function stageTemplate(stage: StudyStage, options: KubernetesOptions, overlay: Overlay): ITemplate {
  const args = ['study-run', '--stage', stage, '--key', `{{inputs.parameters.${KEY_PARAMETER}}}`];
  return commandTemplate(stage, options, overlay, args, templatePolicy(stage), [KEY_PARAMETER]);
}

/**
 * The runs split into parts of at most {@link MAX_DAG_TASKS} tasks, each part whole
 * trees: every run descends from one init run, so an init run and everything that
 * reads from it (directly or not) go into the same part and no dependency crosses parts.
 * Throws ConfigError for a tree larger than a part.
 */
export function partitionRuns(runs: readonly StageRun[]): StageRun[][] {
  const treeOf = new Map<string, StageRun[]>();
  const rootOf = new Map<string, string>();
  for (const run of runs) {
    const root = run.upstream === null ? run.name : (rootOf.get(run.upstream) as string);
    rootOf.set(run.name, root);
    treeOf.set(root, [...(treeOf.get(root) ?? []), run]);
  }
  const parts: StageRun[][] = [];
  for (const [root, tree] of treeOf) {
    if (tree.length > MAX_DAG_TASKS) {
      throw new ConfigError('too many stage runs share one init run for one DAG', {
        where: root,
        expected: `at most ${MAX_DAG_TASKS} runs reading from one init run (fewer pretrain or labelsPerClass values)`,
        actual: `${tree.length}`,
      });
    }
    const last = parts.at(-1);
    if (last !== undefined && last.length + tree.length <= MAX_DAG_TASKS) last.push(...tree);
    else parts.push([...tree]);
  }
  return parts;
}

/** The name of the DAG template (and the task) of part `index` (0-based). */
export function partName(index: number): string {
  return `cells-${index + 1}`;
}

/**
 * The Workflow's spec: the entry DAG runs every part and then the merge; each part
 * is a DAG of stage tasks; one template per stage the study uses, and the merge's.
 */
function workflowSpec(plan: StudyPlan, options: KubernetesOptions, overlay: Overlay): IWorkflowSpec {
  const stages = [...new Set(plan.runs.map((run) => run.stage))];
  const parts = partitionRuns(plan.runs);
  const partNames = parts.map((_, index) => partName(index));
  if (partNames.length + 1 > MAX_DAG_TASKS || partNames.length + stages.length + 2 > MAX_DAG_TASKS) {
    throw new ConfigError('the study has too many stage runs for one Workflow', {
      where: `study ${plan.study.name}`,
      expected: `at most ${MAX_DAG_TASKS - 7} parts of ${MAX_DAG_TASKS} runs (split the study, e.g. one per model)`,
      actual: `${plan.runs.length} runs in ${parts.length} parts`,
    });
  }
  const merge: IDAGTask = {
    name: MERGE_TEMPLATE,
    template: MERGE_TEMPLATE,
    depends: partNames.map(ended).join(' && '),
    arguments: { parameters: [configParameter(mergeDocument(plan.study), 'the merge')] },
  };
  return {
    entrypoint: STUDY_TEMPLATE,
    // Pods at once, as for a sweep's Indexed Job.
    parallelism: options.sweep.parallelism,
    ttlStrategy: { secondsAfterCompletion: options.ttlSecondsAfterFinished },
    ...(options.serviceAccountName === null ? {} : { serviceAccountName: options.serviceAccountName }),
    ...(options.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }),
    templates: [
      { name: STUDY_TEMPLATE, dag: { failFast: false, tasks: [...partNames.map((name) => ({ name, template: name })), merge] } },
      ...parts.map((runs, index) => ({ name: partNames[index], dag: { failFast: false, tasks: runs.map(stageTask) } })),
      ...stages.map((stage) => stageTemplate(stage, options, overlay)),
      mergeTemplate(options),
    ],
  };
}

/**
 * The study's Workflow (`generateName: <name>-<study>-`, so each `kubectl create`
 * or `argo submit` starts a new run) or WorkflowTemplate (`<name>-<study>`),
 * validated against the Argo Workflows schema.
 *
 * Throws ConfigError when the object does not validate or its spec is over
 * {@link MAX_WORKFLOW_SPEC_BYTES}.
 *
 * @example
 * const workflow = renderStudyWorkflow(planStudy(DEFAULT_STUDY), KubernetesOptions.parse({})); // study/cells.ts
 * workflow.spec.templates?.map((t) => t.name); // ['study', 'init', 'finetune', 'evaluate', 'merge']
 */
export function renderStudyWorkflow(plan: StudyPlan, options: KubernetesOptions, choices: WorkflowChoices = {}): Workflow | WorkflowTemplate {
  const spec = workflowSpec(plan, options, choices.overlay ?? options.overlay);
  const labels = { ...commonLabels(), 'app.kubernetes.io/component': 'study' };
  const name = `${options.name}-${plan.study.name}`;
  const object =
    choices.kind === 'WorkflowTemplate'
      ? new WorkflowTemplate({ metadata: { name, namespace: options.namespace, labels }, spec })
      : new Workflow({ metadata: { generateName: `${name}-`, namespace: options.namespace, labels }, spec });
  const bytes = Buffer.byteLength(JSON.stringify(spec));
  if (bytes > MAX_WORKFLOW_SPEC_BYTES) {
    throw new ConfigError('the study is too large for one Workflow', {
      where: `study ${plan.study.name}`,
      expected: `a spec of at most ${MAX_WORKFLOW_SPEC_BYTES} bytes (split the study, e.g. one per model)`,
      actual: `${bytes} bytes for ${plan.cells.length} cells and ${plan.runs.length} stage runs`,
    });
  }
  try {
    object.validate();
  } catch (error) {
    throw new ConfigError('the rendered Workflow does not match the Argo Workflows schema', {
      where: `${object.kind} ${name}`,
      expected: 'an object the Argo Workflows API accepts',
      actual: (error as Error).message,
      cause: error,
    });
  }
  return object;
}
