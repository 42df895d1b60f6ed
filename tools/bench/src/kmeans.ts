/**
 * k-means and eigensolver benchmark: `npx nx run bench:kmeans`.
 *
 * 1. ddinit's kmeans (wasm backend) against scikit-learn's MiniBatchKMeans on the same
 *    100k × 363 unit-norm rows (k = 96), written to a temporary file for
 *    tools/bench/python/kmeans_sklearn.py run by Debian's /usr/bin/python3 (install with
 *    `apt-get install -y python3-sklearn`; without it only ours is reported). Both
 *    inertias are evaluated here the same way, on the full data, in float64.
 * 2. Eigensolver timings on the CaffeNet conv shapes (kmeans-eigen.ts).
 *
 * Options (environment): KMEANS_ROWS (100000), KMEANS_DIMS (363), KMEANS_K (96),
 * KMEANS_REPEATS (1), KMEANS_SEED (1), KMEANS_SKLEARN_N_INIT (3,1), EIGEN_ROWS (20000),
 * KMEANS=0 / EIGEN=0 to skip part 1 / part 2,
 * DDINIT_BACKEND (wasm). OPENBLAS_CORETYPE and the BLAS thread settings are passed to
 * Python unchanged and printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { kmeans, Rng } from '@ddinit/core';
import { selectBackend, type BackendName } from '@ddinit/core/backend';
import { unitRowsAroundModes } from './kmeans-data';
import { CAFFENET_CONV_CASES, timeEigensolvers } from './kmeans-eigen';

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../python/kmeans_sklearn.py');

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

/** Σ_i min_c ‖x_i − c‖² in float64, nearest centre by a chunked tfjs product. */
function evaluateInertia(data: Float32Array, n: number, d: number, centres: Float32Array, k: number): number {
  const c = tf.tensor2d(centres, [k, d]);
  const cNorm = tf.sum(tf.square(c), 1);
  let total = 0;
  const chunk = 8192;
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const labels = tf.tidy(() => {
      const part = tf.tensor2d(data.subarray(start * d, (start + rows) * d), [rows, d]);
      return tf.argMin(tf.sub(cNorm, tf.mul(tf.matMul(part, c, false, true), 2)), 1);
    });
    const l = labels.dataSync();
    labels.dispose();
    for (let i = 0; i < rows; i++) {
      const o = (start + i) * d;
      const co = l[i] * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[o + j] - centres[co + j]) ** 2;
      total += s;
    }
  }
  tf.dispose([c, cNorm]);
  return total;
}

interface SklearnRun {
  available: boolean;
  reason?: string;
  version?: string;
  numpy?: string;
  n_init?: number;
  seconds?: number;
  inertia?: number;
  iterations?: number;
  steps?: number;
}

function runSklearn(file: string, n: number, d: number, k: number, seed: number, out: string, nInit: number): SklearnRun {
  const run = spawnSync(PYTHON, [SCRIPT, file, String(n), String(d), String(k), String(seed), out, String(nInit)], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 20,
  });
  if (run.error) return { available: false, reason: `${PYTHON}: ${run.error.message}` };
  if (run.status !== 0) return { available: false, reason: `${PYTHON} exited ${run.status}: ${run.stderr.trim().split('\n').pop()}` };
  const last = run.stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as SklearnRun;
}

async function compareKMeans(n: number, d: number, k: number, repeats: number, seed: number): Promise<void> {
  const rng = Rng.fromSeed(seed);
  const data = unitRowsAroundModes(n, d, 128, 0.06, rng.derive('data'));
  const dir = mkdtempSync(join(tmpdir(), 'ddinit-kmeans-'));
  const file = join(dir, 'rows.f32');
  const centresFile = join(dir, 'sklearn-centres.f32');
  writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const x = tf.tensor2d(data, [n, d]);
  console.log(`data: ${n} × ${d} unit-norm rows around 128 random directions (σ = 0.06), k = ${k}, seed ${seed}`);
  const nInits = (process.env.KMEANS_SKLEARN_N_INIT ?? '3,1').split(',').map(Number);
  console.log(`scikit-learn MiniBatchKMeans(batch_size=1024, n_init ∈ {${nInits.join(', ')}}), other arguments default`);
  console.log(
    'run | ours s | ours inertia | ours iterations | sklearn n_init | sklearn s | sklearn inertia | sklearn steps | time ratio ours/sklearn | inertia ratio ours/sklearn',
  );
  const ratios = new Map<number, { time: number[]; inertia: number[] }>();
  try {
    let missing: string | undefined;
    let versions: string | undefined;
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const ours = await kmeans(x, k, { seed: rng.derive(`run-${r}`) });
      const oursSeconds = (performance.now() - start) / 1000;
      const oursCentres = (await ours.centres.data()) as Float32Array;
      ours.centres.dispose();
      const oursInertia = evaluateInertia(data, n, d, oursCentres, k);
      const oursText = `${r + 1} | ${oursSeconds.toFixed(2)} | ${oursInertia.toFixed(1)} | ${ours.iterations} (${ours.algorithm}, ${ours.emptyClusterRepairs} repairs)`;
      if (missing !== undefined) {
        console.log(`${oursText} | – | – | – | – | – | –`);
        continue;
      }
      for (const nInit of nInits) {
        const sk = runSklearn(file, n, d, k, seed + r, centresFile, nInit);
        if (!sk.available) {
          missing = sk.reason;
          console.log(`${oursText} | – | – | – | – | – | –`);
          console.log(`scikit-learn is not available (${sk.reason}): reporting ours only`);
          break;
        }
        versions = `scikit-learn ${sk.version}, numpy ${sk.numpy} (Debian ${PYTHON})`;
        const skCentres = new Float32Array(readFileSync(centresFile).buffer.slice(0));
        const skInertia = evaluateInertia(data, n, d, skCentres, k);
        const skSeconds = sk.seconds as number;
        const entry = ratios.get(nInit) ?? { time: [], inertia: [] };
        entry.time.push(oursSeconds / skSeconds);
        entry.inertia.push(oursInertia / skInertia);
        ratios.set(nInit, entry);
        console.log(
          `${oursText} | ${nInit} | ${skSeconds.toFixed(2)} | ${skInertia.toFixed(1)} | ${sk.steps} | ` +
            `${(oursSeconds / skSeconds).toFixed(2)} | ${(oursInertia / skInertia).toFixed(4)}`,
        );
      }
    }
    if (versions !== undefined) console.log(versions);
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    for (const [nInit, entry] of ratios) {
      console.log(
        `n_init=${nInit}: median time ratio ours/sklearn ${median(entry.time).toFixed(2)}, median inertia ratio ours/sklearn ${median(entry.inertia).toFixed(4)} (${entry.time.length} runs)`,
      );
    }
  } finally {
    x.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const n = envInt('KMEANS_ROWS', 100_000);
  const d = envInt('KMEANS_DIMS', 363);
  const k = envInt('KMEANS_K', 96);
  const repeats = envInt('KMEANS_REPEATS', 1);
  const seed = envInt('KMEANS_SEED', 1);
  const backend = (process.env.DDINIT_BACKEND ?? 'wasm') as BackendName;
  const selection = await selectBackend(backend);
  const load = () =>
    loadavg()
      .map((v) => v.toFixed(2))
      .join(' ');
  console.log(`load average at start: ${load()} (the machine is shared: compare ratios measured side by side)`);
  console.log(
    `backend: ${selection.name}; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}; ` +
      `OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? '(unset)'}; OPENBLAS_NUM_THREADS=${process.env.OPENBLAS_NUM_THREADS ?? '(unset)'}`,
  );

  if (process.env.KMEANS !== '0') {
    await compareKMeans(n, d, k, repeats, seed);
    console.log(`load average after k-means: ${load()}`);
  }
  if (process.env.EIGEN === '0') return;
  const eigenRows = envInt('EIGEN_ROWS', 20_000);
  console.log(`\neigensolvers: covariance of ${eigenRows} synthetic rows (power-law spectrum, s_i = (1+i)^-0.75), one group per layer`);
  console.log(
    'layer | F | N | groups | covariance s | dense s | subspace s (iterations) | auto | max |Δλ|/λ1 | captured variance Σθ/Σλ | ' +
      'max sin angle, top N/2 vectors vs dense span | subspace ‖VᵀV − I‖max',
  );
  timeEigensolvers(CAFFENET_CONV_CASES, eigenRows, seed, (t) =>
    console.log(
      `${t.case.layer} | ${t.case.features} | ${t.case.count} | ${t.case.groups} | ${t.covarianceSeconds.toFixed(2)} | ${t.denseSeconds.toFixed(2)} | ` +
        `${t.subspaceSeconds.toFixed(2)} (${t.subspaceIterations}) | ${t.auto} | ${t.valueError.toExponential(1)} | ${t.capturedVariance.toFixed(7)} | ${t.halfAngle.toExponential(1)} | ${t.orthonormality.toExponential(1)}`,
    ),
  );
  console.log(`load average at end: ${load()}`);
}

await main();
