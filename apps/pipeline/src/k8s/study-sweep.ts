/**
 * A comparison study as Kubernetes Indexed Jobs, for clusters without Argo
 * Workflows: completion index `i` runs cell group `i` (`ddinit compare --indexed`),
 * then a merge Job writes the comparison report (`ddinit compare --merge`).
 *
 * A group is every cell that reads the same init run, in plan order. Cells of one
 * group share stage runs (the init run; a pretrain run shared across label counts),
 * and two pods writing one output at once would race; cells of different groups
 * share nothing, so the pods never touch each other's outputs. Without shared runs
 * (one pretrain setting and one label count) a group is one cell.
 *
 * Kubernetes has no dependencies between Jobs, so the merge Job is rendered suspended
 * (`spec.suspend: true`) and resumed once the cells' Job has ended, however it ended
 * (docs/kubernetes.md, "A study without Argo"); a failed cell is a note in the report.
 */
import { ConfigError } from '@ddinit/core/base';
import { Job } from 'kubernetes-models/batch/v1';
import type { StudyPlan } from '../study/cells';
import { mergeDocument } from '../study/stage-documents';
import { renderConfigMap } from './config-map-manifest';
import { indexedJobSpec, podFailurePolicy, renderPodTemplate } from './job-manifest';
import type { KubernetesOptions, Overlay } from './kubernetes-options';
import { commonLabels, MAX_JOB_NAME_LENGTH } from './object-names';
import { validated, type RenderedObject } from './render-manifests';

/** The cell groups of `plan`: 0-based cell positions, one list per init run, in plan order. */
export function cellGroups(plan: StudyPlan): number[][] {
  const groups = new Map<string, number[]>();
  plan.cells.forEach((cell, index) => {
    const init = cell.chain[0];
    groups.set(init, [...(groups.get(init) ?? []), index]);
  });
  return [...groups.values()];
}

/**
 * The cells of group `index`.
 * @throws ConfigError when `index` is not a group of the study (`where` names the flag or variable it came from).
 */
export function cellsOfGroup(plan: StudyPlan, index: number, where: string): number[] {
  const groups = cellGroups(plan);
  if (!Number.isInteger(index) || index < 0 || index >= groups.length) {
    throw new ConfigError('no such cell group in the study', { where, expected: `an integer in [0, ${groups.length - 1}]`, actual: index });
  }
  return groups[index];
}

/** `<kubernetes.name>-<study name>`: the prefix of the study's objects, so two studies in one namespace stay apart. */
function studyPrefix(options: KubernetesOptions, plan: StudyPlan, suffix: string): string {
  const name = `${options.name}-${plan.study.name}-${suffix}`;
  if (name.length > MAX_JOB_NAME_LENGTH) {
    throw new ConfigError('the Job name is longer than Kubernetes allows', {
      where: 'kubernetes.name and the study name',
      expected: `names that keep the Job name "${name}" within ${MAX_JOB_NAME_LENGTH} characters`,
      actual: `${name.length} characters`,
    });
  }
  return name;
}

/**
 * The study's objects for clusters without Argo: the ConfigMap with the study (every
 * default written out), the Indexed Job whose index `i` runs cell group `i`
 * (`ddinit compare --indexed`), and the merge Job (`ddinit compare --merge`), suspended.
 * Throws ConfigError for names over 63 characters or an object the Kubernetes schema rejects.
 *
 * @example
 * renderStudySweep(planStudy(DEFAULT_STUDY), KubernetesOptions.parse({}), 'cpu').map((o) => o.metadata?.name);
 * // ['ddinit-study-config', 'ddinit-study-cells', 'ddinit-study-merge']
 */
export function renderStudySweep(plan: StudyPlan, options: KubernetesOptions, overlay: Overlay): RenderedObject[] {
  const named: KubernetesOptions = { ...options, name: `${options.name}-${plan.study.name}` };
  const labels = (component: string) => ({ ...commonLabels(), 'app.kubernetes.io/component': component });
  // The cells' pods fine-tune: the finetune stage's grace period; the merge trains nothing and runs on a CPU node.
  const cellsPod = renderPodTemplate(named, overlay, 'finetune', ['compare', '--indexed'], options.activeDeadlineSeconds);
  const mergePod = renderPodTemplate({ ...named, resources: { cpu: '1', memory: '2Gi' } }, 'cpu', 'evaluate', ['compare', '--merge']);
  const cells = new Job({
    metadata: { name: studyPrefix(options, plan, 'cells'), namespace: options.namespace, labels: labels('study-cells') },
    spec: indexedJobSpec(options, cellGroups(plan).length, { ...cellsPod, metadata: { labels: labels('study-cells') } }),
  });
  const merge = new Job({
    metadata: { name: studyPrefix(options, plan, 'merge'), namespace: options.namespace, labels: labels('study-merge') },
    spec: {
      suspend: true,
      backoffLimit: 2,
      podFailurePolicy: podFailurePolicy('FailJob'),
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      ...(options.activeDeadlineSeconds === null ? {} : { activeDeadlineSeconds: options.activeDeadlineSeconds }),
      template: { ...mergePod, metadata: { labels: labels('study-merge') } },
    },
  });
  const objects: RenderedObject[] = [renderConfigMap(mergeDocument(plan.study), named), cells, merge];
  return validated(objects);
}
