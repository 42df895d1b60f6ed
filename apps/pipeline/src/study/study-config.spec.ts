import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { INITIALIZATIONS } from '../config/initializations';
import { mergeDocument } from './stage-documents';
import { DEFAULT_STUDY, parseStudyConfig, studyConfigJsonSchema } from './study-config';

/** The messages of the ZodError `parse` throws, each prefixed by its path. */
function issues(document: Record<string, unknown>): string[] {
  try {
    parseStudyConfig(document);
  } catch (error) {
    if (error instanceof ZodError) return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw error;
  }
  throw new Error('the document parsed');
}

describe('the study config', () => {
  it('defaults to three initializations × two seeds on the embedded data, baseline the first initialization', () => {
    expect(DEFAULT_STUDY.init).toEqual(['glorot-uniform', 'gaussian-0.01', 'ddinit-kmeans+calibration']);
    expect(DEFAULT_STUDY.seed).toEqual([1, 2]);
    expect(DEFAULT_STUDY.model).toEqual(['caffenet-small']);
    expect(DEFAULT_STUDY.labelsPerClass).toEqual([null]);
    expect(DEFAULT_STUDY.pretrain).toEqual([false]);
    expect(DEFAULT_STUDY.data).toBe('embedded');
    expect(DEFAULT_STUDY.task).toBe('classify');
    expect(DEFAULT_STUDY.baseline).toBe('glorot-uniform');
    expect(DEFAULT_STUDY.budget).toEqual({
      steps: 200,
      batchSize: 32,
      optimizer: 'momentum',
      learningRate: 0.01,
      schedule: { kind: 'cosine', minFactor: 0 },
      weightDecay: 5e-4,
      checkpointEvery: 50,
      trainFrom: null,
      featureLayer: null,
    });
    for (const name of DEFAULT_STUDY.init) expect(INITIALIZATIONS).toContain(name);
  });

  it('takes a baseline from the init axis, and names one that is not on it', () => {
    expect(parseStudyConfig({ init: ['he-normal', 'lsuv'], baseline: 'lsuv' }).baseline).toBe('lsuv');
    const messages = issues({ init: ['he-normal', 'lsuv'], baseline: 'orthogonal' });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^baseline: the baseline orthogonal is not on the init axis \(he-normal, lsuv\)/);
  });

  it('refuses an empty axis, naming it', () => {
    for (const axis of ['init', 'model', 'seed', 'labelsPerClass', 'pretrain']) {
      expect(issues({ [axis]: [] })).toEqual([`${axis}: the ${axis} axis needs at least one value`]);
    }
  });

  it('refuses a value listed twice on an axis and an unknown initialization', () => {
    expect(issues({ seed: [1, 2, 1] })).toEqual(['seed: the seed axis lists 1 twice']);
    expect(
      issues({
        pretrain: [
          { task: 'rotation', steps: 10 },
          { task: 'rotation', steps: 10 },
        ],
      })[0],
    ).toMatch(/the pretrain axis lists .* twice/);
    expect(issues({ init: ['ddinit-kmeans+calibration', 'xavier'] })[0]).toMatch(/^init\.1: /);
  });

  it('is strict at every level: a misspelt key is an error naming it', () => {
    expect(issues({ seeds: [1] })[0]).toMatch(/seeds/);
    expect(issues({ budget: { step: 10 } })[0]).toMatch(/^budget: .*step/);
    expect(issues({ pretrain: [{ task: 'rotation', steps: 10, stpes: 3 }] })[0]).toMatch(/stpes/);
  });

  it('takes labelsPerClass null (all) next to counts, pretraining off next to pretext tasks, and a kubernetes section', () => {
    const study = parseStudyConfig({
      labelsPerClass: [100, 1000, null],
      pretrain: [false, { task: 'rotation', steps: 300 }],
      kubernetes: { image: 'registry.example.com/ddinit:0.2.0' },
    });
    expect(study.labelsPerClass).toEqual([100, 1000, null]);
    expect(study.pretrain).toEqual([false, { task: 'rotation', steps: 300 }]);
    expect(study.kubernetes?.image).toBe('registry.example.com/ddinit:0.2.0');
  });

  it('has a JSON Schema for editors, and docs/study-config.schema.json is current', () => {
    const committed = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../../docs/study-config.schema.json'), 'utf8'));
    expect(committed, 'regenerate with: npx ddinit config schema --study > docs/study-config.schema.json').toEqual(studyConfigJsonSchema());
  });

  it('reads back the document the merge gets: the same study, defaults written out, without the kubernetes section', () => {
    const study = parseStudyConfig({
      init: ['lsuv', 'he-normal'],
      baseline: 'he-normal',
      labelsPerClass: [10, null],
      pretrain: [false, { task: 'jigsaw', steps: 5, taskOptions: { permutations: 10 } }],
      budget: { steps: 7, schedule: { kind: 'step', every: 3 } },
      kubernetes: { namespace: 'studies' },
    });
    const document = JSON.parse(JSON.stringify(mergeDocument(study))) as Record<string, unknown>;
    expect(document).not.toHaveProperty('kubernetes');
    const { kubernetes: _kubernetes, ...expected } = study;
    expect(parseStudyConfig(document)).toEqual(expected);
    expect(document.budget).toMatchObject({ steps: 7, schedule: { kind: 'step', every: 3, gamma: 0.1 } });
  });
});
