/**
 * `ddinit k8s …`: Kubernetes objects from a pipeline config.
 *
 *   ddinit k8s render --config <file.yaml|json> [--overlay gpu|cpu] [--stage init]
 *                     [--sweep] [--secret-from-env] [--out <file>]
 *   ddinit k8s render --workflow [--config <study.yaml>] [--overlay gpu|cpu]
 *                     [--workflow-template] [--secret-from-env] [--out <file>]
 *   ddinit k8s render --sweep --study [<study.yaml>] [--overlay gpu|cpu] [--secret-from-env] [--out <file>]
 *   ddinit k8s sweep  --config <file>      which configuration each completion index runs
 *
 * `render` prints multi-document YAML for `kubectl apply -f -`: the ConfigMap with
 * the config, the Secret with the S3 credentials of this shell (only with
 * `--secret-from-env`), and the stage's Job or, with `--sweep`, the sweep's
 * Indexed Job. With `--workflow` the config is a comparison study (study/study-config.ts;
 * none: the default study) and the output its Argo Workflow (workflow-manifest.ts); with
 * `--sweep --study` the study's Indexed Job and suspended merge Job, for clusters without Argo (study-sweep.ts).
 * A bad `kubernetes:` section is a ZodError (a misspelt key names the
 * closest known one) and a bad file a ConfigError, which `main` turns into exit code 2
 * with the message.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError, StorageError } from '@ddinit/core';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { ZodError } from 'zod';
import { explainUnknownKeys } from '../config/key-suggestions';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { planStudy } from '../study/cells';
import { loadStudyConfig } from '../study/load-study';
import type { StudyConfig } from '../study/study-config';
import { KubernetesOptions, OVERLAYS, STAGES, kubernetesOptionsOf, type Overlay, type Stage } from './kubernetes-options';
import { rejectRemovedKeys } from '../config/removed-keys';
import { readPipelineDocument } from './pipeline-document';
import { manifestsToYaml, renderManifests } from './render-manifests';
import { renderS3Secret } from './s3-secret-manifest';
import { listSweepAssignments, sweepRunName } from './sweep';
import { renderStudySweep } from './study-sweep';
import { renderStudyWorkflow } from './workflow-manifest';

/** What the commands touch outside themselves; tests pass their own. */
export interface K8sCommandIo {
  stdout: { write(text: string): unknown };
  /** Warnings (a study whose locations are not in a bucket). */
  stderr?: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

const processIo: K8sCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  get env() {
    return process.env;
  },
};

interface RenderFlags {
  config?: string;
  workflow?: boolean;
  workflowTemplate?: boolean;
  overlay?: Overlay;
  stage?: Stage;
  sweep?: boolean;
  /** With --sweep: the study file whose cells the Indexed Job runs (true: the default study). */
  study?: string | true;
  secretFromEnv?: boolean;
  out?: string;
}

/**
 * Writes `text` to `path` with exactly `mode`, also when `path` exists: `mode`
 * of writeFileSync applies only to a new file, and a Secret rendered over a
 * world-readable file must not stay world-readable. A temporary file made with
 * the mode is renamed over the path.
 */
function writeWithMode(path: string, text: string, mode: number): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    writeFileSync(temporary, text, { mode, flag: 'wx' });
    chmodSync(temporary, mode); // the umask may have cleared bits of `mode`
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The `kubernetes:` section of the config file at `path`; a misspelt key gets a "did you mean". */
function kubernetesSection(path: string, pipelineConfig: Record<string, unknown>): KubernetesOptions {
  // A removed key would render a ConfigMap every pod then refuses.
  rejectRemovedKeys(pipelineConfig, () => `config file ${path}`);
  try {
    return kubernetesOptionsOf(pipelineConfig);
  } catch (error) {
    throw error instanceof ZodError ? explainUnknownKeys(error, PipelineConfigSchema, () => `config file ${path}`) : error;
  }
}

/** Prints `yaml`, or writes it to `--out` (mode 600 when it holds a Secret). */
function emit(yaml: string, flags: RenderFlags, io: K8sCommandIo): void {
  if (flags.out === undefined) {
    io.stdout.write(yaml);
    return;
  }
  try {
    writeWithMode(flags.out, yaml, flags.secretFromEnv ? 0o600 : 0o644);
  } catch (error) {
    throw new StorageError('cannot write the manifests', {
      where: flags.out,
      expected: 'a writable file path',
      actual: (error as NodeJS.ErrnoException).code ?? String(error),
      cause: error,
    });
  }
}

function runRender(flags: RenderFlags, io: K8sCommandIo): void {
  if (flags.workflow === true || flags.workflowTemplate === true) {
    runRenderWorkflow(flags, io);
    return;
  }
  if (flags.study !== undefined) {
    runRenderStudySweep(flags, io);
    return;
  }
  if (flags.config === undefined) {
    throw new ConfigError('k8s render needs a pipeline config', {
      where: '--config',
      expected: 'a YAML or JSON file (or --workflow, whose default is the default study)',
      actual: 'missing',
    });
  }
  const config = flags.config;
  const pipelineConfig = readPipelineDocument(config);
  const options = kubernetesSection(config, pipelineConfig);
  const objects = renderManifests(pipelineConfig, options, {
    overlay: flags.overlay,
    stage: flags.stage,
    sweep: flags.sweep === true,
    secretEnv: flags.secretFromEnv === true ? io.env : undefined,
  });
  emit(manifestsToYaml(objects), flags, io);
}

/** Pods of a study share only the bucket: warns when the study's data or out is a local path. */
function warnLocalStudy(study: StudyConfig, io: K8sCommandIo): void {
  for (const [key, value] of [['data', study.data] as const, ['out', study.out] as const]) {
    if (!value.startsWith('s3://') && !(key === 'data' && value === 'embedded')) {
      io.stderr?.write(
        `warning: the study's ${key} is ${value}, not an s3:// location: pods share only the bucket, so the stages cannot find each other's artifacts\n`,
      );
    }
  }
}

/** `--sweep --study`: the study as an Indexed Job of cell groups and a suspended merge Job (k8s/study-sweep.ts). */
function runRenderStudySweep(flags: RenderFlags, io: K8sCommandIo): void {
  if (flags.sweep !== true || flags.stage !== undefined || flags.config !== undefined) {
    throw new ConfigError('--study renders the Indexed Job of a study’s cells', {
      where: flags.sweep !== true ? '--study' : flags.stage !== undefined ? '--stage' : '--config',
      expected: '--sweep --study [study.yaml], without --stage or --config',
      actual: flags.sweep !== true ? 'no --sweep' : flags.stage !== undefined ? `--stage ${flags.stage}` : `--config ${flags.config}`,
    });
  }
  const study = loadStudyConfig(flags.study === true ? undefined : flags.study);
  const options = study.kubernetes ?? KubernetesOptions.parse({});
  const objects = renderStudySweep(planStudy(study), options, flags.overlay ?? options.overlay);
  warnLocalStudy(study, io);
  emit(manifestsToYaml([...(flags.secretFromEnv === true ? [renderS3Secret(options, io.env)] : []), ...objects]), flags, io);
}

/** `--workflow`: the study's Argo Workflow (or WorkflowTemplate), with the S3 Secret first if asked for. */
function runRenderWorkflow(flags: RenderFlags, io: K8sCommandIo): void {
  if (flags.stage !== undefined || flags.sweep === true) {
    throw new ConfigError('--workflow renders every stage of a study', {
      where: flags.sweep === true ? '--sweep' : '--stage',
      expected: 'no --stage or --sweep with --workflow',
      actual: flags.sweep === true ? '--sweep' : `--stage ${flags.stage}`,
    });
  }
  const study = loadStudyConfig(flags.config);
  const options = study.kubernetes ?? KubernetesOptions.parse({});
  const workflow = renderStudyWorkflow(planStudy(study), options, {
    overlay: flags.overlay,
    kind: flags.workflowTemplate === true ? 'WorkflowTemplate' : 'Workflow',
  });
  warnLocalStudy(study, io);
  const documents = [...(flags.secretFromEnv === true ? [renderS3Secret(options, io.env).toJSON()] : []), workflow.toJSON()];
  emit(documents.map((document) => stringify(document, { lineWidth: 0 })).join('---\n'), flags, io);
}

function runSweepList(flags: { config: string }, io: K8sCommandIo): void {
  const pipelineConfig = readPipelineDocument(flags.config);
  const { axes } = kubernetesSection(flags.config, pipelineConfig).sweep;
  const lines = listSweepAssignments(axes).map((assignment, index) => `${index}\t${sweepRunName(assignment)}`);
  io.stdout.write(`index\tconfiguration\n${lines.join('\n')}\n`);
}

/**
 * Adds `k8s render` and `k8s sweep` to the program.
 *
 * @example
 * registerK8sCommand(program);
 * await program.parseAsync(['k8s', 'render', '--config', 'k8s/base/config.yaml', '--overlay', 'cpu'], { from: 'user' });
 */
export function registerK8sCommand(program: Command, io: K8sCommandIo = processIo): void {
  const k8s = program
    .command('k8s')
    .description('Kubernetes objects (ConfigMap, Secret, Jobs, Indexed Jobs for sweeps) from a pipeline config; Argo Workflows for studies');

  k8s
    .command('render')
    .description('print the Kubernetes objects of one stage or sweep, or the Argo Workflow of a study, as multi-document YAML')
    .option('--config <file>', 'pipeline config (with --workflow: study config), YAML or JSON, with an optional `kubernetes:` section')
    .addOption(new Option('--overlay <overlay>', 'GPU or CPU nodes (default: kubernetes.overlay)').choices(OVERLAYS))
    .addOption(new Option('--stage <stage>', 'the stage the Job runs (default: kubernetes.stage)').choices(STAGES))
    .option('--sweep', 'render the Indexed Job of kubernetes.sweep instead of a single Job')
    .option('--study [file]', "with --sweep: a study's cells as an Indexed Job, one group of cells per index, and its merge Job (default: the default study)")
    .option('--workflow', 'render the Argo Workflow of the comparison study in --config (default: the default study)')
    .option('--workflow-template', 'like --workflow, as a WorkflowTemplate for `argo submit --from workflowtemplate/<name>`')
    .option('--secret-from-env', 'also render the S3 Secret from AWS_* variables of this shell')
    .option('--out <file>', 'write the YAML to a file instead of stdout')
    .action((flags: RenderFlags) => runRender(flags, io));

  k8s
    .command('sweep')
    .description('list which configuration each completion index of the sweep runs')
    .requiredOption('--config <file>', 'pipeline config with a `kubernetes.sweep` section (or its defaults)')
    .action((flags: { config: string }) => runSweepList(flags, io));
}
