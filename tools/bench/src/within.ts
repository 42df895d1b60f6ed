/**
 * Within-layer initialization benchmark: `npm run within -w @ddinit/bench`
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
 * WITHIN_OPTIONS (JSON merged into the options, e.g. '{"maxPatchRows":50000}'), WITHIN_SEED (1), WITHIN_VERIFY (1: re-measure every layer's μ_i, σ_i with a fresh forward
 * pass of the initialized model, outside the timed region), DDINIT_BACKEND (wasm),
 * DDINIT_NATIVE_BLAS (0: the portable wasm kernels even when the OpenBLAS addon is built).
 * Per-stage times: src/within-profile.ts.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { isDdinitError } from '@ddinit/core';
import { selectBackend, type BackendName } from '@ddinit/core/backend';
import {
  channelMoments,
  initializeWithinLayers,
  WITHIN_METHODS,
  type WithinMethod,
  type WithinLayerOptionsInput,
  type WithinLayerReport,
} from '@ddinit/init-within-layer';
import { GraphExecutor, buildModel } from '@ddinit/models';
import { photoCrops } from './within-sample';

const env = (name: string, fallback: string): string => process.env[name] || fallback;

interface Row {
  model: string;
  method: WithinMethod;
  total: number | null;
  layers: Map<string, string>;
  note: string;
}

/**
 * Worst |μ_i − β| (layers with a bias) and |σ_i − 1| over every initialized layer, from a
 * fresh forward pass of the initialized model (not the initializer's cached values).
 */
function verify(model: tf.LayersModel, sample: tf.Tensor, report: WithinLayerReport): { mean: number; std: number } {
  const run = new GraphExecutor(model, sample);
  let mean = 0;
  let std = 0;
  try {
    for (const s of report.layers) {
      if (s.method === 'kept' || s.residualScale !== null) continue;
      const z = s.kind === 'batchnorm' ? run.layerOutput(s.name) : run.preActivation(s.name);
      try {
        const m = channelMoments(z, s.name);
        m.mean.forEach((v, i) => {
          if (s.hasBias) mean = Math.max(mean, Math.abs(v - s.beta));
          std = Math.max(std, Math.abs(m.std[i] - 1));
        });
      } finally {
        z.dispose();
      }
      run.commit(s.name);
    }
  } finally {
    run.dispose();
  }
  return { mean, std };
}

async function runOne(modelName: string, method: WithinMethod, sample: tf.Tensor4D, seed: number): Promise<Row> {
  const model = buildModel(modelName, { seed });
  try {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const extra = JSON.parse(env('WITHIN_OPTIONS', '{}')) as WithinLayerOptionsInput;
    const report = await initializeWithinLayers(model, sample, { method, seed, fallback: { onTooFewRows: 'gaussian' }, ...extra });
    const total = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const layers = new Map(report.layers.map((l) => [l.name, `${l.seconds.toFixed(1)}${l.fallback === null ? '' : '*'}`]));
    const fallbacks = report.layers.filter((l) => l.fallback !== null).map((l) => l.name);
    const worst = Math.max(...report.layers.map((l) => Math.max(l.worstMeanDeviation ?? 0, l.worstStdDeviation ?? 0)));
    const fresh = env('WITHIN_VERIFY', '1') === '1' ? verify(model, sample, report) : null;
    const checked = fresh === null ? '' : `; fresh forward |μ−β| ${fresh.mean.toExponential(1)}, |σ−1| ${fresh.std.toExponential(1)}`;
    return {
      model: modelName,
      method,
      total,
      layers,
      note: `${cpuSeconds.toFixed(1)} CPU-s; worst |μ−β|,|σ−1| ${worst.toExponential(1)}${checked}${fallbacks.length ? `; * gaussian fallback: ${fallbacks.join(', ')}` : ''}`,
    };
  } catch (error) {
    if (!isDdinitError(error)) throw error;
    return { model: modelName, method, total: null, layers: new Map(), note: `${error.name}: ${error.message.split('\n')[0]}` };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const backend = (process.env['DDINIT_BACKEND'] ?? 'wasm') as BackendName;
  const selection = await selectBackend(backend);
  const native = selection.nativeBlas;
  const backendLabel = `${tf.getBackend()}${native === undefined ? '' : native.active ? ` + native BLAS (${native.threads} threads)` : ` (native BLAS off: ${native.reason})`}`;
  const seed = Number(env('WITHIN_SEED', '1'));
  const models = env('WITHIN_MODELS', 'caffenet-small,caffenet').split(',');
  const methods = env('WITHIN_METHODS', 'kmeans,gaussian,orthogonal,pca,patches,zca').split(',') as WithinMethod[];
  for (const m of methods) if (!WITHIN_METHODS.includes(m)) throw new Error(`unknown method ${m}`);
  console.log(
    `# within-layer init, backend ${backendLabel}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const modelName of models) {
    const big = modelName === 'caffenet';
    const images = Number(env(big ? 'WITHIN_IMAGES' : 'WITHIN_SMALL_IMAGES', '160'));
    const sample = big ? await photoCrops(images, 227, 3, 512, seed) : await photoCrops(images, 28, 1, 96, seed);
    console.log(`\n## ${modelName}: ${images} images ${sample.shape.slice(1).join('×')}`);
    const rows: Row[] = [];
    for (const method of methods) {
      const row = await runOne(modelName, method, sample, seed);
      rows.push(row);
      console.log(
        `${method}: ${row.total === null ? 'n/a' : `${row.total.toFixed(1)} s`} ${[...row.layers].map(([k, v]) => `${k} ${v}`).join(', ')} (${row.note})`,
      );
    }
    const names = [...(rows.find((r) => r.layers.size > 0)?.layers.keys() ?? [])];
    console.log(`\n| method | total s | ${names.join(' | ')} | notes |`);
    console.log(`|---|---|${names.map(() => '---').join('|')}|---|`);
    for (const r of rows)
      console.log(`| ${r.method} | ${r.total === null ? 'n/a' : r.total.toFixed(1)} | ${names.map((n) => r.layers.get(n) ?? '').join(' | ')} | ${r.note} |`);
    if (big && rows.some((r) => r.method === 'kmeans' && r.total !== null)) {
      const km = rows.find((r) => r.method === 'kmeans') as Row;
      console.log(`\nwhole k-means init of caffenet: ${(km.total as number).toFixed(1)} s (target ≤ 30 s): ${(km.total as number) <= 30 ? 'met' : 'NOT met'}`);
    }
    sample.dispose();
  }
}

await main();
