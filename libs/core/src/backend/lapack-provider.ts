/**
 * The LAPACK routines of the OpenBLAS addon as @ddinit/core's LinalgProvider:
 * QR (sgeqrf, the reflectors expanded by blocks) for `orthonormalizeColumns`, the Haar draw for
 * `orthonormalDraw` (Cholesky QR of a tall Gaussian matrix, Stewart's reflectors otherwise), the MRRR symmetric
 * eigensolver in mixed precision (ssytrd + dstemr + sormtr: float32 around a float64 tridiagonal
 * solve; libs/native-blas/src/lapack.h says why) for `denseEigenpairs`, the Gaussian draws
 * of `fillGaussian`, and k-means's seeding and nearest centres (on sgemm) in C.
 * `selectBackend` registers it while the addon is active (see select-backend.ts).
 *
 * The addon works on a typed array and offsets into it; each call here gives it a
 * fresh array of its own (the operands copied in at offset 0), so a tensor's storage is
 * never written. Row-major ↔ column-major is handled in C (libs/native-blas/src/lapack.h).
 */
import { LAPACK_STATUS, type NativeBlas } from '@ddinit/native-blas';
import type { LinalgProvider } from '../linalg/linalg-provider';
import { TILE } from '../linalg/symmetric-matrix';

/** The provider's name, as logs and the backend selection show it. */
export const LAPACK_PROVIDER_NAME = 'LAPACK (sgeqrf/slarfb, ssytrd/dstemr)';

/** A LinalgProvider computing on `blas`'s LAPACK entry points. */
export function createLapackProvider(blas: NativeBlas): LinalgProvider {
  return {
    name: LAPACK_PROVIDER_NAME,
    orthonormalizeColumns(data, rows, cols) {
      return blas.orthonormalizeColumns(data, rows, cols, 0) === LAPACK_STATUS.ok;
    },
    haarOrthonormal(data, rows, cols) {
      return blas.haarOrthonormal(data, rows, cols, 0) === LAPACK_STATUS.ok;
    },
    symmetricEigenpairs(data, size, count) {
      // One float32 buffer: (A + Aᵀ)/2 at 0, the values after it, then the vectors. Only the
      // row-major upper triangle is written: ssytrd('L') reads the column-major lower one.
      const heap = new Float32Array(size * size + count + size * count);
      for (let bi = 0; bi < size; bi += TILE)
        for (let bj = bi; bj < size; bj += TILE)
          for (let i = bi; i < Math.min(bi + TILE, size); i++)
            for (let j = Math.max(bj, i); j < Math.min(bj + TILE, size); j++) heap[i * size + j] = 0.5 * (data[i * size + j] + data[j * size + i]);
      const values = size * size;
      const vectors = values + count;
      if (blas.symmetricEigen(heap, size, count, 0, values, vectors) !== LAPACK_STATUS.ok) return undefined;
      return { values: Float64Array.from(heap.subarray(values, vectors)), vectors: Float64Array.from(heap.subarray(vectors)) };
    },
    fillGaussian(out, state, tables) {
      blas.fillGaussian(out, out.length, 0, state[0], state[1], state[2], state[3], tables);
    },
    kmeansPlusPlus(data, norms, m, d, k, first, uniforms, gram) {
      const chosen = new Int32Array(k);
      blas.kmeansPlusPlus(data, m, d, k, k > 1 ? uniforms.length / (k - 1) : 0, norms, first, uniforms, gram ? 1 : 0, chosen);
      return chosen;
    },
    nearestCentres(data, n, d, norms, centres, k) {
      const [labels, distances] = [new Int32Array(n), new Float64Array(n)];
      blas.nearestCentres(data, n, d, centres, k, norms, labels, distances);
      return { labels, distances };
    },
  };
}
