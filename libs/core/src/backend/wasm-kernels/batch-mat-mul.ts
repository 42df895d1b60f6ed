/**
 * BatchMatMul for the wasm backend without its slow transposed path.
 *
 * tfjs-backend-wasm 4.22 sends a product to XNNPACK's fully-connected operator
 * only when neither operand is transposed and the batch is 1; `transposeA` or
 * `transposeB` falls back to a naive loop 10–20× slower. Dense-layer gradients
 * are exactly those products: for `y = x·W` with `x: [B, I]`, `W: [I, O]`,
 * `dx = dy·Wᵀ` (transposeB) and `dW = xᵀ·dy` (transposeA).
 *
 * This kernel rewrites a transposed product of single matrices into a plain one
 * by materializing the cheaper transpose (cache-blocked, in JS), using
 * `(A·B)ᵀ = Bᵀ·Aᵀ` where that moves the transpose onto a small operand:
 *
 * | flags      | A, B shapes      | computed as                       |
 * |------------|------------------|-----------------------------------|
 * | A·Bᵀ       | [M,K], [N,K]     | A·(Bᵀ)  or  (B·(Aᵀ))ᵀ             |
 * | Aᵀ·B       | [K,M], [K,N]     | (Aᵀ)·B                            |
 * | Aᵀ·Bᵀ      | [K,M], [N,K]     | (B·A)ᵀ  or  (Aᵀ)·(Bᵀ)             |
 *
 * choosing by the number of elements copied (transposes plus XNNPACK's packing
 * of the right operand). For `dx = dy·Wᵀ` at batch 16 that copies 16·(I+O)
 * values instead of transposing the I·O kernel. Batched products (batch > 1)
 * and untransposed ones go to the wasm kernel unchanged.
 *
 * Inputs `a: [...batch, rows, cols]`, `b` likewise, float32; output
 * `[...broadcast(batchA, batchB), M, N]`.
 */
import type * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors';
import { transposeOnHeap } from './transpose-2d';
import { kernelInput, releaseTensor, runWasmKernel, viewWithShape, type WasmKernelArgs, type WasmKernelFunc } from './wasm-backend';

function product(dims: number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** The BatchMatMul kernel function, delegating plain products to `wasmBatchMatMul` (the backend's own kernel). */
export function createBatchMatMulKernel(wasmBatchMatMul: tf.KernelConfig): WasmKernelFunc {
  return ({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo => {
    const a = kernelInput('BatchMatMul', inputs, 'a');
    const b = kernelInput('BatchMatMul', inputs, 'b');
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    const batchA = product(a.shape.slice(0, -2));
    const batchB = product(b.shape.slice(0, -2));
    if ((!transposeA && !transposeB) || batchA !== 1 || batchB !== 1) {
      return runWasmKernel(wasmBatchMatMul, backend, inputs, attrs);
    }
    const [rowsA, colsA] = a.shape.slice(-2);
    const [rowsB, colsB] = b.shape.slice(-2);
    const [M, K] = transposeA ? [colsA, rowsA] : [rowsA, colsA];
    const [kB, N] = transposeB ? [colsB, rowsB] : [rowsB, colsB];
    if (K !== kB) {
      throw new ShapeError('inner dimensions of matMul do not match', {
        where: 'wasm kernel BatchMatMul',
        expected: `${transposeA ? 'aᵀ' : 'a'} [${M},${K}] times ${transposeB ? 'bᵀ' : 'b'} [${K},…]`,
        actual: `a [${a.shape}], b [${b.shape}] (transposeA=${transposeA}, transposeB=${transposeB})`,
      });
    }
    const batchRank = Math.max(a.shape.length, b.shape.length) - 2;
    const outShape = [...new Array<number>(batchRank).fill(1), M, N];
    const plain = (left: tf.TensorInfo, right: tf.TensorInfo) =>
      runWasmKernel(wasmBatchMatMul, backend, { a: left, b: right }, { transposeA: false, transposeB: false });
    const a3 = viewWithShape(a, [1, rowsA, colsA]);
    const b3 = viewWithShape(b, [1, rowsB, colsB]);

    const temporaries: tf.TensorInfo[] = [];
    try {
      let out: tf.TensorInfo;
      if (!transposeA) {
        // A·Bᵀ: transpose B (N·K copied, N·K packed) or compute (B·Aᵀ)ᵀ (M·K + M·K packed + M·N).
        if (2 * N * K <= 2 * M * K + M * N) {
          const bT = transposeOnHeap(backend, b3, N, K);
          temporaries.push(bT);
          out = plain(a3, bT);
        } else {
          const aT = transposeOnHeap(backend, a3, M, K);
          temporaries.push(aT);
          const outT = plain(b3, aT);
          temporaries.push(outT);
          out = transposeOnHeap(backend, outT, N, M);
        }
      } else if (!transposeB) {
        // Aᵀ·B: transpose A (K·M); the alternative always copies more.
        const aT = transposeOnHeap(backend, a3, K, M);
        temporaries.push(aT);
        out = plain(aT, b3);
      } else if (K * M + N * M <= K * M + 2 * N * K) {
        // Aᵀ·Bᵀ = (B·A)ᵀ.
        const outT = plain(b3, a3);
        temporaries.push(outT);
        out = transposeOnHeap(backend, outT, N, M);
      } else {
        const aT = transposeOnHeap(backend, a3, K, M);
        temporaries.push(aT);
        const bT = transposeOnHeap(backend, b3, N, K);
        temporaries.push(bT);
        out = plain(aT, bT);
      }
      out.shape = outShape;
      return out;
    } finally {
      for (const t of temporaries) releaseTensor(backend, t);
    }
  };
}
