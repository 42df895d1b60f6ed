/**
 * Small composed-scenes datasets (Fashion-MNIST items of the embedded sample on a
 * textured canvas, with multi-hot labels, masks and boxes: @ddinit/data's
 * `composeScenes`), written to a temporary directory, read back through the
 * dataset reader and kept in memory as byte batches, for the specs of the dense
 * heads. Only specs import this.
 */
// eslint-disable-next-line @nx/enforce-module-boundaries -- spec data only: a stage library's specs may build data (devDependency)
import { composeScenes, openDataset, toTensorBatch, type UintBatch } from '@ddinit/data';
// eslint-disable-next-line @nx/enforce-module-boundaries -- spec data only
import { withTempDir } from '@ddinit/data/testing';
import type { HeadBatch } from '../heads/downstream-head';

export interface ComposedSample {
  /** Byte batches of each split, in a fixed shuffled order. */
  batches: Record<string, UintBatch[]>;
  /** `background` then the ten Fashion-MNIST classes. */
  classNames: string[];
}

export interface ComposedSampleOptions {
  /** Scenes per split, e.g. `{ train: 512, test: 128 }`. */
  examples: Record<string, number>;
  /** Canvas side (square). */
  side: number;
  batchSize: number;
  seed: number;
}

/** Composes, writes, reads back and forgets the files: the specs see what a finetune stage would read. */
export async function composedScenesSample(options: ComposedSampleOptions): Promise<ComposedSample> {
  return withTempDir(async (dir) => {
    const { side, batchSize, seed } = options;
    await composeScenes({ output: dir, examples: options.examples, seed, size: { height: side, width: side } });
    const dataset = await openDataset(dir);
    const batches: Record<string, UintBatch[]> = {};
    for (const split of Object.keys(options.examples)) {
      batches[split] = [];
      for await (const batch of dataset.batches(split, { batchSize, seed, reuseBuffers: false, ids: false })) batches[split].push(batch);
    }
    return { batches, classNames: dataset.features.classNames };
  }, 'ddinit-eval-scenes-');
}

/** Pixels scaled to [0, 1] then centred (the composed scenes' grey level is about 0.3–0.4). */
export const SCENE_NORMALIZATION = { scale: 1 / 255, mean: 0.35, std: 0.3 } as const;

/** A byte batch as head-batch tensors (the caller disposes them with {@link disposeHeadBatch}). */
export function headBatch(batch: UintBatch): HeadBatch {
  const { images, multiHot, masks, boxes } = toTensorBatch(batch, SCENE_NORMALIZATION);
  return { images, ...(multiHot ? { multiHot } : {}), ...(masks ? { masks } : {}), ...(boxes ? { boxes } : {}) };
}

export function disposeHeadBatch(batch: HeadBatch): void {
  const { images, labels, multiHot, masks } = batch;
  for (const t of [images, labels, multiHot, masks]) t?.dispose();
}
