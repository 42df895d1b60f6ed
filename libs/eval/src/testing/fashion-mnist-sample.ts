/**
 * The embedded Fashion-MNIST sample of @ddinit/data, whole splits in memory,
 * for the specs of the probes. Only specs import this: the library itself takes
 * tensors and never reads data.
 */
// eslint-disable-next-line @nx/enforce-module-boundaries -- spec data only: a stage library's specs may read the embedded sample (devDependency)
import { openDefaultDataset } from '@ddinit/data';

export interface SampleSplit {
  /** NHWC bytes, 28×28×1 per image. */
  images: Uint8Array;
  labels: Int32Array;
  examples: number;
}

/** A split of the sample (train: 3,000 images, test: 1,000; 10 classes), shuffled with `seed`. */
export async function fashionMnistSample(split: 'train' | 'test', seed = 1): Promise<SampleSplit> {
  const dataset = await openDefaultDataset();
  const examples = dataset.split(split).examples;
  for await (const batch of dataset.batches(split, { batchSize: examples, seed, ids: false })) {
    if (batch.labels === undefined) throw new Error('the embedded sample has no class labels');
    return { images: batch.images, labels: batch.labels, examples: batch.size };
  }
  throw new Error(`the embedded sample's ${split} split is empty`);
}
