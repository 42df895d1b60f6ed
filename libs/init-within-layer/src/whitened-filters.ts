/**
 * Data-dependent weight sources (Krähenbühl et al. 2016, §3.1; docs/method.md#whitened-sources),
 * on the patch rows X ([n, F]) of one group, with the principal components of
 * C = (X − μ)ᵀ(X − μ)/n (top M = min(N, F) eigenpairs V, whitening factors
 * s_j = (λ_j + ε)^(−1/2), s_j = 0 for λ_j < λ_min):
 *
 * - `pca`: filters S·Vᵀ. When N > F only F components exist; the remaining N − F filters
 *   repeat them with the opposite sign (−s_j v_jᵀ), which after a ReLU passes the other
 *   half-wave of the same component.
 * - `zca`: filters V·S·Vᵀ (only N = F; the driver rejects other layers with a ConfigError).
 * - `kmeans` and `patches`: the recipe in ./kmeans-filters.ts (whiten → unit length →
 *   cluster or pick → map back to filters).
 *
 * Filters act on centred patches; the bias is set afterwards by the normalization step.
 * All linear algebra is @ddinit/core's (principalComponents, pcaFilters, zcaFilters).
 */
import * as tf from '@tensorflow/tfjs';
import { linalgProvider, pcaFilters, principalComponents, zcaFilters, type EigenMethod, type EigenSolver, type Observers, type Rng } from '@ddinit/core';
import { kmeansFilters, patchFilters, type KmeansFilterOptions } from './kmeans-filters';
import type { RandomMethod, WithinMethod } from './within-layer-options';

/** The data-dependent methods: every within method that is not random. */
export type WhitenedMethod = Exclude<WithinMethod, RandomMethod>;

export interface WhitenedFilterOptions extends Observers {
  epsilon: number;
  minEigenvalue: number;
  kmeans: KmeansFilterOptions['kmeans'];
  /** Eigensolver (default `auto`, see {@link eigenMethodFor}); tolerance, cap and oversampling (null: {@link defaultOversampling}) of subspace iteration. */
  eigen?: { method: EigenMethod; tolerance: number; maxIterations: number; oversampling: number | null };
  /** Names the layer and group in errors and logs. */
  where: string;
}

export type WhitenedFilterResult =
  { ok: true; filters: tf.Tensor2D; rank: number; eigenMethod: string } | { ok: false; reason: 'degenerate'; rank: number; needed: number };

/** Eigenvalues that get a nonzero whitening factor. */
function countRank(values: ArrayLike<number>, minEigenvalue: number): number {
  let rank = 0;
  for (let j = 0; j < values.length; j++) if (values[j] >= minEigenvalue && values[j] > 0) rank++;
  return rank;
}

/**
 * The eigensolver for M top pairs of an F×F covariance: `subspace` when the block
 * b = M + max(8, ⌈M/2⌉) is at most F/3 (each iteration costs 2F²b flops against the
 * dense solver's O(F³) in JavaScript), else `dense`. Always `dense` while a LAPACK
 * provider is registered (@ddinit/core/backend does, with the native addon): LAPACK's
 * dense solver is faster than subspace iteration at every size we initialize.
 * @example eigenMethodFor(400, 32) // 'subspace' (caffenet-small conv2) in JavaScript; eigenMethodFor(363, 96) // 'dense'
 */
export function eigenMethodFor(features: number, components: number, oversampling: number | null = null): EigenSolver {
  if (linalgProvider() !== undefined) return 'dense';
  return components + (oversampling ?? defaultOversampling(components)) <= features / 3 ? 'subspace' : 'dense';
}

/**
 * Extra subspace columns p = min(32, max(8, ⌈M/2⌉)). @ddinit/core's max(8, ⌈M/2⌉) makes
 * every iteration's b×b Rayleigh–Ritz solve (JavaScript, O(b³)) dominate for large M
 * (CaffeNet conv3: b = 576); with p ≤ 32 a few more, much cheaper iterations do.
 */
export function defaultOversampling(components: number): number {
  return Math.min(32, Math.max(8, Math.ceil(components / 2)));
}

/** The first `count` rows of [S·Vᵀ; −S·Vᵀ; S·Vᵀ; …]. */
function signedRepeats(filters: tf.Tensor2D, count: number): tf.Tensor2D {
  return tf.tidy(() => {
    const parts: tf.Tensor2D[] = [];
    for (let have = 0, sign = 1; have < count; sign = -sign) {
      const take = Math.min(filters.shape[0], count - have);
      parts.push(tf.mul(filters.slice([0, 0], [take, -1]), sign));
      have += take;
    }
    return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  });
}

/**
 * `count` filters ([count, F]) for one group from its patch rows `x` ([n, F], not
 * disposed; n ≥ count is the caller's check). Returns `ok: false` for a degenerate
 * covariance: rank (eigenvalues ≥ λ_min) below min(N, F) for `pca`, below F for `zca`,
 * zero for `kmeans` and `patches`.
 *
 * @throws the errors of @ddinit/core's principalComponents and kmeans (DataError,
 *   NumericalError on NaN/Inf rows).
 * @example
 * const r = await whitenedFilters('kmeans', patches, 96, rng.derive('conv1'), { epsilon: 1e-3, minEigenvalue: 1e-6, kmeans, where: 'layer conv1' });
 */
export async function whitenedFilters(
  method: WhitenedMethod,
  x: tf.Tensor2D,
  count: number,
  rng: Rng,
  options: WhitenedFilterOptions,
): Promise<WhitenedFilterResult> {
  const f = x.shape[1];
  const components = Math.min(count, f);
  const whitening = { epsilon: options.epsilon, minEigenvalue: options.minEigenvalue };
  const eigenOptions = options.eigen ?? { method: 'auto', tolerance: 1e-2, maxIterations: 200, oversampling: null };
  const size = Math.min(f, x.shape[0]); // the Gram route (n < F) solves an n×n matrix
  const { mean, eigen } = principalComponents(x, components, {
    where: options.where,
    method: eigenOptions.method === 'auto' ? eigenMethodFor(size, Math.min(components, size), eigenOptions.oversampling) : eigenOptions.method,
    tolerance: eigenOptions.tolerance,
    maxIterations: eigenOptions.maxIterations,
    oversampling: eigenOptions.oversampling ?? defaultOversampling(Math.min(components, size)),
    seed: rng.derive('eigen'),
    logger: options.logger,
  });
  const rank = countRank(eigen.values, options.minEigenvalue);
  const needed = method === 'pca' ? components : method === 'zca' ? f : 1;
  if (rank < needed) return { ok: false, reason: 'degenerate', rank, needed };
  const done = (filters: tf.Tensor2D): WhitenedFilterResult => ({ ok: true, filters, rank, eigenMethod: `${eigen.method}` });

  if (method === 'pca') {
    const base = pcaFilters(eigen, whitening);
    if (components === count) return done(base);
    try {
      return done(signedRepeats(base, count));
    } finally {
      base.dispose();
    }
  }
  if (method === 'zca') return done(zcaFilters(eigen, whitening));

  if (method === 'patches') return done(patchFilters(x, mean, eigen, count, rng, whitening));
  return done(await kmeansFilters(x, mean, eigen, count, rng, { whitening, kmeans: options.kmeans, where: options.where, logger: options.logger }));
}
