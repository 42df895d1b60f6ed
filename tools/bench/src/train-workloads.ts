/**
 * The workloads of the pretext training-step benchmark (`npx nx run bench:train`):
 * a pretext task on a reference network, its dataset, and how a step's batch is
 * made from one data batch's bytes. Adding one (context prediction on
 * `caffenet` once libs/pretrain has it) is one entry in {@link TRAIN_WORKLOADS}
 * and its mirror in tools/bench/torch/train.py under the same name.
 */
import * as tf from '@tensorflow/tfjs';
import { defaultDatasetPath, openStore, toTensorBatch, writeNaturalPhotoDataset, type BlobStore, type UintBatch } from '@ddinit/data';
import { buildModel } from '@ddinit/models';
import { ROTATION_CLASSES, rotationBatch, withPretextHead } from '@ddinit/pretrain';
import { Rng } from '@ddinit/core';
import { accuracy, classificationObjective, softmaxCrossEntropy, type LabelledBatch, type ObjectiveOutput } from '@ddinit/train';

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
    /** What its batches need to be read: the decode size of encoded (JPEG/PNG) images. */
    decode?: { height: number; width: number };
  };
  build(seed: number): PretextModel<B>;
  /** A step's batch from one data batch's bytes (pixels ×1/255). */
  batch(bytes: UintBatch): B;
  /** Frees a batch made by `batch`. */
  release(batch: B): void;
}

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
  dataset: { name: 'fashion-mnist-sample', split: 'train', write: (store) => copyStore(openStore(defaultDatasetPath()), store) },
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
};

/** A pair batch: patch A (the centre) and patch B (a neighbour) of each pair, and one-hot labels of B's position. */
export interface PairBatch {
  a: tf.Tensor4D;
  b: tf.Tensor4D;
  labels: tf.Tensor2D;
}

/** Doersch et al.'s reference geometry: 96-px patches with 48-px gaps, a 3×3 grid of 384 px (no jitter in the stand-in). */
export const CONTEXT_PATCH = 96;
export const CONTEXT_GAP = 48;
const CONTEXT_GRID = 3 * CONTEXT_PATCH + 2 * CONTEXT_GAP;
/** The eight neighbours of the centre patch, row by row: label k is the k-th. */
const NEIGHBOURS: readonly [number, number][] = [
  [0, 0],
  [0, 1],
  [0, 2],
  [1, 0],
  [1, 2],
  [2, 0],
  [2, 1],
  [2, 2],
];

/**
 * The pair batch of a data batch of n images 384×384×c: for every image its centre patch with each
 * of its eight neighbours — A [8n, 96, 96, c] (the centre, repeated), B [8n, 96, 96, c],
 * neighbour-major, pixels ×1/255 — and labels [8n, 8]. Cut from the bytes in one pass: slicing and
 * concatenating float tensors on wasm was most of the data wait (docs/RESULTS.md, issue 13).
 */
export function contextPairBatch(bytes: UintBatch): PairBatch {
  const { size: n, width, channels } = bytes;
  const patchValues = CONTEXT_PATCH * CONTEXT_PATCH * channels;
  const a = new Float32Array(NEIGHBOURS.length * n * patchValues);
  const b = new Float32Array(NEIGHBOURS.length * n * patchValues);
  const cut = (target: Float32Array, slot: number, image: number, [row, col]: readonly [number, number]) => {
    const top = row * (CONTEXT_PATCH + CONTEXT_GAP);
    const left = col * (CONTEXT_PATCH + CONTEXT_GAP);
    for (let y = 0; y < CONTEXT_PATCH; y++) {
      const from = ((image * bytes.height + top + y) * width + left) * channels;
      const to = (slot * CONTEXT_PATCH + y) * CONTEXT_PATCH * channels;
      for (let x = 0; x < CONTEXT_PATCH * channels; x++) target[to + x] = bytes.images[from + x] / 255;
    }
  };
  NEIGHBOURS.forEach((place, k) => {
    for (let i = 0; i < n; i++) {
      cut(a, k * n + i, i, [1, 1]);
      cut(b, k * n + i, i, place);
    }
  });
  const shape: [number, number, number, number] = [NEIGHBOURS.length * n, CONTEXT_PATCH, CONTEXT_PATCH, channels];
  return {
    a: tf.tensor4d(a, shape),
    b: tf.tensor4d(b, shape),
    labels: tf.tidy(
      () =>
        tf.oneHot(
          tf.tensor1d(
            NEIGHBOURS.flatMap((_, k) => Array<number>(n).fill(k)),
            'int32',
          ),
          NEIGHBOURS.length,
        ) as tf.Tensor2D,
    ),
  };
}

/**
 * The siamese model: caffenet's conv1 … pool5 at 96×96×3, its layers applied to patch A and to
 * patch B (shared weights), each flattened, concatenated, then one dense layer of 8 logits.
 */
function siameseCaffenet(seed: number): { model: tf.LayersModel; trunk: tf.LayersModel } {
  const trunk = buildModel('caffenet', { seed, inputShape: [CONTEXT_PATCH, CONTEXT_PATCH, 3] });
  const upToPool5 = trunk.layers.slice(1, trunk.layers.findIndex((l) => l.name === 'pool5') + 1);
  const inputs = ['patch_a', 'patch_b'].map((name) => tf.input({ shape: [CONTEXT_PATCH, CONTEXT_PATCH, 3], name }));
  const flatten = tf.layers.flatten({ name: 'pair_flatten' });
  const features = inputs.map((input) => flatten.apply(upToPool5.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, input)) as tf.SymbolicTensor);
  const joined = tf.layers.concatenate({ name: 'pair_concat' }).apply(features) as tf.SymbolicTensor;
  const headSeed = Rng.fromSeed(seed).derive('context-head').nextSeed();
  const logits = tf.layers
    .dense({ name: 'context_logits', units: NEIGHBOURS.length, kernelInitializer: tf.initializers.glorotUniform({ seed: headSeed }) })
    .apply(joined) as tf.SymbolicTensor;
  return { model: tf.model({ inputs, outputs: logits, name: 'caffenet_context' }), trunk };
}

/**
 * Context prediction (Doersch, Gupta & Efros 2015) on caffenet: a LOCAL STAND-IN of the pair batch
 * and siamese model until libs/pretrain has the task (no jitter, colour dropping or per-patch
 * normalization; every patch of a pair goes through the trunk, the centre once per pair).
 * The embedded natural photos decoded to 384×384.
 */
const contextCaffenetStandIn: TrainWorkload<PairBatch> = {
  name: 'context-caffenet-standin',
  description:
    'context prediction STAND-IN (not libs/pretrain): centre + each of its 8 neighbours (96-px patches, 48-px gaps, no jitter) of every image, ' +
    'both patches through caffenet conv1…pool5 (shared weights), flatten, concat, dense 8; the embedded natural photos (JPEG, decoded to 384×384), pixels ×1/255',
  inputsPerImage: NEIGHBOURS.length,
  defaultImages: 4,
  defaultSteps: 20,
  dataset: {
    name: 'natural-photos',
    split: 'train',
    write: async (store) => {
      await writeNaturalPhotoDataset(store);
    },
    decode: { height: CONTEXT_GRID, width: CONTEXT_GRID },
  },
  build(seed) {
    const { model, trunk } = siameseCaffenet(seed);
    return {
      model,
      objective: (m, batch) => {
        const logits = m.apply([batch.a, batch.b], { training: true }) as tf.Tensor;
        return { loss: softmaxCrossEntropy(logits, batch.labels), metrics: { accuracy: accuracy(logits, batch.labels) } };
      },
      dispose: () => disposeWithTrunk(model, trunk),
    };
  },
  batch(bytes) {
    return contextPairBatch(bytes);
  },
  release(batch) {
    tf.dispose([batch.a, batch.b, batch.labels]);
  },
};

/** Every workload, in table order. */
export const TRAIN_WORKLOADS: readonly TrainWorkload<unknown>[] = [rotationCaffenetSmall, contextCaffenetStandIn];
