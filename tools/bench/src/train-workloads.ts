/**
 * The workloads of the pretext training-step benchmark (`npx nx run bench:train`):
 * a pretext task on a reference network, its dataset, and how a step's batch is
 * made from one data batch's bytes. Adding one is one entry in {@link TRAIN_WORKLOADS}
 * and its mirror in tools/bench/torch/train.py under the same name.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultDatasetPath, openStore, toTensorBatch, writeNaturalPhotoDataset, type BlobStore, type UintBatch } from '@ddinit/data';
import { buildModel } from '@ddinit/models';
import {
  CONTEXT_CLASSES,
  CONTEXT_REFERENCE_GEOMETRY,
  contextTask,
  gridExtent,
  ROTATION_CLASSES,
  rotationBatch,
  withPretextHead,
  type PretextTask,
} from '@ddinit/pretrain';
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
  /** One line for the legend. */
  description: string;
  /** Examples (rows of the loss) per dataset image in a step: rotation's four turns, context prediction's eight pairs. */
  inputsPerImage: number;
  /** Dataset images per step unless `--images` says otherwise. */
  defaultImages: number;
  /** Timed steps unless `--steps` says otherwise. */
  defaultSteps: number;
  dataset: {
    name: string;
    split: string;
    /** Writes the dataset into `store` (a prefix on the loopback S3 server, or a local directory). */
    write(store: BlobStore): Promise<void>;
    /** Its images' shape, fixed (raw) in the stored dataset. */
    image: { height: number; width: number; channels: number };
  };
  build(seed: number): PretextModel<B>;
  /** Step `bytes.step`'s batch from one data batch's bytes (pixels ×1/255), for the model built with `seed`. */
  batch(bytes: UintBatch & { step: number }, seed: number): B;
  /** Frees a batch made by `batch`. */
  release(batch: B): void;
  /** A batch as named tensors (what a batch worker sends across threads), and back. */
  tensorsOf(batch: B): Record<string, tf.Tensor>;
  fromTensors(tensors: Record<string, tf.Tensor>): B;
}

/** A labelled batch as named tensors and back (both workloads' batches). */
const LABELLED = {
  tensorsOf: (batch: LabelledBatch): Record<string, tf.Tensor> => ({ inputs: batch.inputs, labels: batch.labels }),
  fromTensors: (tensors: Record<string, tf.Tensor>): LabelledBatch => ({ inputs: tensors.inputs, labels: tensors.labels }),
};

/** Copies every object of `from` to `to`. */
async function copyStore(from: BlobStore, to: BlobStore): Promise<void> {
  for (const key of await from.list()) await to.write(key, [await from.readAll(key)]);
}

/**
 * Frees the weights of `model` and `trunk`, each once. The two share layers, and
 * LayersModel.dispose's per-layer reference counts do not follow sharing (after
 * re-applying a trunk's layers, neither order of disposing both frees everything).
 */
function disposeWithTrunk(model: tf.LayersModel, trunk: tf.LayersModel): void {
  tf.dispose([...new Set([...model.weights, ...trunk.weights].map((w) => w.read()))]);
}

/** The pretrain stage's defaults: the head reads caffenet-small's last spatial layer. */
const ROTATION_FEATURE_LAYER = 'pool5';

/** Rotation prediction on caffenet-small over the embedded Fashion-MNIST sample, as `ddinit pretrain` runs it. */
const rotationCaffenetSmall: TrainWorkload<LabelledBatch> = {
  name: 'rotation-caffenet-small',
  description:
    'rotation prediction (4 turns of every image in the batch) on caffenet-small up to pool5, global average pooling, dense 4 (@ddinit/pretrain); ' +
    'the embedded Fashion-MNIST sample (28×28×1), pixels ×1/255',
  inputsPerImage: ROTATION_CLASSES,
  defaultImages: 32,
  // With the 3 warm-up steps the run crosses the sample's first epoch boundary (93 steps of 32).
  defaultSteps: 100,
  dataset: {
    name: 'fashion-mnist-sample',
    split: 'train',
    write: (store) => copyStore(openStore(defaultDatasetPath()), store),
    image: { height: 28, width: 28, channels: 1 },
  },
  build(seed) {
    const trunk = buildModel('caffenet-small', { seed });
    const model = withPretextHead(trunk, { featureLayer: ROTATION_FEATURE_LAYER, classes: ROTATION_CLASSES, seed });
    return {
      model,
      objective: (m, batch) => classificationObjective(m, batch),
      dispose: () => disposeWithTrunk(model, trunk),
    };
  },
  batch(bytes) {
    const { images, labels } = toTensorBatch(bytes, { scale: 1 / 255 });
    try {
      return rotationBatch(images);
    } finally {
      tf.dispose([images, labels].filter((t) => t !== undefined));
    }
  },
  release(batch) {
    tf.dispose([batch.inputs, batch.labels]);
  },
  ...LABELLED,
};

/** The photos are stored at the reference grid's extent (3·96 + 2·48 + 2·7 px), so contextTask keeps Doersch et al.'s geometry. */
export const CONTEXT_IMAGE_SIDE = gridExtent(CONTEXT_REFERENCE_GEOMETRY);
const CONTEXT_FEATURE_LAYER = 'pool5';

/** @ddinit/pretrain's context task on caffenet, as `ddinit pretrain --task context` sets it up, for the stored photos. */
function contextCaffenetTask(seed: number): PretextTask {
  return contextTask({ imageShape: [CONTEXT_IMAGE_SIDE, CONTEXT_IMAGE_SIDE, 3], seed });
}

/**
 * Context prediction (Doersch, Gupta & Efros 2015) through @ddinit/pretrain's `contextTask` with its
 * defaults (reference geometry with jitter, colour dropping, per-patch normalization, a third of the
 * patches down-and-up-sampled; siamese caffenet conv1…pool5, each image's 9 patches through it once,
 * pairs by gather, fused 512 ReLU, 8 logits) on the embedded natural photos.
 */
const contextCaffenet: TrainWorkload<LabelledBatch> = {
  name: 'context-caffenet',
  description:
    `context prediction (@ddinit/pretrain contextTask, its defaults: 96-px patches, 48-px gaps, ±7 jitter, colour dropping, per-patch normalization, ` +
    `a third resampled) on caffenet conv1…pool5, 9 patches per image through the trunk once, centre-neighbour pairs, fused 512 ReLU, dense 8; ` +
    `the embedded natural photos stored at ${CONTEXT_IMAGE_SIDE}×${CONTEXT_IMAGE_SIDE} raw RGB (as \`ddinit data convert image-folder --size\` stores them), pixels ×1/255`,
  inputsPerImage: CONTEXT_CLASSES,
  defaultImages: 4,
  defaultSteps: 20,
  // Decoded and resized once when written, as a user's `data convert image-folder --size` does,
  // so that a step's data time is the pipeline's, not a JPEG decoder's (docs/RESULTS.md).
  dataset: {
    name: `natural-photos-${CONTEXT_IMAGE_SIDE}`,
    split: 'train',
    write: async (store) => {
      await writeNaturalPhotoDataset(store, { size: { height: CONTEXT_IMAGE_SIDE, width: CONTEXT_IMAGE_SIDE } });
    },
    image: { height: CONTEXT_IMAGE_SIDE, width: CONTEXT_IMAGE_SIDE, channels: 3 },
  },
  build(seed) {
    const task = contextCaffenetTask(seed);
    const trunk = buildModel('caffenet', { seed, inputShape: [...task.inputShape] });
    const model = task.model(trunk, { featureLayer: CONTEXT_FEATURE_LAYER });
    return { model, objective: (m, batch) => task.objective(m, batch), dispose: () => disposeWithTrunk(model, trunk) };
  },
  batch(bytes, seed) {
    const { images, labels } = toTensorBatch(bytes, { scale: 1 / 255 });
    try {
      return contextCaffenetTask(seed).buildBatch(images, bytes.step);
    } finally {
      tf.dispose([images, labels].filter((t) => t !== undefined));
    }
  },
  release(batch) {
    tf.dispose([batch.inputs, batch.labels]);
  },
  ...LABELLED,
};

/** How a workload's steps read their data batches: the same on the training thread and on a worker that reads (train-batch-builder.ts). */
export function stepReadOptions(images: number, seed: number): { batchSize: number; seed: number; ids: false } {
  return { batchSize: images, seed, ids: false };
}

/** A data batch of `images` seeded pseudo-random images of the workload's shape, as step 0's (the step-only benches). */
export function randomBytes(workload: TrainWorkload<unknown>, images: number): UintBatch & { step: number } {
  const { height, width, channels } = workload.dataset.image;
  const pixels = new Uint8Array(images * height * width * channels).map((_, i) => (i * 2654435761) >>> 24);
  return { step: 0, size: images, height, width, channels, images: pixels, labels: new Int32Array(images), classes: 10, ids: [] };
}

/** Every workload, in table order. */
export const TRAIN_WORKLOADS: readonly TrainWorkload<unknown>[] = [rotationCaffenetSmall, contextCaffenet];
