/**
 * Rotation prediction (Gidaris, Singh & Komodakis, "Unsupervised Representation
 * Learning by Predicting Image Rotations", ICLR 2018): every image of a batch is
 * shown at 0°, 90°, 180° and 270° (all four in the same batch, as the paper found
 * best), and the network predicts which — a 4-way classification.
 *
 * Rotation by k·90° counter-clockwise of an NHWC image x (H = W):
 *   k = 1: y[i][j] = x[j][W−1−i]   (transpose, then flip rows)
 *   k = 2: y[i][j] = x[H−1−i][W−1−j]
 *   k = 3: y[i][j] = x[H−1−j][i]   (flip rows, then transpose)
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@ddinit/core';
import { classificationObjective, type LabelledBatch } from '@ddinit/train';
import { withPretextHead } from './pretext-model';
import { checkImages, checkTrunkInput, type PretextSetup, type PretextTask } from './pretext-task';

export const ROTATION_CLASSES = 4;

/** `images` [n, h, w, c] rotated by k·90° counter-clockwise (k = 0…3). */
export function rotate90(images: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    switch (((k % 4) + 4) % 4) {
      case 0:
        return tf.clone(images);
      case 1:
        return tf.reverse(tf.transpose(images, [0, 2, 1, 3]), 1) as tf.Tensor4D;
      case 2:
        return tf.reverse(images, [1, 2]) as tf.Tensor4D;
      default:
        return tf.transpose(tf.reverse(images, 1), [0, 2, 1, 3]) as tf.Tensor4D;
    }
  });
}

/**
 * The pretext batch of `images` [n, h, w, c] (square): inputs [4n, h, w, c] —
 * the n images at 0°, then at 90°, 180°, 270° — and one-hot labels [4n, 4] with
 * the rotation index. The caller owns both; `images` is not disposed.
 * @throws ShapeError for images that are not square (a 90° turn would change their shape).
 */
export function rotationBatch(images: tf.Tensor4D): LabelledBatch {
  const [n, height, width] = images.shape;
  if (height !== width) {
    throw new ShapeError('rotation prediction needs square images (a 90° turn would change their shape)', {
      where: 'rotation batch',
      expected: 'height = width',
      actual: `${height}×${width}`,
    });
  }
  return tf.tidy(() => {
    const rotated = [0, 1, 2, 3].map((k) => rotate90(images, k));
    const labels = tf.oneHot(
      tf.tensor1d(
        [0, 1, 2, 3].flatMap((k) => Array<number>(n).fill(k)),
        'int32',
      ),
      ROTATION_CLASSES,
    );
    return { inputs: tf.concat(rotated, 0), labels };
  });
}

/** Rotation prediction as a `PretextTask`: batches from `rotationBatch`, head from `withPretextHead`. */
export function rotationTask(setup: PretextSetup): PretextTask {
  const [height, width] = setup.imageShape;
  if (height !== width) {
    throw new ShapeError('rotation prediction needs square images (a 90° turn would change their shape)', {
      where: 'rotation task',
      expected: 'height = width',
      actual: `${height}×${width}`,
    });
  }
  const task: PretextTask = {
    name: 'rotation',
    classes: ROTATION_CLASSES,
    inputShape: setup.imageShape,
    inputsPerImage: ROTATION_CLASSES,
    examplesPerImage: ROTATION_CLASSES,
    buildBatch: (images) => {
      checkImages(images, setup, 'rotation');
      return rotationBatch(images);
    },
    model: (trunk, options = {}) => {
      checkTrunkInput(trunk, task);
      return withPretextHead(trunk, { featureLayer: options.featureLayer, classes: ROTATION_CLASSES, seed: setup.seed });
    },
    objective: classificationObjective,
  };
  return task;
}
