import { describe, expect, it } from 'vitest';
import { INITIALIZATIONS } from '../config/initializations';
import { PretrainSectionSchema } from '../config/pretrain-config';
import { MAX_NAME_LENGTH, modelToken, planStudy, pretrainTokens, runName, type StageRun, type StudyPlan } from './cells';
import { DEFAULT_STUDY, parseStudyConfig } from './study-config';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A study with every axis longer than one, pretraining on and off, and a model given by URL. */
const WIDE = parseStudyConfig({
  out: 's3://bucket/studies/wide/',
  init: ['glorot-uniform', 'lsuv', 'ddinit-kmeans+calibration'],
  model: ['caffenet-small', 's3://bucket/models/My Net/model.json'],
  seed: [1, 2, 3],
  labelsPerClass: [100, null],
  pretrain: [false, { task: 'rotation', steps: 300 }],
});

function runsByName(plan: StudyPlan): Map<string, StageRun> {
  return new Map(plan.runs.map((run) => [run.name, run]));
}

/** The section of a run's document that holds its stage's settings (init: the top level). */
function section(run: StageRun): Record<string, unknown> {
  return run.stage === 'init' ? run.document : (run.document[run.stage] as Record<string, unknown>);
}

describe('the study cells', () => {
  it('are the product of the axes, first axis slowest, with readable ids', () => {
    const plan = planStudy(WIDE);
    expect(plan.cells).toHaveLength(3 * 2 * 3 * 2 * 2);
    expect(plan.cells[0].id).toBe('glorot-uniform.caffenet-small.s1.none.n100');
    expect(plan.cells[1].id).toBe('glorot-uniform.caffenet-small.s1.none.nall');
    expect(plan.cells[2].id).toBe('glorot-uniform.caffenet-small.s1.rot300.n100');
    expect(plan.cells.at(-1)?.id).toBe(`ddinit-kmeans+calibration.${modelToken('s3://bucket/models/My Net/model.json')}.s3.rot300.nall`);
    expect(new Set(plan.cells.map((cell) => cell.id)).size).toBe(plan.cells.length);
    expect(planStudy(DEFAULT_STUDY).cells).toHaveLength(6);
  });

  it('share init runs across labels and pretraining, and pretrain runs across labels', () => {
    const plan = planStudy(WIDE);
    const count = (stage: string) => plan.runs.filter((run) => run.stage === stage).length;
    expect(count('init')).toBe(3 * 2 * 3); // init × model × seed
    expect(count('pretrain')).toBe(3 * 2 * 3); // × the one pretraining setting
    expect(count('finetune')).toBe(plan.cells.length);
    expect(count('evaluate')).toBe(plan.cells.length);
    expect(new Set(plan.runs.map((run) => run.name)).size).toBe(plan.runs.length);
    // The four cells of (glorot-uniform, caffenet-small, seed 1) start from one init run.
    const firstInits = plan.cells.slice(0, 4).map((cell) => cell.chain[0]);
    expect(new Set(firstInits)).toEqual(new Set(['init-glorot-uniform-caffenet-small-s1']));
  });

  it('chain each cell init → [pretrain] → finetune → evaluate, each run reading the artifact its upstream writes', () => {
    const plan = planStudy(WIDE);
    const runs = runsByName(plan);
    for (const cell of plan.cells) {
      const chain = cell.chain.map((name) => runs.get(name) as StageRun);
      expect(chain.map((run) => run.stage)).toEqual(
        cell.axes.pretrain === false ? ['init', 'finetune', 'evaluate'] : ['init', 'pretrain', 'finetune', 'evaluate'],
      );
      expect(chain[0].upstream).toBeNull();
      for (let i = 1; i < chain.length; i++) {
        expect(chain[i].upstream).toBe(chain[i - 1].name);
        expect(section(chain[i]).from).toBe(chain[i - 1].location);
      }
      for (const run of chain) {
        expect(run.location).toBe(`s3://bucket/studies/wide/${run.key}/${run.stage}`);
        expect(section(run).out).toBe(run.location);
        expect(cell.id.startsWith(run.key)).toBe(true);
      }
      const finetune = section(chain.at(-2) as StageRun);
      expect(finetune).toMatchObject({ labelsPerClass: cell.axes.labelsPerClass, seed: cell.axes.seed, steps: 200, task: 'classify', testSplit: 'test' });
      expect(section(chain[0])).toMatchObject({ init: cell.axes.init, model: cell.axes.model, seed: cell.axes.seed });
    }
    // Every run comes after the run it reads.
    const seen = new Set<string>();
    for (const run of plan.runs) {
      if (run.upstream !== null) expect(seen.has(run.upstream)).toBe(true);
      seen.add(run.name);
    }
  });

  it("start each cell's heads as its initialization starts its layers: on data for ddinit and LSUV, drawn for data-free ones", () => {
    const study = parseStudyConfig({
      init: ['gaussian-0.01', 'glorot-uniform', 'lsuv', 'ddinit-kmeans', 'ddinit-pca+calibration'],
      seed: [1],
      pretrain: [false, { task: 'rotation', steps: 10 }],
    });
    const plan = planStudy(study);
    const runs = new Map(plan.runs.map((run) => [run.name, run]));
    for (const cell of plan.cells) {
      const expected = cell.axes.init === 'gaussian-0.01' || cell.axes.init === 'glorot-uniform' ? 'drawn' : 'data';
      const heads = cell.chain.map((name) => runs.get(name) as StageRun).filter((run) => run.stage === 'pretrain' || run.stage === 'finetune');
      expect(heads.map((run) => section(run).headInit)).toEqual(heads.map(() => expected));
      expect(heads).toHaveLength(cell.axes.pretrain === false ? 1 : 2);
    }
  });

  it('writes exactly the finetune keys the finetune stage reads, a pretrain section its schema accepts, and the evaluate keys', () => {
    const plan = planStudy(DEFAULT_STUDY);
    const finetune = plan.runs.find((run) => run.stage === 'finetune') as StageRun;
    expect(Object.keys(section(finetune)).sort()).toEqual(
      [
        'from',
        'task',
        'headInit',
        'featureLayer',
        'trainFrom',
        'labelsPerClass',
        'steps',
        'batchSize',
        'optimizer',
        'learningRate',
        'weightDecay',
        'schedule',
        'checkpointEvery',
        'data',
        'split',
        'testSplit',
        'seed',
        'out',
        'force',
      ].sort(),
    );
    // The pretrain stage's own schema (strict) accepts the pretrain section as written.
    const pretrain = planStudy(WIDE).runs.find((run) => run.stage === 'pretrain') as StageRun;
    expect(PretrainSectionSchema.parse(section(pretrain))).toEqual(section(pretrain));
    const evaluate = plan.runs.find((run) => run.stage === 'evaluate') as StageRun;
    expect(Object.keys(section(evaluate)).sort()).toEqual(['data', 'from', 'out', 'seed', 'split']);
    expect(section(evaluate).split).toBe('test');
  });

  it('name every run of every initialization with a unique DNS-1123 label, hashing names that would be too long', () => {
    const study = parseStudyConfig({
      init: [...INITIALIZATIONS],
      model: ['caffenet-small', 'vgg-plain-11', 's3://bucket/a/model.json', 's3://bucket/b/model.json', 'a-registry-model-with-a-very-long-name-indeed'],
      seed: [1, 12345],
      labelsPerClass: [1000, null],
      pretrain: [false, { task: 'jigsaw', steps: 1000 }, { task: 'jigsaw', steps: 1000, learningRate: 0.1 }],
    });
    const plan = planStudy(study);
    expect(plan.cells).toHaveLength(INITIALIZATIONS.length * 5 * 2 * 2 * 3);
    for (const run of plan.runs) {
      expect(run.name).toMatch(DNS_LABEL);
      expect(run.name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    }
    expect(new Set(plan.runs.map((run) => run.name)).size).toBe(plan.runs.length);
    expect(plan.runs.some((run) => /-[0-9a-f]{8}$/.test(run.name))).toBe(true); // some were too long
  });

  it('map a readable name to its DNS label by lower-casing and turning "." and "+" into "-", keeping it when it fits', () => {
    expect(runName('init', 'ddinit-kmeans+calibration.caffenet-small.s1')).toBe('init-ddinit-kmeans-calibration-caffenet-small-s1');
    expect(runName('evaluate', 'gaussian-0.01.caffenet-small.s2.none.nall')).toBe('evaluate-gaussian-0-01-caffenet-small-s2-none-nall');
    const long = runName('finetune', 'ddinit-patches+calibration.a-registry-model-with-a-long-name.s12345.jig1000-0a1b2c.n1000');
    expect(long).toMatch(/^finetune-ddinit-patches-calibration-a-registry-model-w-[0-9a-f]{8}$/);
    expect(long).toHaveLength(MAX_NAME_LENGTH);
  });

  it('give models by path a token of their folder and a hash, and ambiguous pretraining settings a hash', () => {
    expect(modelToken('vgg-plain-11')).toBe('vgg-plain-11');
    expect(modelToken('s3://bucket/models/My Net/model.json')).toMatch(/^my-net-[0-9a-f]{6}$/);
    expect(modelToken('s3://bucket/a/model.json')).not.toBe(modelToken('s3://bucket/b/model.json'));
    expect(pretrainTokens([false, { task: 'rotation', steps: 300 }, { task: 'context', steps: 300 }])).toEqual(['none', 'rot300', 'ctx300']);
    const tokens = pretrainTokens([
      { task: 'rotation', steps: 300 },
      { task: 'rotation', steps: 300, learningRate: 0.1 },
    ]);
    expect(tokens[0]).toMatch(/^rot300-[0-9a-f]{6}$/);
    expect(tokens[1]).toMatch(/^rot300-[0-9a-f]{6}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });
});
