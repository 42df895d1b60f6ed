/**
 * The README's example: open the embedded Fashion-MNIST sample, read one
 * shuffled epoch as float32 NHWC tensors, sample patches from the natural
 * photos, write a small dataset and inspect it.
 *
 *   npx tsx libs/data/scripts/example.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  formatDatasetReport,
  inspectDataset,
  loadNaturalPhotos,
  openDefaultDataset,
  samplePatches,
  tensorBatches,
  writeDataset,
} from '../src/index';

const dataset = await openDefaultDataset();
let seen = 0;
for await (const batch of tensorBatches(dataset, 'train', {
  batchSize: 64,
  seed: 42,
  epoch: 0,
  normalize: { mean: 0.286, std: 0.353 },
  augment: { flip: true },
})) {
  seen += batch.images.shape[0]; // batch.images: float32 [64, 28, 28, 1]; batch.labels: int32 [64]
  tf.dispose([batch.images, ...(batch.labels ? [batch.labels] : [])]);
}
console.log(`read ${seen} training images of ${dataset.features.classNames.length} classes`);

const photos = await loadNaturalPhotos({ maxSide: 256 });
const patches = samplePatches(photos, { count: 1000, size: 11, rng: 7 });
console.log(`sampled ${patches.count} patches of ${patches.height}×${patches.width}×${patches.channels} from ${photos.length} photos`);

const dir = await mkdtemp(join(tmpdir(), 'ddinit-example-'));
try {
  await writeDataset(
    dir,
    [['train', { id: 'a', image: new Uint8Array(4 * 4 * 3).fill(200), label: 1 }]],
    { name: 'tiny', features: { image: { encoding: 'raw', height: 4, width: 4, channels: 3 }, label: 'class', classNames: ['cat', 'dog'] } },
  );
  console.log(formatDatasetReport(await inspectDataset(dir, { verify: true })));
} finally {
  await rm(dir, { recursive: true, force: true });
}
