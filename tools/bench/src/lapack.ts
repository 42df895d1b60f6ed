/**
 * LAPACK benchmark (issue 16): `npx nx run bench:lapack` (or `cd tools/bench && npx tsx src/lapack.ts`).
 *
 * The addon's QR (sgeqrf + the reflectors expanded by blocks) and symmetric eigensolver (ssytrd + dstemr + sormtr) against numpy's
 * (numpy.linalg.qr; numpy.linalg.eigh, which runs ssyevd on a float32 matrix as ours runs float32;
 * `LAPACK_QR=scipy`: scipy.linalg.qr, which stays in float32 as ours does, where numpy 1.24
 * computes a float32 QR in float64) on the same
 * matrices in one run, through
 * tools/bench/python/lapack_numpy.py on Debian's /usr/bin/python3 (`apt-get install
 * python3-numpy`), which links the same Debian OpenBLAS; the child inherits
 * OPENBLAS_CORETYPE as the addon set it, so both run the same kernels. Per matrix, after
 * one untimed run of each, ours and numpy's alternate run by run `LAPACK_REPEATS` times
 * (default 5), so both see the same load; the table gives each side's median and the
 * median of the per-pair ratios ours ÷ numpy. Also timed (median of the same count): the
 * @ddinit/core call the stage libraries make (tensor copies included; eigen: the top N
 * only) and, once, the JavaScript reference it replaced (`LAPACK_REFERENCE=0` skips it).
 *
 * Matrices (seeded): QR — Gaussian draws at CaffeNet's orthogonal shapes: fc6 9216×4096 and
 * fc7 4096×4096 with `LAPACK_FULL=1`, by default half of each side (4608×2048, 2048×2048;
 * an eighth of the work, for a shared machine), and conv3 2304×384; eigen — covariances XᵀX/k of k = 2F Gaussian rows with column scales 1 + j/8 at
 * CaffeNet's conv sizes F = 363, 1200, 2304 (core: top N = 96, 128, 384).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { choleskyQrOrthonormalize, denseEigenpairs, javascriptEigenpairs, orthonormalizeColumns, Rng } from '@ddinit/core';
import { selectBackend } from '@ddinit/core/backend';
import { loadNativeBlas, type NativeBlas } from '@ddinit/native-blas';

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../python/lapack_numpy.py');
const REPEATS = Number(process.env.LAPACK_REPEATS ?? 5);
const FULL = process.env.LAPACK_FULL === '1';
/** numpy.linalg.qr (float64 inside) or, with LAPACK_QR=scipy, scipy.linalg.qr (float32, like ours). */
const QR_KIND = process.env.LAPACK_QR === 'scipy' ? 'qr32' : 'qr';
const REFERENCE = process.env.LAPACK_REFERENCE !== '0';

interface Row {
  what: string;
  ours: number;
  numpy: number;
  ratio: number;
  core: number;
  reference: number | null;
  load: string;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median seconds of `repeats` runs of `fn` after one untimed warm-up; `prepare` runs untimed before each. */
function time(fn: () => void, prepare: () => void = () => undefined, repeats = REPEATS): number {
  const times: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    prepare();
    const start = performance.now();
    fn();
    if (r > 0) times.push((performance.now() - start) / 1000);
  }
  return median(times);
}

/** The numpy side: one Python process answering one timed run per request. */
class Numpy {
  private readonly lines: AsyncIterator<string>;
  private readonly child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });

  constructor() {
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async next(): Promise<Record<string, unknown>> {
    const line = await this.lines.next();
    if (line.done) throw new Error(`${PYTHON} ${SCRIPT} ended (is python3-numpy installed?)`);
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  /** numpy's version and OpenBLAS, as a note. */
  async describe(): Promise<string> {
    const info = await this.next();
    return `numpy ${info.numpy} on ${info.config}, ${info.threads} threads`;
  }

  async seconds(kind: 'qr' | 'qr32' | 'eigh', file: string, rows: number, cols: number): Promise<number> {
    this.child.stdin.write(`${kind} ${file} ${rows} ${cols}\n`);
    return (await this.next()).seconds as number;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** Medians of ours and numpy's runs, alternating (one untimed run of each first), and the median pair ratio. */
async function alternate(ours: () => number, numpy: () => Promise<number>): Promise<{ ours: number; numpy: number; ratio: number }> {
  ours();
  await numpy();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    a.push(ours());
    b.push(await numpy());
  }
  return { ours: median(a), numpy: median(b), ratio: median(a.map((v, i) => v / b[i])) };
}

function gaussian(n: number, seed: number): Float32Array {
  return Rng.fromSeed(seed).fillNormal(new Float32Array(n));
}

/** XᵀX/k for k×f Gaussian X with column scales 1 + j/8 (sgemm on the addon), both triangles. */
function covariance(blas: NativeBlas, f: number, seed: number): Float32Array {
  const k = 2 * f;
  const heap = new Float32Array(k * f + f * f);
  heap.set(gaussian(k * f, seed).map((v, i) => (v * (1 + (i % f) / 8)) / Math.sqrt(k)));
  blas.batchMatMul(heap, Int32Array.of(1, 1, 0, f, f, k, 0, 0, 0, 0, -1, 0, k * f));
  const c = heap.slice(k * f);
  for (let i = 0; i < f; i++) for (let j = 0; j < i; j++) c[i * f + j] = c[j * f + i];
  return c;
}

async function qrRow(blas: NativeBlas, py: Numpy, dir: string, name: string, rows: number, cols: number): Promise<Row> {
  const a = gaussian(rows * cols, rows + cols);
  const file = join(dir, `${name}.f32`);
  writeFileSync(file, a);
  const work = new Float32Array(a.length);
  const load = loadavg()[0].toFixed(1);
  const pair = await alternate(
    () => {
      work.set(a);
      const start = performance.now();
      blas.orthonormalizeColumns(work, rows, cols, 0);
      return (performance.now() - start) / 1000;
    },
    () => py.seconds(QR_KIND, file, rows, cols),
  );
  const y = tf.tensor2d(a, [rows, cols]);
  const core = time(() => orthonormalizeColumns(y).dispose());
  const reference = REFERENCE ? time(() => choleskyQrOrthonormalize(y).dispose(), undefined, 1) : null;
  y.dispose();
  return { what: `QR ${name} ${rows}×${cols}`, ...pair, core, reference, load: `${load}–${loadavg()[0].toFixed(1)}` };
}

async function eigenRow(blas: NativeBlas, py: Numpy, dir: string, name: string, f: number, count: number): Promise<Row> {
  const c = covariance(blas, f, f);
  const file = join(dir, `${name}-covariance.f32`); // not the QR matrix of the same layer's name
  writeFileSync(file, c);
  const heap = new Float32Array(f * f + f + f * f);
  const load = loadavg()[0].toFixed(1);
  const pair = await alternate(
    () => {
      heap.set(c);
      const start = performance.now();
      blas.symmetricEigen(heap, f, f, 0, f * f, f * f + f);
      return (performance.now() - start) / 1000;
    },
    () => py.seconds('eigh', file, f, f),
  );
  const matrix = { size: f, data: Float64Array.from(c) };
  const core = time(() => denseEigenpairs(matrix, count));
  const reference = REFERENCE && f <= 1200 ? time(() => javascriptEigenpairs(matrix, count), undefined, 1) : null;
  return { what: `eigen ${name} F = ${f} (core: top ${count})`, ...pair, core, reference, load: `${load}–${loadavg()[0].toFixed(1)}` };
}

async function main(): Promise<void> {
  const native = loadNativeBlas();
  if (!native.ok) throw new Error(`the LAPACK benchmark needs the native addon: ${native.reason}`);
  await selectBackend('wasm');
  const py = new Numpy();
  const notes = [
    `QR reference: ${QR_KIND === 'qr32' ? 'scipy.linalg.qr (float32)' : 'numpy.linalg.qr (float64 inside)'}`,
    `ours: ${native.config}, ${native.threads} threads; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}`,
    await py.describe(),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'ddinit-lapack-'));
  const rows: Row[] = [];
  const qr: [string, number, number][] = FULL
    ? [
        ['fc6', 9216, 4096],
        ['fc7', 4096, 4096],
      ]
    : [
        ['fc6-half', 4608, 2048],
        ['fc7-half', 2048, 2048],
      ];
  try {
    for (const [name, r, c] of [...qr, ['conv3', 2304, 384] as [string, number, number]]) {
      rows.push(await qrRow(native.blas, py, dir, name, r, c));
      process.stderr.write(`${rows[rows.length - 1].what} done\n`);
    }
    for (const [name, f, n] of [
      ['conv1', 363, 96],
      ['conv2', 1200, 128],
      ['conv3', 2304, 384],
    ] as const) {
      rows.push(await eigenRow(native.blas, py, dir, name, f, n));
      process.stderr.write(`${rows[rows.length - 1].what} done\n`);
    }
  } finally {
    py.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const s = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  console.log(`| matrix | ours s (all pairs) | numpy s | ours ÷ numpy (median pair) | @ddinit/core s | JS reference s | load avg |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.what} | ${s(r.ours)} | ${s(r.numpy)} | ${r.ratio.toFixed(2)} | ${s(r.core)} | ${s(r.reference)} | ${r.load} |`);
  for (const n of notes) console.log(`- ${n}`);
  console.log(`- medians of ${REPEATS} alternating runs after one untimed run each (JS reference: one run); 2 cores shared with other work`);
}

await main();
