/**
 * Eigensolver timings on the CaffeNet conv shapes (one group each): covariance of
 * synthetic patch rows, then the dense solver, subspace iteration and what `auto` picks,
 * with the agreement of subspace iteration with the dense solver.
 */
import { chooseEigenMethod, computeCovariance, denseEigenpairs, Rng, subspaceEigenpairs, type EigenSolver, type Eigenpairs } from '@ddinit/core';
import { powerLawRows } from './kmeans-data';

export interface EigenCase {
  layer: string;
  features: number;
  count: number;
  groups: number;
}

/** CaffeNet conv layers: F = kh·kw·cin/groups, N = cout/groups. */
export const CAFFENET_CONV_CASES: EigenCase[] = [
  { layer: 'conv1', features: 363, count: 96, groups: 1 },
  { layer: 'conv2', features: 1200, count: 128, groups: 2 },
  { layer: 'conv3', features: 2304, count: 384, groups: 1 },
  { layer: 'conv4', features: 1728, count: 192, groups: 2 },
];

export interface EigenTiming {
  case: EigenCase;
  rows: number;
  covarianceSeconds: number;
  denseSeconds: number;
  subspaceSeconds: number;
  subspaceIterations: number;
  auto: EigenSolver;
  /** max_j |λ_j(subspace) − λ_j(dense)| / λ_1 */
  valueError: number;
  /** Σ_j θ_j(subspace) / Σ_j λ_j(dense): the share of the optimal top-N variance captured. */
  capturedVariance: number;
  /** max_j ‖(I − V_dense V_denseᵀ) v_j(subspace)‖ over the top N/2 vectors. */
  halfAngle: number;
  orthonormality: number;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

function orthonormality(e: Eigenpairs): number {
  const { size: f, count: n, vectors: v } = e;
  let worst = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let i = 0; i < f; i++) s += v[i * n + a] * v[i * n + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** Largest sine of the angle between one of the first `first` subspace vectors and the dense top-N span. */
function angleToSpan(dense: Eigenpairs, other: Eigenpairs, first: number): number {
  const { size: f, count: n } = dense;
  const r = new Float64Array(f);
  let worst = 0;
  for (let j = 0; j < first; j++) {
    for (let i = 0; i < f; i++) r[i] = other.vectors[i * n + j];
    for (let p = 0; p < n; p++) {
      let dot = 0;
      for (let i = 0; i < f; i++) dot += dense.vectors[i * n + p] * other.vectors[i * n + j];
      for (let i = 0; i < f; i++) r[i] -= dot * dense.vectors[i * n + p];
    }
    let norm = 0;
    for (let i = 0; i < f; i++) norm += r[i] * r[i];
    worst = Math.max(worst, Math.sqrt(norm));
  }
  return worst;
}

/** Times every case, reporting each through `report` as soon as it is done. */
export function timeEigensolvers(cases: EigenCase[], rows: number, seed: number, report: (t: EigenTiming) => void): void {
  for (const c of cases) {
    const rng = Rng.fromSeed(seed).derive(c.layer);
    const x = powerLawRows(rows, c.features, 0.75, rng);
    let start = performance.now();
    const cov = computeCovariance(x);
    const covarianceSeconds = seconds(start);
    x.dispose();
    start = performance.now();
    const dense = denseEigenpairs(cov.covariance, c.count);
    const denseSeconds = seconds(start);
    start = performance.now();
    const sub = subspaceEigenpairs(cov.covariance, c.count, { seed: rng.derive('subspace') });
    const subspaceSeconds = seconds(start);
    let valueError = 0;
    let captured = 0;
    let optimal = 0;
    for (let j = 0; j < c.count; j++) {
      valueError = Math.max(valueError, Math.abs(sub.values[j] - dense.values[j]) / dense.values[0]);
      captured += sub.values[j];
      optimal += dense.values[j];
    }
    report({
      case: c,
      rows,
      covarianceSeconds,
      denseSeconds,
      subspaceSeconds,
      subspaceIterations: sub.iterations,
      auto: chooseEigenMethod(c.features, c.count),
      valueError,
      capturedVariance: captured / optimal,
      halfAngle: angleToSpan(dense, sub, Math.floor(c.count / 2)),
      orthonormality: orthonormality(sub),
    });
  }
}
