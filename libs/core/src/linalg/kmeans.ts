/**
 * k-means clustering of rows (docs/method.md#kmeans, the `kmeans` weight source): greedy
 * k-means++ seeding on a row sample, then full Lloyd iterations (Lloyd 1982) or
 * mini-batch iterations (Sculley, "Web-scale k-means clustering", WWW 2010, with
 * scikit-learn's early stopping), optionally followed by a few full Lloyd passes.
 *
 * Objective: inertia = Σ_i min_c ‖x_i − c‖². Distances go through tfjs products in row
 * chunks (see findNearestCentres); centre sums and the reported inertia are float64.
 * Same seed + same backend → the same centres, bit for bit.
 *
 * Empty clusters: in a Lloyd pass a centre left without rows is re-seeded at the row
 * farthest from its centre (taken from a cluster with more than one row); in mini-batch
 * mode a centre that received no row for one epoch's worth of steps is re-seeded at the
 * farthest row of the current batch. Every repair is counted in `emptyClusterRepairs`
 * and logged.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, NumericalError, ShapeError } from '../errors';
import { KMEANS_ALGORITHMS, type KMeansAlgorithm } from './algorithm-names';
import { silentLogger, silentProgress, type Logger, type Observers, type ProgressListener } from '../logger';
import { Rng } from '../rng';
import { seedKMeansPlusPlus } from './kmeans-plus-plus';
import { findNearestCentres, rowSquaredNorms } from './nearest-centres';

/** The algorithm `auto` resolves to. */
type ResolvedKMeansAlgorithm = Exclude<KMeansAlgorithm, 'auto'>;

export interface KMeansOptions extends Observers {
  /** Seed or Rng for seeding and batch sampling (required: randomness is explicit). */
  seed: number | Rng;
  /**
   * `auto` (default: lloyd when n ≤ 250 000, else minibatch), `lloyd` or `minibatch`. On
   * the 100k × 363, k = 96 benchmark full Lloyd passes were both faster and better than
   * mini-batches (docs/RESULTS.md), so mini-batches are kept for larger samples.
   */
  algorithm?: KMeansAlgorithm;
  /** Lloyd: maximum passes (default 300). Mini-batch: maximum epochs, i.e. steps ≤ ⌈epochs·n/batchSize⌉ (default 100). */
  maxIterations?: number;
  /**
   * Lloyd stops when Σ_c ‖Δc‖² ≤ tolerance · mean_j Var(x_·j) (scikit-learn's rule) or the
   * labels stop changing; mini-batch applies the same test per step (default 1e-4; 0
   * leaves only the other criteria).
   */
  tolerance?: number;
  /** Mini-batch rows per step, drawn with replacement (default 2048). */
  batchSize?: number;
  /**
   * Mini-batch: stop after this many steps without a new best smoothed batch inertia
   * (default 10). Neither mini-batch criterion applies during the first epoch.
   */
  patience?: number;
  /** Full Lloyd passes after mini-batch convergence (default 2). */
  refineIterations?: number;
  /** Rows sampled (without replacement) for k-means++ seeding (default min(n, max(10000, 20·k))). */
  initSize?: number;
  /** Candidates per k-means++ step (default 2 + ⌊ln k⌋). */
  seedingTrials?: number;
  /** Start from these centres ([k, d], not disposed) instead of k-means++ seeding. */
  initialCentres?: tf.Tensor2D;
  /** Rows per distance product (default 8192): memory ≈ chunkRows·(d + k) floats. */
  chunkRows?: number;
  /** Also return every row's cluster index (default false). */
  returnAssignments?: boolean;
  /** Names the data in errors and logs, e.g. `layer conv1`. */
  where?: string;
}

export interface KMeansResult {
  /** [k, d] float32; the caller owns (and disposes) it. */
  centres: tf.Tensor2D;
  /** Nearest centre of each row for the returned centres, when asked for. */
  assignments?: Int32Array;
  /** Σ_i ‖x_i − c_{a_i}‖² over all n rows for the returned centres, summed in float64. */
  inertia: number;
  /** Lloyd passes, or mini-batch steps plus refinement passes. */
  iterations: number;
  /** Empty clusters re-seeded. */
  emptyClusterRepairs: number;
  /** Stopped by a convergence criterion rather than the iteration cap. */
  converged: boolean;
  algorithm: ResolvedKMeansAlgorithm;
}

/** `auto` runs full Lloyd passes up to this many rows. */
const AUTO_LLOYD_MAX_ROWS = 250_000;

/** The rows being clustered, read once from the tensor. */
interface Problem {
  data: Float32Array;
  /** ‖x_i‖² per row. */
  norms: Float64Array;
  n: number;
  d: number;
  k: number;
  chunkRows: number;
}

/** The options, checked and with their defaults resolved for this n and k. */
interface Settings {
  where: string;
  logger: Logger;
  progress: ProgressListener;
  algorithm: ResolvedKMeansAlgorithm;
  maxIterations: number;
  tolerance: number;
  batchSize: number;
  patience: number;
  refineIterations: number;
  initSize: number;
  seedingTrials: number;
  chunkRows: number;
  rng: Rng;
  /** Progress total: every pass over a batch or the data counts (mini-batch steps, then refinement), this bounds them all. */
  totalPasses: number;
}

/** Nearest centres of every row for one set of centres. */
interface Assignment {
  labels: Int32Array;
  distances: Float64Array;
  centres: Float32Array;
}

/** One clustering in progress: the problem, its settings and the state the iterations move. */
interface Run {
  readonly p: Problem;
  readonly s: Settings;
  /** Stop when Σ_c ‖Δc‖² falls to this (see {@link shiftToleranceOf}). */
  readonly shiftTolerance: number;
  /** [k, d] row-major, float64. */
  centres: Float64Array<ArrayBuffer>;
  /** Lloyd passes plus mini-batch steps so far. */
  iterations: number;
  repairs: number;
  /** The assignment of the last Lloyd pass, when it already is the final one (labels unchanged). */
  last?: Assignment;
}

function checkInteger(value: number, name: string, min: number, where: string): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer ≥ ${min}`, { where, expected: `integer ≥ ${min}`, actual: value });
  }
  return value;
}

/** Mean over rows of each cluster (float64 sums), with empty-cluster repair from the farthest rows. */
function updateCentres(
  p: Problem,
  labels: Int32Array,
  distances: Float64Array,
  previous: Float64Array,
): { centres: Float64Array<ArrayBuffer>; repairs: number } {
  const { data, n, d, k } = p;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    counts[l]++;
    const o = i * d;
    const c = l * d;
    for (let j = 0; j < d; j++) sums[c + j] += data[o + j];
  }
  let repairs = 0;
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c);
  if (empty.length > 0) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => distances[b] - distances[a] || a - b);
    let next = 0;
    for (const c of empty) {
      while (next < n && counts[labels[order[next]]] <= 1) next++;
      if (next >= n) break; // every row is alone in its cluster: nothing to move
      const row = order[next++];
      const from = labels[row];
      counts[from]--;
      counts[c] = 1;
      labels[row] = c;
      const o = row * d;
      for (let j = 0; j < d; j++) {
        sums[from * d + j] -= data[o + j];
        sums[c * d + j] = data[o + j];
      }
      repairs++;
    }
  }
  const centres = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) {
      // unrepairable (every row already alone in its cluster): the centre stays where it was
      for (let j = 0; j < d; j++) centres[c * d + j] = previous[c * d + j];
      continue;
    }
    for (let j = 0; j < d; j++) centres[c * d + j] = sums[c * d + j] / counts[c];
  }
  return { centres, repairs };
}

function squaredShift(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

function exactInertia(p: Problem, labels: Int32Array, centres: Float32Array): number {
  const { data, n, d } = p;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const c = labels[i] * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = data[o + j] - centres[c + j];
      s += t * t;
    }
    total += s;
  }
  return total;
}

/** k-means++ seeding on `initSize` rows sampled without replacement. */
async function seedCentres(
  data: Float32Array,
  norms: Float64Array,
  n: number,
  d: number,
  k: number,
  initSize: number,
  seedingTrials: number,
  rng: Rng,
): Promise<Float64Array<ArrayBuffer>> {
  const sampleRows = initSize < n ? rng.derive('init-sample').sampleWithoutReplacement(n, initSize) : null;
  const sample = new Float32Array(initSize * d);
  const sampleNorms = new Float64Array(initSize);
  for (let r = 0; r < initSize; r++) {
    const row = sampleRows ? sampleRows[r] : r;
    sample.set(data.subarray(row * d, row * d + d), r * d);
    sampleNorms[r] = norms[row];
  }
  const seeds = await seedKMeansPlusPlus(sample, sampleNorms, initSize, d, k, rng.derive('kmeans++'), seedingTrials);
  const centres = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centres[c * d + j] = sample[seeds[c] * d + j];
  return centres;
}

/**
 * Checks x, k and every option and resolves the defaults (`auto` → lloyd for
 * n ≤ 250 000 rows; maxIterations 300 for Lloyd, 100 epochs for mini-batches;
 * initSize = min(n, max(10000, 20·k)); seedingTrials = 2 + ⌊ln k⌋).
 */
function resolveSettings(x: tf.Tensor2D, k: number, options: KMeansOptions): Settings {
  const where = options.where ?? 'kmeans';
  if (x.rank !== 2 || x.shape[1] < 1) {
    throw new ShapeError('expected a matrix of rows', { where, expected: '[n, d] with d ≥ 1', actual: x.shape });
  }
  const n = x.shape[0];
  checkInteger(k, 'k', 1, where);
  if (n < k) throw new DataError('fewer rows than clusters', { where, expected: `at least ${k} rows`, actual: n });
  const algorithmOption = options.algorithm ?? 'auto';
  if (!KMEANS_ALGORITHMS.includes(algorithmOption)) {
    throw new ConfigError('unknown k-means algorithm', { where, expected: `one of ${KMEANS_ALGORITHMS.join(', ')}`, actual: algorithmOption });
  }
  const batchSize = checkInteger(options.batchSize ?? 2048, 'batchSize', 1, where);
  const algorithm = algorithmOption === 'auto' ? (n <= AUTO_LLOYD_MAX_ROWS ? 'lloyd' : 'minibatch') : algorithmOption;
  const maxIterations = checkInteger(options.maxIterations ?? (algorithm === 'lloyd' ? 300 : 100), 'maxIterations', 1, where);
  const tolerance = options.tolerance ?? 1e-4;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new ConfigError('tolerance must be a finite number ≥ 0', { where, expected: '≥ 0', actual: tolerance });
  }
  const patience = checkInteger(options.patience ?? 10, 'patience', 1, where);
  const refineIterations = checkInteger(options.refineIterations ?? 2, 'refineIterations', 0, where);
  const initSize = Math.min(n, checkInteger(options.initSize ?? Math.max(10000, 20 * k), 'initSize', 1, where));
  if (initSize < k) throw new ConfigError('initSize must be at least k', { where, expected: `≥ ${k}`, actual: initSize });
  const seedingTrials = checkInteger(options.seedingTrials ?? 2 + Math.floor(Math.log(k)), 'seedingTrials', 1, where);
  const chunkRows = checkInteger(options.chunkRows ?? 8192, 'chunkRows', 1, where);
  const maxSteps = Math.ceil((maxIterations * n) / Math.min(batchSize, n));
  return {
    where,
    logger: options.logger ?? silentLogger,
    progress: options.progress ?? silentProgress,
    algorithm,
    maxIterations,
    tolerance,
    batchSize,
    patience,
    refineIterations,
    initSize,
    seedingTrials,
    chunkRows,
    rng: options.seed instanceof Rng ? options.seed : Rng.fromSeed(options.seed),
    totalPasses: algorithm === 'lloyd' ? maxIterations : maxSteps + refineIterations,
  };
}

/** The rows of x as one float32 array (read only); NumericalError naming the row of a NaN/Inf. */
async function readFiniteRows(x: tf.Tensor2D, where: string): Promise<Float32Array> {
  const data = (await x.data()) as Float32Array;
  const d = x.shape[1];
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new NumericalError('rows hold NaN or Inf', { where, expected: 'finite values', actual: `${data[i]} in row ${Math.floor(i / d)}` });
    }
  }
  return data;
}

/**
 * The convergence threshold on Σ_c ‖Δc‖²: tolerance × mean per-feature variance,
 * (Σ_i ‖x_i‖² − n‖μ‖²) / (n·d) (scikit-learn's scale), so the tolerance is unitless.
 */
function shiftToleranceOf(p: Problem, tolerance: number): number {
  const { data, norms, n, d } = p;
  const mean = new Float64Array(d);
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j] += data[o + j];
    sumSquares += norms[i];
  }
  let meanSquare = 0;
  for (let j = 0; j < d; j++) meanSquare += (mean[j] / n) ** 2;
  return (tolerance * Math.max(0, sumSquares - n * meanSquare)) / (n * d);
}

/** The caller's initial centres (checked to be [k, d]) or k-means++ seeds. */
async function startingCentres(p: Problem, s: Settings, initial: tf.Tensor2D | undefined): Promise<Float64Array<ArrayBuffer>> {
  const { data, norms, n, d, k } = p;
  if (initial === undefined) return seedCentres(data, norms, n, d, k, s.initSize, s.seedingTrials, s.rng);
  if (initial.rank !== 2 || initial.shape[0] !== k || initial.shape[1] !== d) {
    throw new ShapeError('initial centres have the wrong shape', { where: s.where, expected: `[${k}, ${d}]`, actual: initial.shape });
  }
  return Float64Array.from((await initial.data()) as Float32Array);
}

/**
 * Up to `passes` Lloyd iterations (Lloyd 1982): assign every row to its nearest
 * centre, a_i = argmin_c ‖x_i − c‖², then move every centre to the mean of its rows,
 * c ← Σ_{a_i = c} x_i / |{i : a_i = c}| (empty clusters repaired, see updateCentres).
 * Returns true when converged: the labels did not change (that assignment becomes
 * `run.last`), or no repair and Σ_c ‖Δc‖² ≤ run.shiftTolerance.
 */
async function lloydPasses(run: Run, passes: number): Promise<boolean> {
  const { p, s } = run;
  const { where, logger, progress } = s;
  let previous: Int32Array | undefined;
  for (let pass = 0; pass < passes; pass++) {
    const current = Float32Array.from(run.centres);
    const { labels, distances } = await findNearestCentres(p.data, p.n, p.d, p.norms, current, p.k, p.chunkRows);
    run.iterations++;
    const unchanged = previous !== undefined && labels.every((l, i) => l === (previous as Int32Array)[i]);
    if (unchanged) {
      run.last = { labels, distances, centres: current };
      return true;
    }
    previous = Int32Array.from(labels);
    const update = updateCentres(p, labels, distances, run.centres);
    if (update.repairs > 0) {
      run.repairs += update.repairs;
      logger.warn('k-means: empty clusters re-seeded at the farthest rows', { where, pass: run.iterations, repaired: update.repairs });
    }
    const shift = squaredShift(update.centres, run.centres);
    run.centres = update.centres;
    progress({ task: 'kmeans', phase: 'advance', completed: run.iterations, total: s.totalPasses, item: where, fields: { shift } });
    if (update.repairs === 0 && shift <= run.shiftTolerance) return true;
  }
  return false;
}

/** The rows of one mini-batch, drawn with replacement, and their squared norms. */
interface Batch {
  size: number;
  data: Float32Array;
  norms: Float64Array;
}

/** Fills `batch` with rows drawn uniformly with replacement (one `rng.int(n)` per row, in order). */
function drawBatch(p: Problem, batch: Batch, rng: Rng): void {
  const { data, norms, n, d } = p;
  for (let r = 0; r < batch.size; r++) {
    const row = rng.int(n);
    batch.data.set(data.subarray(row * d, row * d + d), r * d);
    batch.norms[r] = norms[row];
  }
}

/**
 * Sculley's mini-batch update with per-centre counts w_c: every centre that
 * received m_c > 0 batch rows moves to c ← (w_c·c + Σ_{a_r = c} x_r) / (w_c + m_c),
 * and w_c ← w_c + m_c (a learning rate of 1/w_c per row, applied to the batch at
 * once). Marks those centres as hit at `step`. Returns the batch inertia
 * Σ_r ‖x_r − c_{a_r}‖² for the centres before the update.
 */
function updateCentresFromBatch(
  run: Run,
  batch: Batch,
  labels: Int32Array,
  distances: Float64Array,
  weights: Float64Array,
  lastHit: Int32Array,
  step: number,
): number {
  const { d, k } = run.p;
  const centres = run.centres;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  let batchInertia = 0;
  for (let r = 0; r < batch.size; r++) {
    const l = labels[r];
    counts[l]++;
    batchInertia += distances[r];
    for (let j = 0; j < d; j++) sums[l * d + j] += batch.data[r * d + j];
  }
  for (let c = 0; c < k; c++) {
    if (counts[c] === 0) continue;
    const total = weights[c] + counts[c];
    for (let j = 0; j < d; j++) centres[c * d + j] = (centres[c * d + j] * weights[c] + sums[c * d + j]) / total;
    weights[c] = total;
    lastHit[c] = step;
  }
  return batchInertia;
}

/**
 * Re-seeds every centre that received no row for `stepsPerEpoch` steps at the
 * batch's farthest rows (largest distance first, ties by row), with weight 1.
 * Returns how many centres it moved.
 */
function reseedStaleCentres(
  run: Run,
  batch: Batch,
  distances: Float64Array,
  weights: Float64Array,
  lastHit: Int32Array,
  step: number,
  stepsPerEpoch: number,
): number {
  const { d, k } = run.p;
  const stale: number[] = [];
  for (let c = 0; c < k; c++) if (step - lastHit[c] >= stepsPerEpoch) stale.push(c);
  if (stale.length === 0) return 0;
  const order = Array.from({ length: batch.size }, (_, r) => r).sort((a, b) => distances[b] - distances[a] || a - b);
  stale.forEach((c, s) => {
    const r = order[s % batch.size];
    for (let j = 0; j < d; j++) run.centres[c * d + j] = batch.data[r * d + j];
    weights[c] = 1;
    lastHit[c] = step;
  });
  return stale.length;
}

/**
 * Mini-batch k-means (Sculley 2010) for at most ⌈maxIterations·n / batch⌉ steps,
 * with scikit-learn's early stopping: after the first epoch (⌈n / batch⌉ steps, so
 * that a centre nobody visits is repaired first) and in a step without repairs,
 * stop when Σ_c ‖Δc‖² ≤ run.shiftTolerance (tolerance > 0), or when the smoothed
 * batch inertia per row, ewa ← (1 − α)·ewa + α·inertia/batch with α = min(1, 2·batch/(n + 1)),
 * has not reached a new minimum for `patience` steps. Returns true when stopped early.
 */
async function miniBatchSteps(run: Run): Promise<boolean> {
  const { p, s } = run;
  const { n, d, k } = p;
  const { where, logger, progress } = s;
  const size = Math.min(s.batchSize, n);
  const batch: Batch = { size, data: new Float32Array(size * d), norms: new Float64Array(size) };
  const maxSteps = Math.ceil((s.maxIterations * n) / size);
  const stepsPerEpoch = Math.ceil(n / size);
  const weights = new Float64Array(k);
  const lastHit = new Int32Array(k);
  const alpha = Math.min(1, (2 * size) / (n + 1));
  let ewa = NaN;
  let bestEwa = Infinity;
  let sinceBest = 0;
  const batchRng = s.rng.derive('batches');
  for (let step = 1; step <= maxSteps; step++) {
    drawBatch(p, batch, batchRng);
    const { labels, distances } = await findNearestCentres(batch.data, size, d, batch.norms, Float32Array.from(run.centres), k, p.chunkRows);
    run.iterations++;
    const before = Float64Array.from(run.centres);
    const batchInertia = updateCentresFromBatch(run, batch, labels, distances, weights, lastHit, step);
    const stale = reseedStaleCentres(run, batch, distances, weights, lastHit, step, stepsPerEpoch);
    if (stale > 0) {
      run.repairs += stale;
      logger.warn('k-means: empty clusters re-seeded at the farthest batch rows', { where, step, repaired: stale });
    }
    const shift = squaredShift(run.centres, before);
    progress({ task: 'kmeans', phase: 'advance', completed: run.iterations, total: s.totalPasses, item: where, fields: { batchInertia: batchInertia / size } });
    const mayStop = step >= stepsPerEpoch && stale === 0;
    if (mayStop && s.tolerance > 0 && shift <= run.shiftTolerance) return true;
    const perRow = batchInertia / size;
    ewa = Number.isNaN(ewa) ? perRow : ewa * (1 - alpha) + perRow * alpha;
    if (ewa < bestEwa) {
      bestEwa = ewa;
      sinceBest = 0;
    } else if (++sinceBest >= s.patience && mayStop) {
      return true;
    }
  }
  return false;
}

/**
 * The result for the current centres: the last Lloyd assignment when it is
 * current, otherwise one more nearest-centre pass; inertia Σ_i ‖x_i − c_{a_i}‖²
 * recomputed exactly in float64.
 */
async function finalResult(run: Run, converged: boolean, returnAssignments: boolean): Promise<KMeansResult> {
  const { p, s } = run;
  const { n, d, k } = p;
  let last = run.last;
  if (last === undefined) {
    const current = Float32Array.from(run.centres);
    const { labels, distances } = await findNearestCentres(p.data, n, d, p.norms, current, k, p.chunkRows);
    last = { labels, distances, centres: current };
  }
  const inertia = exactInertia(p, last.labels, last.centres);
  s.progress({ task: 'kmeans', phase: 'end', completed: run.iterations, total: s.totalPasses, item: s.where, fields: { inertia, repairs: run.repairs } });
  const result: KMeansResult = {
    centres: tf.tensor2d(last.centres, [k, d]),
    inertia,
    iterations: run.iterations,
    emptyClusterRepairs: run.repairs,
    converged,
    algorithm: s.algorithm,
  };
  if (returnAssignments) result.assignments = last.labels;
  return result;
}

/**
 * Clusters the rows of `x` into k centres.
 *
 * @param x [n, d] float32 rows (not disposed); its data is copied to JavaScript once
 *   (n·d floats) for the centre updates.
 * @param k number of clusters, 1 ≤ k ≤ n.
 * @throws ShapeError when x is not 2-D with d ≥ 1; DataError when n < k;
 *   NumericalError on NaN/Inf rows; ConfigError for a bad option.
 * @example
 * const { centres, inertia } = await kmeans(whitenedPatches, 96, { seed: rng.derive('conv1') });
 * // centres: [96, d]; dispose when done
 */
export async function kmeans(x: tf.Tensor2D, k: number, options: KMeansOptions): Promise<KMeansResult> {
  const s = resolveSettings(x, k, options);
  const [n, d] = x.shape;
  const data = await readFiniteRows(x, s.where);
  const p: Problem = { data, norms: rowSquaredNorms(data, n, d), n, d, k, chunkRows: s.chunkRows };
  const shiftTolerance = shiftToleranceOf(p, s.tolerance);
  s.progress({ task: 'kmeans', phase: 'start', completed: 0, total: s.totalPasses, item: s.where, fields: { n, d, k, algorithm: s.algorithm } });
  const centres = await startingCentres(p, s, options.initialCentres);
  const run: Run = { p, s, shiftTolerance, centres, iterations: 0, repairs: 0 };
  let converged: boolean;
  if (s.algorithm === 'lloyd') {
    converged = await lloydPasses(run, s.maxIterations);
  } else {
    converged = await miniBatchSteps(run);
    if (s.refineIterations > 0) await lloydPasses(run, s.refineIterations);
  }
  return finalResult(run, converged, options.returnAssignments === true);
}
