/**
 * The pipeline configs a study's stage runs execute: each is a document
 * `ddinit <stage> --config <file>` reads, with the stage's settings in the place
 * that command looks (init: the top level; pretrain, finetune, evaluate: their
 * section) and every location explicit, so no run depends on a default or on
 * finding another stage by configuration hash.
 */
import { initializationPlan, needsData, type Initialization } from '../config/initializations';
import type { HeadInit } from '../config/head-inits';
import type { CellAxes } from './cells';
import type { StudyConfig, StudyPretrain } from './study-config';

/** `ddinit init`: the initialization of (init, model, seed), its sample drawn from the study's training split. */
export function initDocument(study: StudyConfig, axes: CellAxes, out: string): Record<string, unknown> {
  return { init: axes.init, model: axes.model, seed: axes.seed, data: study.data, split: study.split, out, force: false };
}

/** `ddinit pretrain`: the pretext task on the init artifact at `from` (only the settings given; the stage defaults the rest). */
export function pretrainDocument(study: StudyConfig, axes: CellAxes, pretrain: StudyPretrain, from: string, out: string): Record<string, unknown> {
  return {
    pretrain: {
      from,
      ...pretrain,
      headInit: cellHeadInit(axes.init),
      checkpointEvery: study.budget.checkpointEvery,
      data: study.data,
      split: study.split,
      seed: axes.seed,
      out,
      force: false,
    },
  };
}

/**
 * How a cell's new heads (pretext and task) start: as its initialization starts every
 * other layer. A data-dependent initialization (ddinit, LSUV) normalizes them on data
 * like the rest; a data-free one draws them. Normalizing on a data-free trunk's features
 * would hand the baseline part of ddinit's method, and behind Gaussian σ = 0.01, whose
 * features are orders of magnitude below unit scale, it scales the head's weights up by
 * as much: fine-tuning with 100 labels per class then diverged at step 2 for all three
 * seeds (docs/RESULTS.md, "The comparison study").
 */
export function cellHeadInit(init: Initialization): HeadInit {
  return needsData(initializationPlan(init)) ? 'data' : 'drawn';
}

/** `ddinit finetune`: the study's fixed budget on the artifact at `from`, with the cell's labelled examples. */
export function finetuneDocument(study: StudyConfig, axes: CellAxes, from: string, out: string): Record<string, unknown> {
  const { budget } = study;
  return {
    finetune: {
      from,
      task: study.task,
      headInit: cellHeadInit(axes.init),
      featureLayer: budget.featureLayer,
      trainFrom: budget.trainFrom,
      labelsPerClass: axes.labelsPerClass,
      steps: budget.steps,
      batchSize: budget.batchSize,
      optimizer: budget.optimizer,
      learningRate: budget.learningRate,
      weightDecay: budget.weightDecay,
      schedule: budget.schedule,
      checkpointEvery: budget.checkpointEvery,
      data: study.data,
      split: study.split,
      testSplit: study.testSplit,
      seed: axes.seed,
      out,
      force: false,
    },
  };
}

/** `ddinit evaluate`: the fine-tuned artifact at `from` on the study's test split, seeded by the cell (probes and k-NN draw with it). */
export function evaluateDocument(study: StudyConfig, axes: CellAxes, from: string, out: string): Record<string, unknown> {
  return { evaluate: { from, data: study.data, split: study.testSplit, seed: axes.seed, out } };
}

/**
 * `ddinit compare --merge`: the study itself with every default written out (the
 * merge finds each cell's evaluation at `<out>/<cell id>/evaluate`); the
 * `kubernetes:` section stays behind, the merge does not need it.
 */
export function mergeDocument(study: StudyConfig): Record<string, unknown> {
  const { kubernetes: _kubernetes, ...rest } = study;
  return { ...rest };
}
