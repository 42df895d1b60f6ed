/**
 * A study's cells and the stage runs that produce them.
 *
 * The cells are the Cartesian product of the axes, counted like nested loops in
 * the order init, model, seed, pretrain, labelsPerClass (first slowest). A cell's
 * id joins one token per axis with "." in that order:
 *
 *   <init>.<model>.s<seed>.<pretrain>.n<labelsPerClass>
 *   e.g. ddinit-kmeans+calibration.caffenet-small.s1.rot300.n100, glorot-uniform.caffenet-small.s2.none.nall
 *
 * - init: the name itself (names of INITIALIZATIONS hold only [a-z0-9.+-]);
 * - model: a registry name as it is ([a-z0-9-]); a path or URL becomes its last
 *   segment (without `model.json` and the extension) in [a-z0-9-] plus "-" and 6 hex
 *   of its SHA-256, so two files of the same name in different folders stay apart;
 * - pretrain: `none`, or rot|ctx|jig + steps, plus "-" and 6 hex of the settings'
 *   JSON when two values of the axis would otherwise read the same;
 * - labelsPerClass: n<k>, `nall` for null.
 *
 * Each cell is a chain init → [pretrain] → finetune → evaluate. A stage run depends
 * only on some axes, so its key is the prefix of the cell id over them and runs
 * with equal keys are one run shared by several cells: init depends on (init,
 * model, seed), pretrain adds the pretrain setting (it never sees labels), finetune
 * and evaluate depend on everything. Stage run `key` of stage `s` reads and writes
 * `<out>/<key>/<s>`, so the locations follow from the ids alone and a study run
 * again (or extended by a value on an axis) finds its finished runs where it left
 * them; the stages skip an output that holds an artifact of the same configuration.
 *
 * Kubernetes and Argo name things with DNS-1123 labels ([a-z0-9-], ≤ 63
 * characters). A run's name is `<stage>-<key>` lower-cased with every other
 * character ("." and "+") turned into "-"; past 63 characters it is cut to 54 and
 * ends in "-" + 8 hex of the SHA-256 of the readable name. `planStudy` checks that
 * no two runs share a name.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '@ddinit/core';
import type { Initialization } from '../config/initializations';
import { evaluateDocument, finetuneDocument, initDocument, pretrainDocument } from './stage-documents';
import type { StudyConfig, StudyPretrain } from './study-config';

/** The stages of a cell, in order. */
export const STUDY_STAGES = ['init', 'pretrain', 'finetune', 'evaluate'] as const;
export type StudyStage = (typeof STUDY_STAGES)[number];

/** Kubernetes' limit on a DNS-1123 label. */
export const MAX_NAME_LENGTH = 63;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** One cell's position on every axis. */
export interface CellAxes {
  init: Initialization;
  model: string;
  seed: number;
  pretrain: false | StudyPretrain;
  labelsPerClass: number | null;
}

/** One stage run, shared by every cell whose id starts with its key. */
export interface StageRun {
  stage: StudyStage;
  /** The prefix of the cell ids over the axes this stage depends on. */
  key: string;
  /** A DNS-1123 label, unique in the study: the Argo DAG task's name. */
  name: string;
  /** Where the stage writes its artifact: `<out>/<key>/<stage>`. */
  location: string;
  /** The run whose artifact this one reads (its `from`); null for init. */
  upstream: string | null;
  /** The pipeline config `ddinit <stage> --config <file>` reads to run it, with explicit `from` and `out`. */
  document: Record<string, unknown>;
}

export interface StudyCell {
  id: string;
  axes: CellAxes;
  /** Names of its stage runs in order: init, [pretrain], finetune, evaluate. */
  chain: string[];
}

export interface StudyPlan {
  study: StudyConfig;
  cells: StudyCell[];
  /** Every stage run once, each after the run it reads. */
  runs: StageRun[];
}

const PRETRAIN_ABBREVIATIONS: Record<StudyPretrain['task'], string> = { rotation: 'rot', context: 'ctx', jigsaw: 'jig' };

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** The model's token in a cell id (see the module comment). */
export function modelToken(model: string): string {
  if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(model)) return model;
  const segments = model.split('/').filter((segment) => segment.length > 0 && segment !== 'model.json');
  const last = (segments.at(-1) ?? 'model').replace(/\.[A-Za-z0-9]+$/, '');
  const readable =
    last
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'model';
  return `${readable.slice(0, 24)}-${shortHash(model, 6)}`;
}

/** Tokens of the pretrain axis's values, in order; unique by construction. */
export function pretrainTokens(values: readonly (false | StudyPretrain)[]): string[] {
  const plain = values.map((value) => (value === false ? 'none' : `${PRETRAIN_ABBREVIATIONS[value.task]}${value.steps}`));
  return plain.map((token, index) => {
    const value = values[index];
    const ambiguous = plain.filter((other) => other === token).length > 1;
    return ambiguous && value !== false ? `${token}-${shortHash(JSON.stringify(value), 6)}` : token;
  });
}

/** The DNS-1123 name of the run `<stage>-<key>` (see the module comment). */
export function runName(stage: StudyStage, key: string): string {
  const readable = `${stage}-${key}`;
  const name = readable.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (name.length <= MAX_NAME_LENGTH && DNS_LABEL.test(name)) return name;
  return `${name.slice(0, MAX_NAME_LENGTH - 9).replace(/-+$/, '')}-${shortHash(readable, 8)}`;
}

function location(out: string, key: string, stage: StudyStage): string {
  return `${out.replace(/\/+$/, '')}/${key}/${stage}`;
}

/** The cells in product order (first axis slowest), each with its id. */
export function listCells(study: StudyConfig): { id: string; axes: CellAxes; tokens: string[] }[] {
  const pretrainToken = pretrainTokens(study.pretrain);
  const cells: { id: string; axes: CellAxes; tokens: string[] }[] = [];
  for (const init of study.init)
    for (const model of study.model)
      for (const seed of study.seed)
        study.pretrain.forEach((pretrain, p) => {
          for (const labelsPerClass of study.labelsPerClass) {
            const tokens = [init, modelToken(model), `s${seed}`, pretrainToken[p], labelsPerClass === null ? 'nall' : `n${labelsPerClass}`];
            cells.push({ id: tokens.join('.'), axes: { init, model, seed, pretrain, labelsPerClass }, tokens });
          }
        });
  return cells;
}

/** Adds the run of (`stage`, `key`) unless it is there (a shared run); returns its name. Two keys of one name are an error. */
function addRun(
  runs: Map<string, StageRun>,
  out: string,
  stage: StudyStage,
  key: string,
  upstream: StageRun | null,
  document: (location: string) => Record<string, unknown>,
): StageRun {
  const name = runName(stage, key);
  const existing = runs.get(name);
  if (existing !== undefined) {
    if (existing.key === key) return existing;
    throw new ConfigError('two stage runs of the study get the same name', {
      where: `the ${stage} runs of ${existing.key} and ${key}`,
      expected: 'distinct Kubernetes names (rename one of the model files)',
      actual: name,
    });
  }
  const at = location(out, key, stage);
  const run: StageRun = { stage, key, name, location: at, upstream: upstream?.name ?? null, document: document(at) };
  runs.set(name, run);
  return run;
}

/**
 * The study's cells and its stage runs, each run once however many cells share it
 * (see the module comment for ids, keys, names and locations).
 *
 * @example
 * const plan = planStudy(DEFAULT_STUDY); // study-config.ts
 * plan.cells.length; // 6: 3 initializations × 2 seeds
 * plan.cells[0].chain; // ['init-glorot-uniform-caffenet-small-s1', 'finetune-glorot-uniform-caffenet-small-s1-none-nall', 'evaluate-…']
 */
export function planStudy(study: StudyConfig): StudyPlan {
  const runs = new Map<string, StageRun>();
  const cells = listCells(study).map(({ id, axes, tokens }) => {
    const init = addRun(runs, study.out, 'init', tokens.slice(0, 3).join('.'), null, (out) => initDocument(study, axes, out));
    const pretrainSettings = axes.pretrain;
    const pretrain =
      pretrainSettings === false
        ? null
        : addRun(runs, study.out, 'pretrain', tokens.slice(0, 4).join('.'), init, (out) => pretrainDocument(study, axes, pretrainSettings, init.location, out));
    const trunk = pretrain ?? init;
    const finetune = addRun(runs, study.out, 'finetune', id, trunk, (out) => finetuneDocument(study, axes, trunk.location, out));
    const evaluate = addRun(runs, study.out, 'evaluate', id, finetune, (out) => evaluateDocument(study, axes, finetune.location, out));
    const chain = [init, pretrain, finetune, evaluate].filter((run): run is StageRun => run !== null).map((run) => run.name);
    return { id, axes, chain };
  });
  return { study, cells, runs: [...runs.values()] };
}
