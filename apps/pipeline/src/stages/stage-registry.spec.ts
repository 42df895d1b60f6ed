/**
 * The stage registry is the one list the CLI, the Kubernetes renderer and the
 * config read: every name has its definition, each command and Job follows it,
 * and a stage's configuration comes from a pipeline config the documented way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerInitCommand } from '../commands/init-command';
import { registerPretrainCommand } from '../commands/pretrain-command';
import { registerFinetuneCommand } from '../commands/finetune-command';
import { registerEvaluateCommand } from '../commands/evaluate-command';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { renderStageJob } from '../k8s/job-manifest';
import { KubernetesOptions, STAGES } from '../k8s/kubernetes-options';
import { COMMANDS, main } from '../main';
import { pretrainStage } from './pretrain-stage';
import { STAGE_NAMES, STAGE_REGISTRY, stageDefinition } from './stage-registry';

describe('the stage registry', () => {
  it('has one definition per stage name, and the Kubernetes section offers exactly those stages', () => {
    expect(Object.keys(STAGE_REGISTRY)).toEqual([...STAGE_NAMES]);
    for (const name of STAGE_NAMES) expect(stageDefinition(name).name).toBe(name);
    expect([...STAGES]).toEqual([...STAGE_NAMES]);
  });

  it('gives each command its description, and each Job its command, retries and grace period', () => {
    const program = new Command();
    registerInitCommand(program);
    registerPretrainCommand(program);
    registerFinetuneCommand(program);
    registerEvaluateCommand(program);
    const options = KubernetesOptions.parse({});
    for (const name of STAGE_NAMES) {
      const definition = stageDefinition(name);
      expect(program.commands.find((c) => c.name() === name)?.description()).toBe(definition.summary);
      expect(COMMANDS.find((c) => c.name === name)?.summary).toBe(definition.summary);
      const job = renderStageJob(options, 'cpu', name);
      expect(job.spec?.template.spec?.containers[0].args?.[0]).toBe(name);
      expect(job.spec?.backoffLimit).toBe(definition.job.backoffLimit);
      expect(job.spec?.template.spec?.terminationGracePeriodSeconds).toBe(definition.job.terminationGracePeriodSeconds);
    }
    // The config's own backoffLimit wins over the stage's.
    expect(renderStageJob(KubernetesOptions.parse({ backoffLimit: 7 }), 'cpu', 'pretrain').spec?.backoffLimit).toBe(7);
  });
});

describe('pretrain configuration from a pipeline config', () => {
  const document = { data: '/data/fm', seed: 3, out: 'runs/init', pretrain: { steps: 20, seed: 5, out: 'runs/pretrain' } };
  const pipeline = PipelineConfigSchema.parse(document);

  it('takes the pretrain section over the top level (data, split, seed, force) over the defaults, and flags over all', () => {
    const config = pretrainStage.configFrom(pipeline, document, { batchSize: 4, steps: undefined });
    expect(config).toMatchObject({ data: '/data/fm', split: 'train', seed: 5, steps: 20, batchSize: 4, out: 'runs/pretrain', force: false });
    expect(config.from).toBeUndefined();
    expect(pretrainStage.configFrom(pipeline, document, { seed: 9 }).seed).toBe(9);
  });

  it("without from or baseline, reads the config's init stage at its out, by configuration hash", () => {
    const [input] = pretrainStage.artifacts(pretrainStage.configFrom(pipeline, document, {}), pipeline);
    expect(input).toMatchObject({ name: 'init', stage: 'init', location: 'runs/init', key: 'out', expect: { kind: 'config', config: pipeline } });
    const named = pretrainStage.artifacts(pretrainStage.configFrom(pipeline, document, { from: 's3://b/init' }), pipeline);
    expect(named).toEqual([{ name: 'init', stage: 'init', location: 's3://b/init', key: 'from', expect: { kind: 'any' } }]);
    expect(pretrainStage.artifacts(pretrainStage.configFrom(pipeline, document, { baseline: 'glorot-uniform' }), pipeline)).toEqual([]);
  });

  it('hashes the init by its hash, not its location, and a baseline by its method, model and sample', () => {
    const a = pretrainStage.definingConfig(pretrainStage.configFrom(pipeline, document, { from: 'a' }));
    const b = pretrainStage.definingConfig(pretrainStage.configFrom(pipeline, document, { from: 'b', out: 'elsewhere' }));
    expect(a).toEqual(b);
    expect(a).not.toHaveProperty('model');
    const baseline = pretrainStage.definingConfig(pretrainStage.configFrom(pipeline, document, { baseline: 'he-normal' }));
    expect(baseline).toMatchObject({ baseline: 'he-normal', model: 'caffenet-small', modelOptions: {}, sample: 256 });
  });

  it('refuses a misspelt key in the section, naming it', () => {
    expect(() => PipelineConfigSchema.parse({ pretrain: { stepz: 3 } })).toThrow(/stepz/);
    expect(() => PipelineConfigSchema.parse({ pretrain: { from: 'x', baseline: 'he-normal' } })).toThrow(/choose one source of the network/);
  });
});

describe('ddinit sweep-run --stage pretrain', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'ddinit-sweep-pretrain-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("runs the pretrain stage of the completion index's configuration", async () => {
    const config = join(scratch, 'sweep.json');
    const sweep = { axes: { 'pretrain.from': ['no-init-a', 'no-init-b'] }, outKey: 'pretrain.out' };
    writeFileSync(config, JSON.stringify({ pretrain: { out: join(scratch, 'runs') }, kubernetes: { sweep } }));
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: { JOB_COMPLETION_INDEX: '1' } };
    const code = await main(['sweep-run', '--stage', 'pretrain', '--config', config, '--backend', 'wasm'], [(program) => registerInitCommand(program, io)]);
    vi.restoreAllMocks();
    // Index 1 is the second value; the pretrain stage looked for its init artifact there and said so.
    expect(code).toBe(2);
    expect(stderr).toMatch(/^ddinit: from file:\/\/.*\/no-init-b: no init artifact here/m);
  });
});
