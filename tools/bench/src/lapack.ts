/**
 * LAPACK benchmark (issue 16): `npx nx run bench:lapack` (or `cd tools/bench && npx tsx src/lapack.ts`).
 *
 * The addon's QR (sgeqrf + sorgqr) and symmetric eigensolver (dsyevr) against numpy's
 * (numpy.linalg.qr, numpy.linalg.eigh = dsyevd) on the same matrices in one run, through
 * tools/bench/python/lapack_numpy.py on Debian's /usr/bin/python3 (`apt-get install
 * python3-numpy`), which links the same Debian OpenBLAS; the child inherits
 * OPENBLAS_CORETYPE as the addon set it, so both run the same kernels. Per matrix: ours
 * `LAPACK_REPEATS` times (median; one untimed warm-up), then numpy's; the ratio is ours
 * over numpy's. Also timed: the @ddinit/core call stage libraries make (tensor copies
 * included; eigen: the top N only), and the JavaScript reference it replaced
 * (`LAPACK_REFERENCE=0` skips it; eigen only up to F = 1200, where it takes seconds).
 *
 * Matrices (seeded): QR — Gaussian draws of CaffeNet's orthogonal shapes (fc6 9216×4096,
 * fc7 4096×4096, conv3 2304×384); eigen — covariances XᵀX/k of k = 2F Gaussian rows with
 * column scales 1 + j/8 at CaffeNet's conv sizes F = 363, 1200, 2304 (N = 96, 128, 384).
 */
import { spawnSync } from 'node:child_process';
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
const REPEATS = Number(process.env.LAPACK_REPEATS ?? 3);
const REFERENCE = process.env.LAPACK_REFERENCE !== '0';

interface Row {
  what: string;
  ours: number;
  numpy: number | null;
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

function numpySeconds(kind: 'qr' | 'eigh', file: string, rows: number, cols: number): { seconds: number | null; note: string } {
  const run = spawnSync(PYTHON, [SCRIPT, kind, file, String(rows), String(cols), String(REPEATS)], { encoding: 'utf8' });
  if (run.status !== 0) return { seconds: null, note: `numpy unavailable: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}` };
  const out = JSON.parse(run.stdout.trim().split('\n').pop() as string) as { numpy: string; config: string; threads: number; seconds: number };
  return { seconds: out.seconds, note: `numpy ${out.numpy} on ${out.config}, ${out.threads} threads` };
}

function gaussian(n: number, seed: number): Float32Array {
  return Rng.fromSeed(seed).fillNormal(new Float32Array(n));
}

/** XᵀX/k for k×f Gaussian X with column scales 1 + j/8 (sgemm on the addon), as float64, both triangles. */
function covariance(blas: NativeBlas, f: number, seed: number): Float64Array {
  const k = 2 * f;
  const heap = new Float32Array(k * f + f * f);
  heap.set(gaussian(k * f, seed).map((v, i) => (v * (1 + (i % f) / 8)) / Math.sqrt(k)));
  blas.batchMatMul(heap, Int32Array.of(1, 1, 0, f, f, k, 0, 0, 0, 0, -1, 0, k * f));
  const c = Float64Array.from(heap.subarray(k * f));
  for (let i = 0; i < f; i++) for (let j = 0; j < i; j++) c[i * f + j] = c[j * f + i];
  return c;
}

function qrRow(blas: NativeBlas, dir: string, name: string, rows: number, cols: number, notes: Set<string>): Row {
  const a = gaussian(rows * cols, rows + cols);
  const file = join(dir, `${name}.f32`);
  writeFileSync(file, a);
  const work = new Float32Array(a.length);
  const load = loadavg()[0].toFixed(1);
  const ours = time(() => blas.orthonormalizeColumns(work, rows, cols, 0), () => work.set(a));
  const numpy = numpySeconds('qr', file, rows, cols);
  notes.add(numpy.note);
  const y = tf.tensor2d(a, [rows, cols]);
  const core = time(() => orthonormalizeColumns(y).dispose());
  const reference = REFERENCE ? time(() => choleskyQrOrthonormalize(y).dispose(), undefined, 1) : null;
  y.dispose();
  process.stderr.write(`QR ${name}: ours ${ours.toFixed(3)} s, numpy ${numpy.seconds?.toFixed(3)} s, core ${core.toFixed(3)} s, JS ${reference?.toFixed(3)} s\n`);
  return { what: `QR ${name} ${rows}×${cols}`, ours, numpy: numpy.seconds, core, reference, load: `${load}–${loadavg()[0].toFixed(1)}` };
}

function eigenRow(blas: NativeBlas, dir: string, name: string, f: number, count: number, notes: Set<string>): Row {
  const c = covariance(blas, f, f);
  const file = join(dir, `${name}.f64`);
  writeFileSync(file, c);
  const heap = new Float64Array(f * f + f + f * f);
  const load = loadavg()[0].toFixed(1);
  const ours = time(() => blas.symmetricEigen(heap, f, f, 0, f * f, f * f + f), () => heap.set(c));
  const numpy = numpySeconds('eigh', file, f, f);
  notes.add(numpy.note);
  const matrix = { size: f, data: c };
  const core = time(() => denseEigenpairs(matrix, count));
  const reference = REFERENCE && f <= 1200 ? time(() => javascriptEigenpairs(matrix, count), undefined, 1) : null;
  process.stderr.write(`eigen ${name}: ours ${ours.toFixed(3)} s, numpy ${numpy.seconds?.toFixed(3)} s, core ${core.toFixed(3)} s, JS ${reference?.toFixed(3)} s\n`);
  return { what: `eigen ${name} F = ${f} (core: top ${count})`, ours, numpy: numpy.seconds, core, reference, load: `${load}–${loadavg()[0].toFixed(1)}` };
}

async function main(): Promise<void> {
  const native = loadNativeBlas();
  if (!native.ok) throw new Error(`the LAPACK benchmark needs the native addon: ${native.reason}`);
  await selectBackend('wasm');
  const notes = new Set<string>([`ours: ${native.config}, ${native.threads} threads; OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}`]);
  const dir = mkdtempSync(join(tmpdir(), 'ddinit-lapack-'));
  const rows: Row[] = [];
  try {
    for (const [name, r, c] of [['fc6', 9216, 4096], ['fc7', 4096, 4096], ['conv3', 2304, 384]] as const) rows.push(qrRow(native.blas, dir, name, r, c, notes));
    for (const [name, f, n] of [['conv1', 363, 96], ['conv2', 1200, 128], ['conv3', 2304, 384]] as const) rows.push(eigenRow(native.blas, dir, name, f, n, notes));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const s = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  console.log(`| matrix | ours s (all pairs) | numpy s | ours ÷ numpy | @ddinit/core s | JS reference s | load avg |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    console.log(`| ${r.what} | ${s(r.ours)} | ${s(r.numpy)} | ${r.numpy === null ? '—' : (r.ours / r.numpy).toFixed(2)} | ${s(r.core)} | ${s(r.reference)} | ${r.load} |`);
  }
  for (const n of notes) console.log(`- ${n}`);
  console.log(`- medians of ${REPEATS} runs after a warm-up (JS reference: one run); 2 cores shared with other work: compare the ratios`);
}

await main();
