/**
 * Rebuilds the embedded Fashion-MNIST sample (libs/data/assets/fashion-mnist-sample)
 * from Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or
 * from the directory given as the first argument. Output is byte-identical run to run.
 *
 *   npx tsx libs/data/scripts/build-default-dataset.ts [/usr/share/datasets/fashion-mnist]
 */
import { buildDefaultDataset, defaultDatasetPath } from '../src/embedded/default-dataset';
import { DEBIAN_FASHION_MNIST_DIR } from '../src/convert/fashion-mnist';

const manifest = await buildDefaultDataset(defaultDatasetPath(), process.argv[2] ?? DEBIAN_FASHION_MNIST_DIR);
for (const [name, split] of Object.entries(manifest.splits)) {
  process.stdout.write(`${name}: ${split.examples} examples in ${split.shards.map((s) => `${s.path} (${s.bytes} bytes)`).join(', ')}\n`);
}
