/**
 * The joint calibration step (docs/method.md#joint-step): every layer's scale
 * chosen together, from how each layer's log change rate responds to every
 * layer's log scale.
 *
 * Let x_j = log s_j be the log scale a step gives free layer j, y_k = log ρ_k the
 * log change rate of layer k and y_K = log σ_out. To first order
 *
 *     y′ = y + J·x,      J the (K+1)×K response matrix.
 *
 * On a positively homogeneous network, a layer j that every path from the input
 * to the top passes through scales everything above it and every gradient below
 * it uniformly, so its column is exact: J_jj = −1, J_kj = +1 for every other k,
 * and +1 for the output. On a chain every column is of this kind, J = 11ᵀ − 2I, and
 * the solution below is the per-layer step. A layer on one branch of a block
 * scales only its branch's share of a merge (a Concat's channels, an Add's
 * summand), and the ReLUs after the merge see a different mixture: its column is
 * measured (finite difference of one measurement).
 */
import { javascriptEigenpairs } from '@ddinit/core';
import type { ModelGraph } from '@ddinit/models';
import type { GraphTop } from './graph-forward';

/** Per free layer: whether every path from the model input to the top passes through it. */
export function onEveryPath(graph: ModelGraph, top: GraphTop, free: readonly number[]): boolean[] {
  const needed = new Set(top.needed);
  return free.map((blocked) => {
    const seen = new Set<number>();
    const stack = graph.inputs.filter((id) => needed.has(id));
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (id === blocked || seen.has(id) || !needed.has(id)) continue;
      seen.add(id);
      stack.push(...graph.nodes[id].consumers);
    }
    return !seen.has(top.node.id);
  });
}

/**
 * The response matrix ((K+1)×K, row-major) with the exact columns of the layers
 * on every path filled in (see the file comment) and the others NaN (to measure).
 */
export function structuralResponse(exact: readonly boolean[]): Float64Array {
  const k = exact.length;
  const response = new Float64Array((k + 1) * k).fill(Number.NaN);
  exact.forEach((isExact, j) => {
    if (!isExact) return;
    for (let a = 0; a <= k; a++) response[a * k + j] = a === j ? -1 : 1;
  });
  return response;
}

/**
 * Writes column j from a measured change: J_aj = (y1_a − y0_a)/h; rows without a
 * defined rate get the structural −1 (itself) or 0.
 */
export function setMeasuredColumn(response: Float64Array, j: number, y0: Float64Array, y1: Float64Array, h: number): void {
  const k = y0.length - 1;
  for (let a = 0; a <= k; a++) {
    const d = (y1[a] - y0[a]) / h;
    response[a * k + j] = Number.isFinite(d) ? d : a === j ? -1 : 0;
  }
}

/**
 * Broyden's rank-one correction after a step x that changed y by dy:
 * J ← J + (dy − J·x)·xᵀ / (xᵀx), so that J·x = dy afterwards. Rows whose change
 * is undefined are left alone. Mutates `response`.
 */
export function updateResponse(response: Float64Array, x: Float64Array, dy: Float64Array): void {
  const k = x.length;
  const norm = x.reduce((s, v) => s + v * v, 0);
  if (!(norm > 1e-12)) return;
  for (let a = 0; a <= k; a++) {
    if (!Number.isFinite(dy[a])) continue;
    let predicted = 0;
    for (let b = 0; b < k; b++) predicted += response[a * k + b] * x[b];
    const miss = (dy[a] - predicted) / norm;
    for (let b = 0; b < k; b++) response[a * k + b] += miss * x[b];
  }
}

export interface JointStep {
  /** x_k = log s_k per free layer (0 for a layer without a rate). */
  logScales: Float64Array;
  /** The common log rate t the step aims at. */
  logTarget: number;
  /**
   * Per equation (the rated layers in order, then the output with the pull), the
   * predicted value after the undamped step minus its aim: zero where the
   * equations can all be met; otherwise it lies along the combinations of
   * log-rates that no scale changes (see {@link unreachableConstraint}).
   */
  residual: Float64Array;
  /** The free-layer index of each rate equation of `residual`. */
  rated: number[];
}

/** The change of log σ_out a step aims at, and the weight of that equation against the rates' (1). */
export interface OutputAim {
  change: number;
  weight: number;
}

/**
 * The linear system A·[x; t] = r of a step: rows for the rated layers, then — when
 * `outputChange` is given — one for the change of log σ_out.
 */
function stepSystem(response: Float64Array, y: Float64Array, output: OutputAim | undefined): { rows: Float64Array[]; rhs: number[]; rated: number[] } {
  const k = y.length - 1;
  const rated = Array.from({ length: k }, (_, i) => i).filter((i) => Number.isFinite(y[i]));
  const n = rated.length + 1;
  const rows: Float64Array[] = [];
  const rhs: number[] = [];
  for (const a of output === undefined ? rated : [...rated, k]) {
    const weight = a === k ? (output as OutputAim).weight : 1;
    const row = new Float64Array(n);
    rated.forEach((b, j) => (row[j] = weight * response[a * k + b]));
    row[n - 1] = a === k ? 0 : -1;
    rows.push(row);
    rhs.push(a === k ? weight * (output as OutputAim).change : -y[a]);
  }
  return { rows, rhs, rated };
}

/**
 * argmin ‖A z − r‖² + μ‖x‖² (x: z without its last entry, the common rate t),
 * minimum-norm (eigenvalues of the normal matrix below 1e-9 of the largest
 * count as zero: a direction no scale moves), in float64.
 */
function leastSquares(rows: Float64Array[], rhs: number[], damping: number): Float64Array {
  const n = rows[0].length;
  const normal = new Float64Array(n * n);
  for (let i = 0; i < n - 1; i++) normal[i * n + i] = damping;
  const atb = new Float64Array(n);
  rows.forEach((row, r) => {
    for (let i = 0; i < n; i++) {
      atb[i] += row[i] * rhs[r];
      for (let j = 0; j < n; j++) normal[i * n + j] += row[i] * row[j];
    }
  });
  // float64 on every backend: the floor below is 1e-9 of the largest eigenvalue, under float32's resolution.
  const { values, vectors } = javascriptEigenpairs({ size: n, data: normal }, n, 'joint calibration step');
  const floor = Math.max(values[0], 0) * 1e-9;
  const z = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    if (!(values[e] > floor)) continue;
    let projection = 0;
    for (let i = 0; i < n; i++) projection += vectors[i * n + e] * atb[i];
    for (let i = 0; i < n; i++) z[i] += (projection / values[e]) * vectors[i * n + e];
  }
  return z;
}

function toStep(system: ReturnType<typeof stepSystem>, z: Float64Array, k: number): JointStep {
  const logScales = new Float64Array(k);
  system.rated.forEach((a, j) => (logScales[a] = z[j]));
  const residual = Float64Array.from(system.rows, (row, i) => row.reduce((s, v, j) => s + v * z[j], 0) - system.rhs[i]);
  return { logScales, logTarget: z[z.length - 1], residual, rated: system.rated };
}

/**
 * The step for the measured `y` (K log-rates, NaN where undefined, then log σ_out):
 * every rated layer's log-rate at one common t, and — when given — log σ_out
 * changed by `output.change` (that equation weighted by `output.weight`), in least squares. When the undamped step moves some layer by
 * more than `radius` in log scale, the Levenberg–Marquardt step (damping μ found
 * by bisection on log μ) whose largest |x_k| is `radius` is taken instead; the
 * residual is always the undamped one's.
 */
export function solveJointStep(response: Float64Array, y: Float64Array, output: OutputAim | undefined, radius = Number.POSITIVE_INFINITY): JointStep {
  const k = y.length - 1;
  const system = stepSystem(response, y, output);
  const full = toStep(system, leastSquares(system.rows, system.rhs, 0), k);
  const largest = (z: Float64Array) => Math.max(0, ...Array.from(z.subarray(0, z.length - 1), Math.abs));
  if (!(Math.max(0, ...Array.from(full.logScales, Math.abs)) > radius)) return full;
  let low = -8;
  let high = 8;
  let best = leastSquares(system.rows, system.rhs, 10 ** high);
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    const z = leastSquares(system.rows, system.rhs, 10 ** mid);
    if (largest(z) > radius) low = mid;
    else {
      high = mid;
      best = z;
    }
  }
  return { ...toStep(system, best, k), residual: full.residual };
}

/** What no choice of scales can change, when the rates cannot all reach one common rate. */
export interface UnreachableConstraint {
  /** The layers the constraint is about. */
  layers: string[];
  /** Coefficient w_k of each layer's log-rate (and `output std` for log σ_out), largest |w| = 1, |w| ≥ 0.05 only. */
  coefficients: Record<string, number>;
  /** Σ w_k log ρ_k now, the value every choice of scales leaves it at (to first order). */
  value: number;
  /** In words, for the report. */
  constraint: string;
}

/**
 * When the step's residual is not zero, it is a combination w of the equations
 * with wᵀA = 0 (the least-squares residual is orthogonal to the range of A):
 * Σ_k w_k log ρ_k (+ w_out log σ_out) moves with no layer's scale, while equal
 * rates (and σ_out = 1 with the pull) need it at 0, since Σ_k w_k = 0. Returns
 * that combination when some layer's predicted miss is at least `tolerance`·|t|
 * (the stopping test's scale), else undefined.
 */
export function unreachableConstraint(step: JointStep, y: Float64Array, names: readonly string[], tolerance: number): UnreachableConstraint | undefined {
  const misses = Array.from(step.residual, Math.abs);
  const largest = Math.max(0, ...misses);
  if (!(largest >= tolerance * Math.max(Math.abs(step.logTarget), 1e-12))) return undefined;
  const coefficients: Record<string, number> = {};
  let value = 0;
  const k = y.length - 1;
  step.residual.forEach((r, i) => {
    const w = r / largest;
    const index = i < step.rated.length ? step.rated[i] : k;
    value += w * y[index];
    if (Math.abs(w) >= 0.05) coefficients[index === k ? 'output std' : names[index]] = Math.round(w * 100) / 100;
  });
  const terms = Object.entries(coefficients)
    .map(([name, w]) => `${w < 0 ? '−' : '+'} ${Math.abs(w) === 1 ? '' : `${Math.abs(w)}·`}log ${name === 'output std' ? 'σ_out' : `ρ(${name})`}`)
    .join(' ')
    .replace(/^\+ /, '');
  return {
    layers: Object.keys(coefficients).filter((name) => name !== 'output std'),
    coefficients,
    value,
    constraint: `${terms} = ${value.toFixed(3)} is not changed by any layer's scale, but equal rates need it to be 0`,
  };
}
