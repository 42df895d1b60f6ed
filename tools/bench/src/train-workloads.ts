/**
 * The workloads of the pretext training-step benchmark (`npx nx run bench:train`):
 * a pretext task on a reference network, its dataset, and how a step's batch is
 * made from the images of one data batch. Adding one (context prediction on
 * `caffenet` once libs/pretrain has it) is one entry in {@link TRAIN_WORKLOADS}
 * and its mirror in tools/bench/torch/train.py under the same name.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultDatasetPath, type NormalizeOptions } from '@ddinit/data';
import { buildModel } from '@ddinit/models';
import { ROTATION_CLASSES, rotationBatch, withPretextHead } from '@ddinit/pretrain';
import { classificationObjective, type LabelledBatch, type ObjectiveOutput } from '@ddinit/train';

/**
 * The model a workload trains, with its objective; `dispose` frees the trunk and the head.
 * (Method signatures, so that every workload is a `TrainWorkload<unknown>` in the list.)
 */
export interface PretextModel<B> {
  model: tf.LayersModel;
  objective(model: tf.LayersModel, batch: B): ObjectiveOutput;
  dispose(): void;
}

export interface TrainWorkload<B> {
  /** Its name for `--workloads`, and train.py's. */
  name: string;
  /** The `@ddinit/models` network the trunk is. */
  network: string;
  /** One line for the legend. */
  description: string;
  /** Network inputs per dataset image in a step (rotation: the four turns). */
  inputsPerImage: number;
  /** The local dataset directory the run copies to the loopback S3 server, and the split read. */
  dataset: { name: string; path: () => string; split: string };
  /** How the batch bytes become pixels (`toTensorBatch`). */
  normalize: NormalizeOptions;
  build(seed: number): PretextModel<B>;
  /** A step's batch from one data batch's images [n, h, w, c] (the caller's, not disposed). */
  batch(images: tf.Tensor4D): B;
  /** Frees a batch made by `batch`. */
  release(batch: B): void;
}

/** The pretrain stage's defaults: the head reads caffenet-small's last spatial layer. */
const ROTATION_FEATURE_LAYER = 'pool5';

/** Rotation prediction on caffenet-small over the embedded Fashion-MNIST sample, as `ddinit pretrain` runs it. */
const rotationCaffenetSmall: TrainWorkload<LabelledBatch> = {
  name: 'rotation-caffenet-small',
  network: 'caffenet-small',
  description:
    'rotation prediction (4 turns of every image in the batch) on caffenet-small up to pool5, global average pooling, dense 4 (@ddinit/pretrain); ' +
    'the embedded Fashion-MNIST sample (28×28×1), pixels ×1/255',
  inputsPerImage: ROTATION_CLASSES,
  dataset: { name: 'fashion-mnist-sample', path: defaultDatasetPath, split: 'train' },
  normalize: { scale: 1 / 255 },
  build(seed) {
    const trunk = buildModel('caffenet-small', { seed });
    const model = withPretextHead(trunk, { featureLayer: ROTATION_FEATURE_LAYER, classes: ROTATION_CLASSES, seed });
    return {
      model,
      objective: (m, batch) => classificationObjective(m, batch),
      dispose: () => {
        // The pretext model shares the trunk's layers: the trunk frees those, the head is the pretext model's own.
        tf.dispose(model.layers.at(-1)?.weights.map((w) => w.read()) ?? []);
        trunk.dispose();
      },
    };
  },
  batch(images) {
    return rotationBatch(images);
  },
  release(batch) {
    tf.dispose([batch.inputs, batch.labels]);
  },
};

/** Every workload, in table order. */
export const TRAIN_WORKLOADS: readonly TrainWorkload<unknown>[] = [rotationCaffenetSmall];
