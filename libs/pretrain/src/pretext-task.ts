/**
 * The one shape every pretext task has, so that a stage can pick a task by name
 * (`PRETEXT_TASKS` in tasks.ts) and train it with `@ddinit/train`:
 * images → `buildBatch` → a labelled batch of trunk inputs; trunk → `model` →
 * the trunk with the task's head; `objective` → loss and accuracy.
 */
import type * as tf from '@tensorflow/tfjs';
import { Rng, ShapeError } from '@ddinit/core';
import type { LabelledBatch, Objective } from '@ddinit/train';

export type PretextTaskName = 'rotation' | 'context' | 'jigsaw';

/** What every task is built for. */
export interface PretextSetup {
  /** [height, width, channels] of the images the batches are built from. */
  imageShape: readonly [number, number, number];
  /** Seeds the patch draws and the head's initialization (tfjs seeds from 1: use a non-zero seed). */
  seed: number;
}

export interface PretextModelOptions {
  /** Trunk layer whose output feeds the head (default: the trunk's output). */
  featureLayer?: string;
}

export interface PretextTask {
  readonly name: PretextTaskName;
  /** Classes of the pretext classification (chance accuracy = 1 / classes). */
  readonly classes: number;
  /** [height, width, channels] of one trunk input: the image for rotation, a patch or tile otherwise. Build the trunk for it. */
  readonly inputShape: readonly [number, number, number];
  /** Trunk inputs and labelled examples per image of a batch. */
  readonly inputsPerImage: number;
  readonly examplesPerImage: number;
  /**
   * The batch of step `step` from `images` [n, h, w, c] (float, shape `imageShape`):
   * the same for the same (seed, step, images), so a resumed run sees the batches of an uninterrupted one.
   * The caller owns the result; `images` is not disposed.
   */
  buildBatch(images: tf.Tensor4D, step: number): LabelledBatch;
  /** The trunk with this task's head; shares the trunk's weights, so training it trains the trunk. */
  model(trunk: tf.LayersModel, options?: PretextModelOptions): tf.LayersModel;
  readonly objective: Objective<LabelledBatch>;
}

/** The random stream of one step's batch: depends on (seed, task, step) only. */
export function batchRng(seed: number, task: PretextTaskName, step: number): Rng {
  return Rng.fromSeed(seed).derive(`${task}-batch-${step}`);
}

/** @throws ShapeError when the images are not of the shape the task was built for. */
export function checkImages(images: tf.Tensor4D, setup: PretextSetup, task: PretextTaskName): void {
  const actual = images.shape.slice(1);
  if (actual.some((size, i) => size !== setup.imageShape[i])) {
    throw new ShapeError('the images are not of the shape the pretext task was set up for', {
      where: `${task} batch`,
      expected: setup.imageShape.join('×'),
      actual: actual.join('×'),
    });
  }
}

/** @throws ShapeError naming both shapes when the trunk does not take the task's inputs. */
export function checkTrunkInput(trunk: tf.LayersModel, task: Pick<PretextTask, 'name' | 'inputShape'>): void {
  const shape = trunk.inputs[0].shape.slice(1);
  if (trunk.inputs.length !== 1 || shape.length !== 3 || shape.some((size, i) => size !== task.inputShape[i])) {
    throw new ShapeError('the trunk does not take the inputs of the pretext task (build it for the task’s inputShape)', {
      where: `${task.name} model`,
      expected: `one input of ${task.inputShape.join('×')}`,
      actual: trunk.inputs.map((input) => input.shape.slice(1).join('×')).join(', '),
    });
  }
}

/**
 * `defaults` overridden by the options a user gave, geometry field by field; a key
 * given as `undefined` (an optional field of a parsed configuration) keeps its default.
 */
export function resolveOptions<T extends { geometry: object }>(defaults: T, input: Partial<Omit<T, 'geometry'>> & { geometry?: Partial<T['geometry']> }): T {
  const given = <O extends object>(o: O | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<O>;
  return { ...defaults, ...given(input), geometry: { ...defaults.geometry, ...given(input.geometry) } };
}
