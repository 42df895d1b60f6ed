/**
 * Context prediction (Doersch, Gupta & Efros, "Unsupervised Visual
 * Representation Learning by Context Prediction", ICCV 2015): cut a 3×3 grid
 * of patches from an image (patch-grid.ts), and from the centre patch and one
 * of its neighbours predict where the neighbour was — an 8-way classification,
 * label k for the neighbour at position k in reading order around the centre:
 *
 *     0 1 2
 *     3 · 4
 *     5 6 7
 *
 * Each image gives all 8 pairs: its 9 patches go through the trunk once and
 * the pairs are formed from the features (siamese-head.ts), so a batch of n
 * images is 9n trunk inputs and 8n labelled examples.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddinit/core';
import { classificationObjective, type LabelledBatch } from '@ddinit/train';
import { checkDefences, defendPatches, type PatchDefences } from './patch-defences';
import { CONTEXT_REFERENCE_GEOMETRY, GRID_CELLS, checkGeometry, cutPatches, defaultGeometry, sampleGrid, type GridGeometry } from './patch-grid';
import { batchRng, checkImages, checkTrunkInput, resolveOptions, type PretextSetup, type PretextTask } from './pretext-task';
import { oneHotRows } from './labels';
import { checkHeadOptions, withSiameseHead, type FeatureReduction } from './siamese-head';

export const CONTEXT_CLASSES = 8;

export interface ContextOptions extends PatchDefences {
  geometry: GridGeometry;
  reduction: FeatureReduction;
  hiddenUnits: readonly number[];
}

/** Options as a user gives them: any subset, geometry field by field. */
export type ContextOptionsInput = Partial<Omit<ContextOptions, 'geometry'>> & { geometry?: Partial<GridGeometry> };

/** Defaults for `height`×`width` images (the README's table says why). */
export function defaultContextOptions(height: number, width: number): ContextOptions {
  return {
    geometry: defaultGeometry(CONTEXT_REFERENCE_GEOMETRY, Math.min(height, width)),
    colour: 'drop',
    resampleShare: 1 / 3,
    normalize: true,
    reduction: 'flatten',
    hiddenUnits: [512],
  };
}

/**
 * The context batch of `images` [n, h, w, c]: inputs [9n, P, P, c] (each image's
 * 9 patches in reading order, defences applied) and one-hot labels [8n, 8]
 * (0…7 for each image). The caller owns both; `images` is not disposed.
 * @throws ConfigError naming the sizes when the grid does not fit the images.
 */
export function contextBatch(images: tf.Tensor4D, options: ContextOptions, rng: Rng): LabelledBatch {
  const [n, height, width] = images.shape;
  checkGeometry(options.geometry, height, width, 'context prediction');
  const corners = Array.from({ length: n }, () => sampleGrid(options.geometry, height, width, rng)).flat();
  const imageOf = corners.map((_, i) => Math.floor(i / GRID_CELLS));
  const patches = cutPatches(images, imageOf, corners, options.geometry.patch);
  try {
    const inputs = defendPatches(patches, options, rng);
    const labels = Array.from({ length: n * CONTEXT_CLASSES }, (_, i) => i % CONTEXT_CLASSES);
    return { inputs, labels: oneHotRows(labels, CONTEXT_CLASSES) };
  } finally {
    patches.dispose();
  }
}

/**
 * Context prediction as a `PretextTask` for images of `setup.imageShape`.
 * @throws ConfigError for options out of range or a grid that does not fit the images.
 */
export function contextTask(setup: PretextSetup, input: ContextOptionsInput = {}): PretextTask {
  const [height, width, channels] = setup.imageShape;
  const defaults = defaultContextOptions(height, width);
  const options = resolveOptions(defaults, input);
  checkGeometry(options.geometry, height, width, 'context prediction');
  checkDefences(options, 'context');
  checkHeadOptions(options, 'context');
  const task: PretextTask = {
    name: 'context',
    classes: CONTEXT_CLASSES,
    inputShape: [options.geometry.patch, options.geometry.patch, channels],
    inputsPerImage: GRID_CELLS,
    examplesPerImage: CONTEXT_CLASSES,
    buildBatch: (images, step) => {
      checkImages(images, setup, 'context');
      return contextBatch(images, options, batchRng(setup.seed, 'context', step));
    },
    model: (trunk, modelOptions = {}) => {
      checkTrunkInput(trunk, task);
      return withSiameseHead(trunk, {
        ...options,
        grouping: 'centre-pairs',
        classes: CONTEXT_CLASSES,
        featureLayer: modelOptions.featureLayer,
        seed: setup.seed,
      });
    },
    objective: classificationObjective,
  };
  return task;
}
