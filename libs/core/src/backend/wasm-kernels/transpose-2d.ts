/**
 * Cache-blocked transpose of row-major matrices, in JavaScript.
 *
 * `dst[j, i] = src[i, j]` for a `[rows, cols]` source written as `[cols, rows]`;
 * `batch` matrices laid out one after the other are transposed independently.
 * Blocks of 32×32 keep both the reads and the writes within cache lines, which
 * matters for power-of-two sizes (a 9216×4096 dense kernel), where the wasm
 * backend's own Transpose is an order of magnitude slower.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { ShapeError } from '../../errors';
import { heapFloat32, type BackendWasm } from './wasm-backend';

const BLOCK = 32;

/**
 * Writes the transpose of each `[rows, cols]` matrix of `src` into `dst`.
 *
 * @throws ShapeError when either array is shorter than `batch · rows · cols`.
 */
export function transposeMatrices(src: Float32Array, dst: Float32Array, rows: number, cols: number, batch = 1): Float32Array {
  const size = rows * cols;
  if (src.length < batch * size || dst.length < batch * size) {
    throw new ShapeError('transpose buffers are too short', {
      where: 'transposeMatrices',
      expected: `${batch}·${rows}·${cols} = ${batch * size} elements`,
      actual: `source ${src.length}, destination ${dst.length}`,
    });
  }
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    if (rows === 1 || cols === 1) {
      dst.set(src.subarray(base, base + size), base);
      continue;
    }
    for (let i0 = 0; i0 < rows; i0 += BLOCK) {
      const i1 = Math.min(rows, i0 + BLOCK);
      for (let j0 = 0; j0 < cols; j0 += BLOCK) {
        const j1 = Math.min(cols, j0 + BLOCK);
        for (let i = i0; i < i1; i++) {
          const srcRow = base + i * cols;
          let d = base + j0 * rows + i;
          for (let j = j0; j < j1; j++, d += rows) dst[d] = src[srcRow + j];
        }
      }
    }
  }
  return dst;
}

/**
 * A new wasm tensor `[batch, cols, rows]` holding the transpose of each
 * `[rows, cols]` matrix of `info` (float32, `batch · rows · cols` elements).
 * The caller owns the result.
 */
export function transposeOnHeap(backend: BackendWasm, info: TensorInfo, rows: number, cols: number, batch = 1): TensorInfo {
  const out = backend.makeOutput([batch, cols, rows], 'float32');
  transposeMatrices(heapFloat32(backend, info), heapFloat32(backend, out), rows, cols, batch);
  return out;
}
