/**
 * Within-layer initialization benchmark (issue 4): `npm run within -w @ddinit/bench`
 * (or `cd tools/bench && npx tsx src/within.ts`).
 *
 * Per-layer times of every weight source on `caffenet` (227 px) and `caffenet-small`
 * (28 px grey) on the wasm backend, with a natural-photo sample (random crops of the
 * @ddinit/data photo corpus, values/255 − 0.5), and the whole k-means init of caffenet
 * against the 30 s target. fc layers with more units than sample images fall back to
 * Gaussian (configured, logged, and listed).
 *
 * Environment: WITHIN_IMAGES (160), WITHIN_SMALL_IMAGES (160), WITHIN_MODELS
 * (caffenet-small,caffenet), WITHIN_METHODS (kmeans,gaussian,orthogonal,pca,patches,zca),
 * WITHIN_SEED (1), DDINIT_BACKEND (wasm).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { Rng, isDdinitError } from '@ddinit/core';
import { selectBackend, type BackendName } from '@ddinit/core/backend';
import { loadNaturalPhotos } from '@ddinit/data';
import { initializeWithinLayers, WEIGHT_SOURCES, type WeightSource } from '@ddinit/init-within-layer';
import { buildModel } from '@ddinit/models';

const env = (name: string, fallback: string): string => process.env[name] || fallback;

/** `count` random size×size crops of the photo corpus (downscaled to `maxSide`), [count, size, size, channels], values/255 − 0.5. */
async function photoCrops(count: number, size: number, channels: 1 | 3, maxSide: number, seed: number): Promise<tf.Tensor4D> {
  const photos = await loadNaturalPhotos({ channels, maxSide });
  const rng = Rng.fromSeed(seed).derive(`crops-${size}`);
  const out = new Float32Array(count * size * size * channels);
  for (let k = 0; k < count; k++) {
    const photo = photos[rng.int(photos.length)];
    const top = rng.int(photo.height - size + 1);
    const left = rng.int(photo.width - size + 1);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < channels; c++) {
          out[((k * size + y) * size + x) * channels + c] = photo.data[((top + y) * photo.width + left + x) * photo.channels + c] / 255 - 0.5;
        }
      }
    }
  }
  return tf.tensor4d(out, [count, size, size, channels]);
}

interface Row {
  model: string;
  method: WeightSource;
  total: number | null;
  layers: Map<string, string>;
  note: string;
}

async function runOne(modelName: string, method: WeightSource, sample: tf.Tensor4D, seed: number): Promise<Row> {
  const model = buildModel(modelName, { seed });
  try {
    const start = performance.now();
    const report = await initializeWithinLayers(model, sample, { method, seed, fallback: { onTooFewRows: 'gaussian' } });
    const total = (performance.now() - start) / 1000;
    const layers = new Map(report.layers.map((l) => [l.name, `${l.seconds.toFixed(1)}${l.fallback === null ? '' : '*'}`]));
    const fallbacks = report.layers.filter((l) => l.fallback !== null).map((l) => l.name);
    const worst = Math.max(...report.layers.map((l) => Math.max(l.worstMeanError ?? 0, l.worstStdError ?? 0)));
    return { model: modelName, method, total, layers, note: `worst |μ−β|,|σ−1| ${worst.toExponential(1)}${fallbacks.length ? `; * gaussian fallback: ${fallbacks.join(', ')}` : ''}` };
  } catch (error) {
    if (!isDdinitError(error)) throw error;
    return { model: modelName, method, total: null, layers: new Map(), note: `${error.name}: ${error.message.split('\n')[0]}` };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const backend = (process.env['DDINIT_BACKEND'] ?? 'wasm') as BackendName;
  await selectBackend(backend);
  const seed = Number(env('WITHIN_SEED', '1'));
  const models = env('WITHIN_MODELS', 'caffenet-small,caffenet').split(',');
  const methods = env('WITHIN_METHODS', 'kmeans,gaussian,orthogonal,pca,patches,zca').split(',') as WeightSource[];
  for (const m of methods) if (!WEIGHT_SOURCES.includes(m)) throw new Error(`unknown method ${m}`);
  console.log(`# within-layer init, backend ${tf.getBackend()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const modelName of models) {
    const big = modelName === 'caffenet';
    const images = Number(env(big ? 'WITHIN_IMAGES' : 'WITHIN_SMALL_IMAGES', '160'));
    const sample = big ? await photoCrops(images, 227, 3, 512, seed) : await photoCrops(images, 28, 1, 96, seed);
    console.log(`\n## ${modelName}: ${images} images ${sample.shape.slice(1).join('×')}`);
    const rows: Row[] = [];
    for (const method of methods) {
      const row = await runOne(modelName, method, sample, seed);
      rows.push(row);
      console.log(`${method}: ${row.total === null ? 'n/a' : `${row.total.toFixed(1)} s`} ${[...row.layers].map(([k, v]) => `${k} ${v}`).join(', ')} (${row.note})`);
    }
    const names = [...(rows.find((r) => r.layers.size > 0)?.layers.keys() ?? [])];
    console.log(`\n| method | total s | ${names.join(' | ')} | notes |`);
    console.log(`|---|---|${names.map(() => '---').join('|')}|---|`);
    for (const r of rows) console.log(`| ${r.method} | ${r.total === null ? 'n/a' : r.total.toFixed(1)} | ${names.map((n) => r.layers.get(n) ?? '').join(' | ')} | ${r.note} |`);
    if (big && rows.some((r) => r.method === 'kmeans' && r.total !== null)) {
      const km = rows.find((r) => r.method === 'kmeans') as Row;
      console.log(`\nwhole k-means init of caffenet: ${(km.total as number).toFixed(1)} s (target ≤ 30 s): ${(km.total as number) <= 30 ? 'met' : 'NOT met'}`);
    }
    sample.dispose();
  }
}

await main();
