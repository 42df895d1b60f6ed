/** Kubernetes rendering of the pipeline: options schema, sweeps, typed manifests, the `k8s` command. */
export { registerK8sCommand } from './command';
export type { K8sCommandIo } from './command';
export { renderConfigMap } from './config-map-manifest';
export { SWEEP_RUN_COMMAND, renderPodTemplate, renderStageJob, renderSweepJob } from './job-manifest';
export {
  BACKEND_CHOICES,
  CONFIG_PATH,
  CONTAINER_NAME,
  CpuOptions,
  DEFAULT_SWEEP_AXES,
  GpuOptions,
  KubernetesOptions,
  OVERLAYS,
  ResourceOptions,
  STAGES,
  SweepOptions,
  Toleration,
  kubernetesOptionsOf,
} from './kubernetes-options';
export type { KubernetesOptionsInput, Overlay, Stage, SweepValue } from './kubernetes-options';
export { configMapName, jobName } from './object-names';
export { readPipelineDocument } from './pipeline-document';
export { manifestsToYaml, renderManifests } from './render-manifests';
export { parseManifests } from './parse-manifests';
export { listJobViolations } from './job-invariants';
export { kubectlPath, kustomizeBuild } from './kustomize-build';
export type { KustomizeResult } from './kustomize-build';
export type { RenderChoices, RenderedObject } from './render-manifests';
export { renderS3Secret } from './s3-secret-manifest';
export {
  COMPLETION_INDEX_ENV,
  applySweepAssignment,
  completionIndexFromEnv,
  listSweepAssignments,
  selectSweepRun,
  sweepAssignmentAt,
  sweepRunName,
  sweepSize,
} from './sweep';
export type { SweepAssignment, SweepRun } from './sweep';
