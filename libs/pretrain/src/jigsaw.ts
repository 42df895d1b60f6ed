/**
 * Jigsaw puzzles (Noroozi & Favaro, "Unsupervised Learning of Visual
 * Representations by Solving Jigsaw Puzzles", ECCV 2016): cut a 3×3 grid of
 * tiles (patch-grid.ts), shuffle them by one of N fixed permutations
 * (permutations.ts) and predict which — an N-way classification. Slot i shows
 * tile p[i] (reading order in the image); every tile goes through the shared
 * trunk once and the 9 feature vectors are concatenated in slot order before
 * the fused head (siamese-head.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '@ddinit/core';
import { classificationObjective, type LabelledBatch } from '@ddinit/train';
import { oneHotRows } from './labels';
import { checkDefences, defendPatches, type PatchDefences } from './patch-defences';
import { GRID_CELLS, JIGSAW_REFERENCE_GEOMETRY, checkGeometry, cutPatches, defaultGeometry, sampleGrid, type GridGeometry } from './patch-grid';
import { permutationSet } from './permutations';
import { batchRng, checkImages, checkTrunkInput, resolveOptions, type PretextSetup, type PretextTask } from './pretext-task';
import { checkHeadOptions, withSiameseHead, type FeatureReduction } from './siamese-head';

export interface JigsawOptions extends PatchDefences {
  geometry: GridGeometry;
  /** N, the number of permutations (classes); default 100, or the candidates when fewer. */
  permutations: number;
  /** Candidate pool sampled from the 9! permutations (null: all of them). */
  candidates: number | null;
  reduction: FeatureReduction;
  hiddenUnits: readonly number[];
}

/** Options as a user gives them: any subset, geometry field by field. */
export type JigsawOptionsInput = Partial<Omit<JigsawOptions, 'geometry'>> & { geometry?: Partial<GridGeometry> };

/** Defaults for `height`×`width` images (the README's table says why). */
export function defaultJigsawOptions(height: number, width: number): JigsawOptions {
  return {
    geometry: defaultGeometry(JIGSAW_REFERENCE_GEOMETRY, Math.min(height, width)),
    permutations: 100,
    candidates: null,
    colour: 'drop',
    resampleShare: 0,
    normalize: true,
    reduction: 'flatten',
    hiddenUnits: [512],
  };
}

/**
 * The jigsaw batch of `images` [n, h, w, c]: inputs [9n, P, P, c] (each image's
 * tiles in slot order, defences applied) and one-hot labels [n, N], the index
 * of the permutation in `permutations`. The caller owns both; `images` is not disposed.
 * @throws ConfigError naming the sizes when the grid does not fit the images.
 */
export function jigsawBatch(images: tf.Tensor4D, permutations: readonly Uint8Array[], options: JigsawOptions, rng: Rng): LabelledBatch {
  const [n, height, width] = images.shape;
  checkGeometry(options.geometry, height, width, 'jigsaw');
  const labels = Array.from({ length: n }, () => rng.int(permutations.length));
  const corners = labels.flatMap((label) => {
    const grid = sampleGrid(options.geometry, height, width, rng);
    return Array.from(permutations[label], (tile) => grid[tile]);
  });
  const imageOf = corners.map((_, i) => Math.floor(i / GRID_CELLS));
  const tiles = cutPatches(images, imageOf, corners, options.geometry.patch);
  try {
    return { inputs: defendPatches(tiles, options, rng), labels: oneHotRows(labels, permutations.length) };
  } finally {
    tiles.dispose();
  }
}

/** The jigsaw task with its permutation set (computed once, ≈ 1 s for N = 100 over all 9! candidates). */
export interface JigsawTask extends PretextTask {
  readonly permutations: readonly Uint8Array[];
}

/**
 * Jigsaw as a `PretextTask` for images of `setup.imageShape`.
 * @throws ConfigError for options out of range or a grid that does not fit the images.
 */
export function jigsawTask(setup: PretextSetup, input: JigsawOptionsInput = {}): JigsawTask {
  const [height, width, channels] = setup.imageShape;
  const defaults = defaultJigsawOptions(height, width);
  const options = resolveOptions(defaults, input);
  // A sampled candidate pool smaller than the default N: as many permutations as candidates.
  if (input.permutations === undefined && options.candidates !== null) options.permutations = Math.min(defaults.permutations, options.candidates);
  checkGeometry(options.geometry, height, width, 'jigsaw');
  checkDefences(options, 'jigsaw');
  checkHeadOptions(options, 'jigsaw');
  const permutations = permutationSet({ count: options.permutations, seed: setup.seed, candidates: options.candidates ?? undefined });
  const task: JigsawTask = {
    name: 'jigsaw',
    classes: permutations.length,
    permutations,
    inputShape: [options.geometry.patch, options.geometry.patch, channels],
    inputsPerImage: GRID_CELLS,
    examplesPerImage: 1,
    buildBatch: (images, step) => {
      checkImages(images, setup, 'jigsaw');
      return jigsawBatch(images, permutations, options, batchRng(setup.seed, 'jigsaw', step));
    },
    model: (trunk, modelOptions = {}) => {
      checkTrunkInput(trunk, task);
      return withSiameseHead(trunk, {
        ...options,
        grouping: 'concat',
        classes: permutations.length,
        featureLayer: modelOptions.featureLayer,
        seed: setup.seed,
      });
    },
    objective: classificationObjective,
  };
  return task;
}
