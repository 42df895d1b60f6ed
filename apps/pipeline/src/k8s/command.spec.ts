import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { Command } from 'commander';
import type { IJob } from 'kubernetes-models/batch/v1';
import { registerInitCommand } from '../commands/init-command';
import { registerPretrainCommand } from '../commands/pretrain-command';
import { registerFinetuneCommand } from '../commands/finetune-command';
import { registerEvaluateCommand } from '../commands/evaluate-command';
import { main } from '../main';
import { registerK8sCommand, type K8sCommandIo } from './command';
import { listJobViolations } from './job-invariants';
import { STAGES } from './kubernetes-options';
import { parseManifests } from './parse-manifests';

const repoRoot = resolve(import.meta.dirname, '../../../..');
const baseConfigPath = join(repoRoot, 'k8s/base/config.yaml');
const scratch = mkdtempSync(join(tmpdir(), 'ddinit-k8s-command-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Runs `ddinit <argv>` with only the k8s command, capturing stdout and stderr. */
async function run(argv: string[], env: K8sCommandIo['env'] = {}) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const io: K8sCommandIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env };
  const code = await main(argv, [(program) => registerK8sCommand(program, io)]);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

function writeScratch(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

describe('ddinit k8s render', () => {
  it('prints the ConfigMap and the GPU Job of the config as multi-document YAML', async () => {
    const { code, stdout, stderr } = await run(['k8s', 'render', '--config', baseConfigPath]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const objects = parseManifests(stdout);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ConfigMap/ddinit-config', 'Job/ddinit-init']);
    expect(JSON.stringify(objects[1].toJSON())).toContain('nvidia.com/gpu');
  });

  it('takes --overlay, --stage and --sweep, and reads JSON configs', async () => {
    const json = writeScratch('config.json', JSON.stringify({ out: 'artifacts', kubernetes: { sweep: { axes: { seed: [1, 2, 3] } } } }));
    const { code, stdout } = await run(['k8s', 'render', '--config', json, '--overlay', 'cpu', '--stage', 'init', '--sweep']);
    expect(code).toBe(0);
    const job = parseManifests(stdout)[1].toJSON() as { metadata: { name: string }; spec: Record<string, unknown> };
    expect(job.metadata.name).toBe('ddinit-init-sweep');
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3 });
    expect(stdout).not.toContain('nvidia.com/gpu');
  });

  it('offers only stages whose command the pod can run', async () => {
    const program = new Command();
    registerInitCommand(program);
    registerPretrainCommand(program);
    registerFinetuneCommand(program);
    registerEvaluateCommand(program);
    registerK8sCommand(program);
    const commands = program.commands.map((c) => c.name());
    for (const stage of STAGES) expect(commands, `ddinit ${stage}`).toContain(stage);
    const sweepRun = program.commands.find((c) => c.name() === 'sweep-run');
    expect(sweepRun?.options.find((o) => o.long === '--stage')?.argChoices).toEqual([...STAGES]);

    const { code, stderr } = await run(['k8s', 'render', '--config', baseConfigPath, '--stage', 'compare']);
    expect(code).toBe(2);
    expect(stderr).toContain("argument 'compare' is invalid. Allowed choices are init, pretrain, finetune, evaluate.");
    const config = writeScratch('compare.json', JSON.stringify({ kubernetes: { stage: 'compare' } }));
    const fromConfig = await run(['k8s', 'render', '--config', config]);
    expect(fromConfig.code).toBe(2);
    expect(fromConfig.stderr).toContain('stage');
  });

  it('renders the pretrain Job with --stage pretrain: its command, retries and grace period', async () => {
    const { code, stdout } = await run(['k8s', 'render', '--config', baseConfigPath, '--stage', 'pretrain', '--overlay', 'cpu']);
    expect(code).toBe(0);
    const job = parseManifests(stdout)[1].toJSON() as IJob;
    expect(job.metadata?.name).toBe('ddinit-pretrain');
    expect(job.spec?.template.spec?.containers[0].args).toEqual(['pretrain', '--config', '/etc/ddinit/config.yaml', '--backend', 'auto']);
    expect(job.spec?.backoffLimit).toBe(4);
    expect(job.spec?.template.spec?.terminationGracePeriodSeconds).toBe(120);
    expect(listJobViolations(job)).toEqual([]);
  });

  it('renders the finetune Job (checkpointing: 4 retries, 120 s of grace) and the evaluate Job (init’s policy) with --stage', async () => {
    for (const [stage, backoffLimit, grace] of [
      ['finetune', 4, 120],
      ['evaluate', 2, 30],
    ] as const) {
      const { code, stdout } = await run(['k8s', 'render', '--config', baseConfigPath, '--stage', stage, '--overlay', 'gpu']);
      expect(code).toBe(0);
      const job = parseManifests(stdout)[1].toJSON() as IJob;
      expect(job.metadata?.name).toBe(`ddinit-${stage}`);
      expect(job.spec?.template.spec?.containers[0].args).toEqual([stage, '--config', '/etc/ddinit/config.yaml', '--backend', 'node-gpu']);
      expect(job.spec?.backoffLimit).toBe(backoffLimit);
      expect(job.spec?.template.spec?.terminationGracePeriodSeconds).toBe(grace);
      expect(listJobViolations(job)).toEqual([]);
    }
  });

  it('suggests the closest key for a misspelt one in the kubernetes section', async () => {
    const config = writeScratch('typo.json', JSON.stringify({ kubernetes: { imag: 'registry.example.com/ddinit:1', sweep: { axis: {} } } }));
    for (const command of ['render', 'sweep']) {
      const { code, stderr } = await run(['k8s', command, '--config', config]);
      expect(code).toBe(2);
      expect(stderr).toContain(`Unrecognized key "imag" in config file ${config}: did you mean "image"?`);
      expect(stderr).toContain(`Unrecognized key "axis" in config file ${config}: did you mean "axes"?`);
    }
  });

  it('writes to --out, and renders the Secret from the environment with --secret-from-env (file mode 600)', async () => {
    const out = join(scratch, 'manifests.yaml');
    // A world-readable file of the same name already there must not stay world-readable.
    writeFileSync(out, 'old', { mode: 0o644 });
    const env = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key', AWS_REGION: 'us-east-1' };
    const { code, stdout } = await run(['k8s', 'render', '--config', baseConfigPath, '--secret-from-env', '--out', out], env);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const objects = parseManifests(readFileSync(out, 'utf8'));
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'Secret', 'Job']);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(scratch).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('exits 2 with the pretty zod message for a bad kubernetes section', async () => {
    const bad = writeScratch('bad.yaml', 'model: x\nkubernetes:\n  gpu:\n    count: 0\n  imagee: y\n');
    const { code, stderr, stdout } = await run(['k8s', 'render', '--config', bad]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('invalid configuration');
    expect(stderr).toContain(`Unrecognized key "imagee" in config file ${bad}: did you mean "image"?`);
    expect(stderr).toMatch(/at kubernetes\.gpu\.count/);
  });

  it('exits 2 naming the file when it is missing, does not parse, or is not a mapping', async () => {
    const missing = await run(['k8s', 'render', '--config', join(scratch, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml: cannot read the config file .*ENOENT/);
    const broken = await run(['k8s', 'render', '--config', writeScratch('broken.yaml', 'a: [1, 2\n')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.yaml: the config file does not parse \(expected YAML/);
    const list = await run(['k8s', 'render', '--config', writeScratch('list.yaml', '- 1\n- 2\n')]);
    expect(list.stderr).toMatch(/list\.yaml: the config file must hold a mapping .*got a list/);
    const missingSecret = await run(['k8s', 'render', '--config', baseConfigPath, '--secret-from-env'], {});
    expect(missingSecret.code).toBe(2);
    expect(missingSecret.stderr).toMatch(/AWS_ACCESS_KEY_ID: an S3 credential is missing/);
  });

  it('exits 2 for an unknown overlay or stage, and 0 for --help', async () => {
    expect((await run(['k8s', 'render', '--config', baseConfigPath, '--overlay', 'tpu'])).code).toBe(2);
    expect((await run(['k8s', 'render', '--config', baseConfigPath, '--stage', 'train'])).code).toBe(2);
    const help = await run(['k8s', 'render', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--sweep');
  });
});

describe('ddinit k8s render --workflow', () => {
  it('renders the default study without a config, warning that its out is not in a bucket', async () => {
    const { code, stdout, stderr } = await run(['k8s', 'render', '--workflow']);
    expect(code).toBe(0);
    const workflow = parse(stdout) as { kind: string; metadata: { generateName: string }; spec: { templates: { name: string }[] } };
    expect(workflow.kind).toBe('Workflow');
    expect(workflow.metadata.generateName).toBe('ddinit-study-');
    expect(workflow.spec.templates.map((t) => t.name)).toEqual(['study', 'cells-1', 'init', 'finetune', 'evaluate', 'merge']);
    expect(stderr).toBe(
      "warning: the study's out is artifacts/study, not an s3:// location: pods share only the bucket, so the stages cannot find each other's artifacts\n",
    );
  });

  it('renders every study file in docs/studies, and docs/studies/voc07-caffenet.workflow.yaml is the current rendering of its study', async () => {
    const studies = resolve(import.meta.dirname, '../../../../docs/studies');
    for (const file of readdirSync(studies).filter((name) => name.endsWith('.yaml') && !name.endsWith('.workflow.yaml'))) {
      const { code, stderr } = await run(['k8s', 'render', '--workflow', '--config', join(studies, file)]);
      expect(code, `${file}: ${stderr}`).toBe(0);
    }
    const { stdout } = await run(['k8s', 'render', '--workflow', '--config', join(studies, 'voc07-caffenet.yaml')]);
    const committed = readFileSync(join(studies, 'voc07-caffenet.workflow.yaml'), 'utf8');
    expect(
      committed === stdout,
      'regenerate with: ddinit k8s render --workflow --config docs/studies/voc07-caffenet.yaml --out docs/studies/voc07-caffenet.workflow.yaml',
    ).toBe(true);
  });

  it('renders a study file as a WorkflowTemplate on CPU nodes, with the Secret first when asked', async () => {
    const study = writeScratch(
      'study.yaml',
      'name: fm\ndata: s3://b/datasets/fm\nout: s3://b/studies/fm\ninit: [he-normal, lsuv]\nseed: [1]\nkubernetes: { image: registry.example.com/ddinit:0.2.0 }\n',
    );
    const env = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key', AWS_REGION: 'us-east-1' };
    const { code, stdout, stderr } = await run(['k8s', 'render', '--workflow-template', '--config', study, '--overlay', 'cpu', '--secret-from-env'], env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [secret, template] = stdout.split('---\n').map((text) => parse(text) as { kind: string; metadata: { name: string } });
    expect(secret.kind).toBe('Secret');
    expect(template).toMatchObject({ kind: 'WorkflowTemplate', metadata: { name: 'ddinit-fm' } });
    expect(stdout).toContain('registry.example.com/ddinit:0.2.0');
    expect(stdout).not.toContain('nvidia.com/gpu');
  });

  it('exits 2 naming a baseline off the init axis, a misspelt key, or --stage given with it', async () => {
    const offAxis = await run(['k8s', 'render', '--workflow', '--config', writeScratch('off.yaml', 'init: [he-normal]\nbaseline: lsuv\n')]);
    expect(offAxis.code).toBe(2);
    expect(offAxis.stderr).toContain('the baseline lsuv is not on the init axis (he-normal)');
    const typo = writeScratch('typo-study.yaml', 'seeds: [1]\n');
    const misspelt = await run(['k8s', 'render', '--workflow', '--config', typo]);
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toContain(`Unrecognized key "seeds" in study file ${typo}: did you mean "seed"?`);
    const withStage = await run(['k8s', 'render', '--workflow', '--stage', 'init']);
    expect(withStage.code).toBe(2);
    expect(withStage.stderr).toContain('--stage: --workflow renders every stage of a study');
    const noConfig = await run(['k8s', 'render']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('--config: k8s render needs a pipeline config');
  });
});

describe('ddinit k8s render --sweep --study', () => {
  it("renders a study's cells as an Indexed Job and its merge Job, the default study without a file", async () => {
    const study = writeScratch('sweep-study.yaml', 'name: fm\ndata: s3://b/datasets/fm\nout: s3://b/studies/fm\ninit: [he-normal, lsuv]\nseed: [1]\n');
    const { code, stdout, stderr } = await run(['k8s', 'render', '--sweep', '--study', study, '--overlay', 'cpu']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const objects = parseManifests(stdout);
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ConfigMap/ddinit-fm-config', 'Job/ddinit-fm-cells', 'Job/ddinit-fm-merge']);
    expect((objects[1].toJSON() as IJob).spec?.completions).toBe(2);
    const defaults = await run(['k8s', 'render', '--sweep', '--study']);
    expect(defaults.code).toBe(0);
    expect(parseManifests(defaults.stdout).map((o) => o.metadata?.name)).toEqual(['ddinit-study-config', 'ddinit-study-cells', 'ddinit-study-merge']);
    expect(defaults.stderr).toContain("warning: the study's out is artifacts/study, not an s3:// location");
  });

  it('exits 2 for --study without --sweep, or with --config', async () => {
    const alone = await run(['k8s', 'render', '--study']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--study: --study renders the Indexed Job of a study’s cells');
    const both = await run(['k8s', 'render', '--sweep', '--study', '--config', baseConfigPath]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--config: --study renders the Indexed Job');
  });
});

describe('the removed within and calibrate keys', () => {
  it('render and sweep refuse a config using them (exit 2), naming the file and the equivalent init, before any pod would', async () => {
    const old = writeScratch('old.yaml', 'out: s3://b/runs\nwithin: zca\ncalibrate: false\n');
    for (const command of ['render', 'sweep']) {
      const { code, stderr } = await run(['k8s', command, '--config', old]);
      expect(code, command).toBe(2);
      expect(stderr).toContain(`within, calibrate (config file ${old}): within and calibrate were replaced by one key, init`);
      expect(stderr).toContain('expected init: ddinit-zca, got within: zca, calibrate: false');
    }
    const axis = writeScratch('old-axis.yaml', 'out: s3://b/runs\nkubernetes: { sweep: { axes: { within: [pca, zca] } } }\n');
    const { code, stderr } = await run(['k8s', 'sweep', '--config', axis]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/"within" was replaced by "init"/);
  });
});

describe('ddinit k8s sweep', () => {
  it('lists the configuration of every completion index', async () => {
    const { code, stdout } = await run(['k8s', 'sweep', '--config', baseConfigPath]);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1 + 51);
    expect(lines[1]).toBe('0\tinit=glorot-uniform,seed=0');
    expect(lines[51]).toBe('50\tinit=ddinit-patches+calibration,seed=2');
    const config = parse(readFileSync(baseConfigPath, 'utf8')) as { kubernetes: { sweep: { axes: Record<string, unknown[]> } } };
    expect(Object.keys(config.kubernetes.sweep.axes)).toEqual(['init', 'seed']);
  });
});
