/**
 * The names the linear-algebra options accept, declared apart from the algorithms
 * so option schemas can list them without loading tfjs (`@ddinit/core/base`).
 */

/** k-means: `auto` (lloyd up to 250 000 rows, else minibatch), `lloyd` or `minibatch` (linalg/kmeans.ts). */
export const KMEANS_ALGORITHMS = ['auto', 'lloyd', 'minibatch'] as const;
export type KMeansAlgorithm = (typeof KMEANS_ALGORITHMS)[number];

/** Top eigenpairs: `auto`, `dense` or `subspace` iteration (linalg/top-eigenpairs.ts). */
export const EIGEN_METHODS = ['auto', 'dense', 'subspace'] as const;
export type EigenMethod = (typeof EIGEN_METHODS)[number];

/** Principal components: `auto` (gram when n < F), `covariance` or `gram` (linalg/principal-components.ts). */
export const PCA_ROUTES = ['auto', 'covariance', 'gram'] as const;
export type PcaRoute = (typeof PCA_ROUTES)[number];
