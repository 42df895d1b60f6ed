/**
 * Per-stage profile of the within-layer k-means init: `cd tools/bench && npx tsx src/within-profile.ts`.
 *
 * Re-runs the driver's steps for every conv/dense layer with the library's building
 * blocks and times each stage separately:
 *   forward  — the layer's input from the cached activations (GraphExecutor.layerInput)
 *   gather   — patch rows (gatherPatches, under maxPatchBytes / maxPatchRows)
 *   cov      — mean and covariance (computeCovariance) — or the Gram matrix when n < F
 *   eig      — top min(N, F) eigenpairs (topEigenpairs)
 *   project  — whitened, unit-length rows (projectWhitened)
 *   kmeans   — k-means (seeding + iterations)
 *   map      — centres back to filters and into the kernel (whitenedToFilters, filterRowsToKernel)
 *   z        — one forward of the layer with the drawn W (GraphExecutor.preActivation)
 *   moments  — per-channel μ, σ (channelMoments, float64)
 *   rescale  — normalized W and b written, cached z rescaled (GraphExecutor.rescalePreActivation)
 * Dense layers with fewer rows than units get Gaussian filters (as the bench's fallback).
 *
 * Environment: PROFILE_MODELS (caffenet-small,caffenet), PROFILE_IMAGES (160),
 * PROFILE_BYTES (maxPatchBytes, the library default), PROFILE_ROWS (maxPatchRows),
 * PROFILE_ITERS (k-means maxIterations), PROFILE_ALGO (auto), PROFILE_EIGEN (auto|dense|subspace),
 * PROFILE_EIGEN_TOL (subspace tolerance, library default), PROFILE_INIT_SIZE (k-means++ rows),
 * PROFILE_EIGEN_OVERSAMPLING, PROFILE_EIGEN_ITERS, PROFILE_STOP (last layer to profile),
 * WITHIN_SEED (1), DDINIT_BACKEND (wasm).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  Rng,
  computeCovariance,
  kmeans,
  principalComponents,
  projectWhitened,
  topEigenpairs,
  whitenedToFilters,
  type EigenMethod,
  type KMeansAlgorithm,
} from '@ddinit/core';
import { selectBackend, type BackendName } from '@ddinit/core/backend';
import {
  DENSE_GEOMETRY,
  channelMoments,
  defaultOversampling,
  eigenMethodFor,
  gatherPatches,
  parseWithinLayerOptions,
  randomFilters,
  scaleOutputChannels,
  outputKernel,
  type PatchGeometry,
} from '@ddinit/init-within-layer';
import { GraphExecutor, buildModel, filterRowsShape, filterRowsToKernel, writeBias, writeWeight, type ParameterLayer } from '@ddinit/models';
import { photoCrops } from './within-sample';

const env = (name: string): string | undefined => process.env[name] || undefined;
const num = (name: string): number | undefined => (env(name) === undefined ? undefined : Number(env(name)));

const STAGES = ['forward', 'gather', 'cov', 'eig', 'project', 'kmeans', 'map', 'z', 'moments', 'rescale'] as const;
type Stage = (typeof STAGES)[number];

/** CPU seconds (user + system, every thread of the process) per stage, summed over layers. */
const cpuSums = new Map<Stage, number>();

async function timed<T>(times: Map<Stage, number>, stage: Stage, f: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  try {
    return await f();
  } finally {
    times.set(stage, (times.get(stage) ?? 0) + (performance.now() - start) / 1000);
    const used = process.cpuUsage(cpu);
    cpuSums.set(stage, (cpuSums.get(stage) ?? 0) + (used.user + used.system) / 1e6);
  }
}

function geometryOf(p: ParameterLayer): { geometry: PatchGeometry; output: [number, number] } {
  if (p.kind === 'dense') return { geometry: DENSE_GEOMETRY, output: [1, 1] };
  const c = p.convolution;
  if (c === null || c.pads === null) throw new Error(`layer ${p.name}: no convolution geometry`);
  return {
    geometry: { kernelSize: c.kernelSize, strides: c.strides, dilation: c.dilation, padTop: c.pads.top, padLeft: c.pads.left, groups: p.groups },
    output: [Number(p.outputShape[1]), Number(p.outputShape[2])],
  };
}

async function profileModel(modelName: string, sample: tf.Tensor4D, seed: number): Promise<void> {
  const options = parseWithinLayerOptions({
    seed,
    ...(num('PROFILE_BYTES') === undefined ? {} : { maxPatchBytes: num('PROFILE_BYTES') }),
    ...(num('PROFILE_ROWS') === undefined ? {} : { maxPatchRows: num('PROFILE_ROWS') }),
  });
  const iterations = num('PROFILE_ITERS') ?? options.kmeans.maxIterations;
  const algorithm = (env('PROFILE_ALGO') ?? options.kmeans.algorithm) as KMeansAlgorithm;
  const eigenOption = (env('PROFILE_EIGEN') ?? options.eigen.method) as EigenMethod;
  const eigenMethod = (size: number, m: number): EigenMethod => (eigenOption === 'auto' ? eigenMethodFor(size, Math.min(m, size), oversampling) : eigenOption);
  const eigenTolerance = num('PROFILE_EIGEN_TOL') ?? options.eigen.tolerance;
  const oversampling = num('PROFILE_EIGEN_OVERSAMPLING') ?? options.eigen.oversampling;
  const eigenIterations = num('PROFILE_EIGEN_ITERS') ?? options.eigen.maxIterations;
  const extra = (m: number): { tolerance: number; maxIterations: number; oversampling: number } => ({
    tolerance: eigenTolerance,
    maxIterations: eigenIterations,
    oversampling: oversampling ?? defaultOversampling(m),
  });
  const stop = env('PROFILE_STOP');
  const initSize = num('PROFILE_INIT_SIZE');
  console.log(
    `\n## ${modelName}: ${sample.shape.join('×')}; maxPatchBytes ${options.maxPatchBytes}, maxPatchRows ${options.maxPatchRows}, k-means ${algorithm} ≤ ${iterations} it${initSize ? `, initSize ${initSize}` : ''}, eigen ${eigenOption} tol ${eigenTolerance} ≤ ${eigenIterations} it, oversampling ${oversampling ?? 'min(32, max(8, ⌈M/2⌉))'}`,
  );
  console.log(`| layer | rows×F (groups) | N | ${STAGES.join(' | ')} | total | notes |`);
  console.log(`|---|---|---|${STAGES.map(() => '---').join('|')}|---|---|`);
  const model = buildModel(modelName, { seed });
  const run = new GraphExecutor(model, sample);
  const root = Rng.fromSeed(seed);
  const sums = new Map<Stage, number>();
  const wall = performance.now();
  cpuSums.clear();
  try {
    for (const p of run.parameterLayers) {
      const times = new Map<Stage, number>();
      const rng = root.derive(p.name);
      const info = outputKernel(p);
      const [groups, count, features] = filterRowsShape(info.shape, info.layout, info.layout === 'conv' ? info.groups : 1);
      const x = await timed(times, 'forward', () => run.layerInput(p.name));
      const input4 = p.kind === 'dense' ? tf.reshape(x, [x.shape[0], 1, 1, x.size / x.shape[0]]) : x;
      const { geometry, output } = geometryOf(p);
      const patches = await timed(times, 'gather', () =>
        gatherPatches(input4, geometry, output, {
          rng: rng.derive(info.role).derive('positions'),
          maxRows: options.maxPatchRows,
          maxBytes: options.maxPatchBytes,
          where: p.name,
        }),
      );
      tf.dispose([x, input4]);
      const notes: string[] = [];
      let rows: tf.Tensor3D;
      if (patches.rows < count) {
        notes.push(`gaussian (${patches.rows} < ${count} rows)`);
        rows = randomFilters('gaussian', groups, count, features, rng, p.name);
      } else {
        const perGroup: tf.Tensor2D[] = [];
        for (let g = 0; g < groups; g++) {
          const xg = patches.groups[g];
          const m = Math.min(count, features);
          const where = `${p.name} group ${g}`;
          let mean: Float64Array;
          let eigen;
          if (patches.rows < features) {
            const pc = await timed(times, 'cov', () =>
              principalComponents(xg, m, { where, method: eigenMethod(patches.rows, m), ...extra(Math.min(m, patches.rows)), seed: rng.derive(`eig-${g}`) }),
            );
            mean = pc.mean as Float64Array;
            eigen = pc.eigen;
            notes.push('gram');
          } else {
            const cov = await timed(times, 'cov', () => computeCovariance(xg, { where }));
            mean = cov.mean as Float64Array;
            eigen = await timed(times, 'eig', () =>
              topEigenpairs(cov.covariance, m, { method: eigenMethod(features, m), where, seed: rng.derive(`eig-${g}`), ...extra(m) }),
            );
          }
          if (g === 0) notes.push(`${eigen.method}${eigen.iterations ? ` ${eigen.iterations} it` : ''}`);
          const y = await timed(times, 'project', () =>
            tf.tidy(() => {
              const projected = projectWhitened(xg, eigen, { epsilon: options.epsilon, minEigenvalue: options.minEigenvalue, mean });
              return tf.div(projected, tf.maximum(tf.norm(projected, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
            }),
          );
          const result = await timed(times, 'kmeans', () =>
            kmeans(y, count, {
              seed: rng.derive(`group-${g}`).derive('kmeans'),
              algorithm,
              maxIterations: iterations,
              batchSize: options.kmeans.batchSize,
              where,
              ...(initSize ? { initSize } : {}),
            }),
          );
          if (g === 0) notes.push(`${result.algorithm} ${result.iterations} it${result.converged ? '' : ' (cap)'}`);
          y.dispose();
          perGroup.push(
            await timed(times, 'map', () => whitenedToFilters(result.centres, eigen, { epsilon: options.epsilon, minEigenvalue: options.minEigenvalue })),
          );
          result.centres.dispose();
        }
        rows = tf.stack(perGroup) as tf.Tensor3D;
        tf.dispose(perGroup);
      }
      tf.dispose(patches.groups);
      const kernel = await timed(times, 'map', () => filterRowsToKernel(rows, info.layout, info.shape));
      rows.dispose();
      writeWeight(p, info.role, kernel);
      const zeros = tf.zeros([p.outputChannels]);
      writeBias(p, zeros);
      zeros.dispose();
      run.invalidate(p.name);
      const z = await timed(times, 'z', () => run.preActivation(p.name));
      const moments = await timed(times, 'moments', () => channelMoments(z, p.name));
      z.dispose();
      await timed(times, 'rescale', () => {
        const inverse = Float32Array.from(moments.std, (s) => 1 / s);
        const bias = Float32Array.from(moments.mean, (m, i) => -m * inverse[i]);
        const normalized = scaleOutputChannels(kernel, info, inverse);
        writeWeight(p, info.role, normalized);
        const b = tf.tensor1d(bias);
        writeBias(p, b);
        tf.dispose([normalized, b]);
        run.rescalePreActivation(p.name, inverse, bias);
      });
      kernel.dispose();
      run.commit(p.name);
      let total = 0;
      for (const s of STAGES) {
        total += times.get(s) ?? 0;
        sums.set(s, (sums.get(s) ?? 0) + (times.get(s) ?? 0));
      }
      const shape = patches.rows < count ? `${patches.rows}×${features}` : `${patches.rows}×${features}${groups > 1 ? ` (${groups})` : ''}`;
      console.log(
        `| ${p.name} | ${shape} | ${count} | ${STAGES.map((s) => (times.get(s) ?? 0).toFixed(2)).join(' | ')} | ${total.toFixed(2)} | ${notes.join(', ')} |`,
      );
      if (p.name === stop) break;
    }
    const total = [...sums.values()].reduce((a, b) => a + b, 0);
    console.log(
      `| **sum** | | | ${STAGES.map((s) => (sums.get(s) ?? 0).toFixed(2)).join(' | ')} | ${total.toFixed(2)} | wall ${((performance.now() - wall) / 1000).toFixed(1)} s, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} |`,
    );
    const cpu = [...cpuSums.values()].reduce((a, b) => a + b, 0);
    console.log(`| **CPU s** | | | ${STAGES.map((s) => (cpuSums.get(s) ?? 0).toFixed(2)).join(' | ')} | ${cpu.toFixed(2)} | process CPU time (all threads) |`);
  } finally {
    run.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  await selectBackend((process.env['DDINIT_BACKEND'] ?? 'wasm') as BackendName);
  const seed = Number(env('WITHIN_SEED') ?? '1');
  const images = Number(env('PROFILE_IMAGES') ?? '160');
  console.log(
    `# within-layer k-means profile, backend ${tf.getBackend()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const modelName of (env('PROFILE_MODELS') ?? 'caffenet-small,caffenet').split(',')) {
    const big = modelName === 'caffenet';
    const sample = big ? await photoCrops(images, 227, 3, 512, seed) : await photoCrops(images, 28, 1, 96, seed);
    await profileModel(modelName, sample, seed);
    sample.dispose();
  }
}

await main();
