/**
 * Parts of CaffeNet's init timed alone (issue 16, part 3): `cd tools/bench && npx tsx src/init-parts.ts`.
 *
 * 1. Building `caffenet` (227×227×3, 1000 classes) with `initialWeights` `heNormal` (tfjs
 *    draws the 61 M kernels in JavaScript) and `zeros` (what the init stage builds when
 *    every kernel is drawn anew).
 * 2. The orthonormal draws of fc6 (9216 × 4096) and fc7 (4096 × 4096) from the same
 *    Gaussian matrix: `qr` = sgeqrf + the reflectors expanded with diag(R) > 0 (`orthonormalizeColumns`),
 *    `stewart` = `haarOrthonormal`, what `orthonormalDraw` calls (Stewart's reflector
 *    product, slarfg + the blocked expansion (sorgqr before 0.2.3), for fc7; since 0.2.2 one Cholesky QR pass for fc6, which
 *    is tall), each with OpenBLAS on 1 and on 2 threads, with
 *    ‖QᵀQ − I‖_max checked on a 256-column slice.
 *
 * 3. The per-channel moments of the within-layer pass (`momentsOf`, float64 JavaScript) on
 *    conv1's pre-activation at 227 px (160 × 55 × 55 × 96 = 46.5 M values, seeded normal
 *    values), the copy of that many floats (what `dataSync` adds on the wasm backend), both
 *    together on a wasm tensor (before), and `tensorChannelMoments` (the kernel reading the
 *    heap in place; C with the addon).
 *
 * Each timing: wall seconds and process CPU seconds (user + sys, every thread), median of
 * `PARTS_REPEATS` runs (default 3) after one untimed warm-up, with the load average. The
 * machine is shared: compare CPU seconds. `PARTS=build`, `draw` or `moments` runs one part,
 * `PARTS_DRAWS=fc7` one draw.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { fillGaussian, Rng, tensorChannelMoments } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import { momentsOf } from '@ddinit/init-within-layer';
import { buildModel } from '@ddinit/models';
import { loadNativeBlas, type NativeBlas } from '@ddinit/native-blas';

const REPEATS = Number(process.env.PARTS_REPEATS ?? 3);
const PARTS = process.env.PARTS ?? 'build,draw,moments';
const DRAWS = (process.env.PARTS_DRAWS ?? 'fc6,fc7').split(',');

interface Timing {
  wall: number;
  cpu: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median wall and CPU seconds of `fn` over REPEATS runs after one untimed one; `prepare` runs untimed before each. */
function time(fn: () => void, prepare: () => void = () => undefined): Timing {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r <= REPEATS; r++) {
    prepare();
    const [start, cpu] = [performance.now(), process.cpuUsage()];
    fn();
    const used = process.cpuUsage(cpu);
    if (r > 0) {
      walls.push((performance.now() - start) / 1000);
      cpus.push((used.user + used.system) / 1e6);
    }
  }
  return { wall: median(walls), cpu: median(cpus) };
}

const load = (): string => loadavg()[0].toFixed(1);

function row(cells: (string | number)[]): void {
  console.log(`| ${cells.join(' | ')} |`);
}

function buildPart(): void {
  row(['caffenet build', 'wall s', 'CPU s', 'load']);
  row(['---', '---', '---', '---']);
  for (const initialWeights of ['heNormal', 'zeros'] as const) {
    const t = time(() => buildModel('caffenet', { seed: 1, initialWeights }).dispose());
    row([initialWeights, t.wall.toFixed(2), t.cpu.toFixed(2), load()]);
  }
}

/** max |(QᵀQ − I)_ab| over the first `k` columns of the row-major m×n q, in float64. */
function orthogonality(q: Float32Array, m: number, n: number, k: number): number {
  const gram = new Float64Array(k * k);
  for (let i = 0; i < m; i++) {
    const r = i * n;
    for (let a = 0; a < k; a++) for (let b = a; b < k; b++) gram[a * k + b] += q[r + a] * q[r + b];
  }
  let worst = 0;
  for (let a = 0; a < k; a++) for (let b = a; b < k; b++) worst = Math.max(worst, Math.abs(gram[a * k + b] - (a === b ? 1 : 0)));
  return worst;
}

function drawPart(blas: NativeBlas): void {
  row(['draw', 'routine', 'threads', 'wall s', 'CPU s', '‖QᵀQ − I‖ (256 columns)', 'load']);
  row(['---', '---', '---', '---', '---', '---', '---']);
  const threads = blas.threads();
  for (const [name, m, n] of [
    ['fc6', 9216, 4096],
    ['fc7', 4096, 4096],
  ] as const) {
    if (!DRAWS.includes(name)) continue;
    const gaussian = fillGaussian(new Float32Array(m * n), Rng.fromSeed(7));
    const work = new Float32Array(m * n);
    for (const routine of ['qr', 'stewart'] as const) {
      for (const count of [1, 2]) {
        blas.setThreads(count);
        const run = routine === 'qr' ? () => blas.orthonormalizeColumns(work, m, n, 0) : () => blas.haarOrthonormal(work, m, n, 0);
        const t = time(run, () => work.set(gaussian));
        row([`${name} ${m}×${n}`, routine, count, t.wall.toFixed(2), t.cpu.toFixed(2), orthogonality(work, m, n, 256).toExponential(1), load()]);
      }
    }
  }
  blas.setThreads(threads);
}

function momentsPart(): void {
  row(['conv1 pre-activation, 160 × 55 × 55 × 96', 'wall s', 'CPU s', 'load']);
  row(['---', '---', '---', '---']);
  const values = fillGaussian(new Float32Array(160 * 55 * 55 * 96), Rng.fromSeed(3));
  const moments = time(() => momentsOf(values, 96));
  row(['momentsOf (float64 loop)', moments.wall.toFixed(3), moments.cpu.toFixed(3), load()]);
  const copy = time(() => values.slice());
  row(['copy of the values', copy.wall.toFixed(3), copy.cpu.toFixed(3), load()]);
  const z = tf.tensor4d(values, [160, 55, 55, 96]);
  const before = time(() => momentsOf(z.dataSync() as Float32Array, 96));
  row(['dataSync + momentsOf (before)', before.wall.toFixed(3), before.cpu.toFixed(3), load()]);
  const kernel = time(() => tensorChannelMoments(z));
  row([`tensorChannelMoments (kernel in the heap, ${loadNativeBlas().ok ? 'C' : 'JavaScript'})`, kernel.wall.toFixed(3), kernel.cpu.toFixed(3), load()]);
  z.dispose();
}

async function main(): Promise<void> {
  await selectBackend('wasm');
  if (PARTS.includes('build')) buildPart();
  if (PARTS.includes('moments')) momentsPart();
  if (PARTS.includes('draw')) {
    const native = loadNativeBlas();
    if (!native.ok) throw new Error(`the draws need the native addon: ${native.reason}`);
    console.log(`\n${native.config}`);
    drawPart(native.blas);
  }
  tf.disposeVariables();
}

await main();
