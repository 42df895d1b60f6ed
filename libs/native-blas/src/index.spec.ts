import { describe, expect, it } from 'vitest';
import {
  geometryArray,
  LAPACK_STATUS,
  loadNativeBlas,
  loadNativeBlasFrom,
  NATIVE_ACTIVATIONS,
  openBlasCoreType,
  type NativeBlas,
  type NativeConvGeometry,
} from './index';

const loaded = loadNativeBlas();
const required = process.env.DDINIT_NATIVE_BLAS === 'require';

/** Deterministic values in [−1, 1) (a small LCG: these specs need no statistics). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The convolution by its definition, in float64. */
function referenceConv(g: NativeConvGeometry, x: Float32Array, w: Float32Array): Float64Array {
  const y = new Float64Array(g.batchSize * g.outHeight * g.outWidth * g.outChannels);
  for (let b = 0; b < g.batchSize; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let co = 0; co < g.outChannels; co++) {
          let sum = 0;
          for (let kh = 0; kh < g.filterHeight; kh++) {
            const ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight;
            if (ih < 0 || ih >= g.inHeight) continue;
            for (let kw = 0; kw < g.filterWidth; kw++) {
              const iw = ow * g.strideWidth - g.padLeft + kw * g.dilationWidth;
              if (iw < 0 || iw >= g.inWidth) continue;
              for (let ci = 0; ci < g.inChannels; ci++) {
                sum +=
                  x[((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + ci] * w[((kh * g.filterWidth + kw) * g.inChannels + ci) * g.outChannels + co];
              }
            }
          }
          y[((b * g.outHeight + oh) * g.outWidth + ow) * g.outChannels + co] = sum;
        }
  return y;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const GEOMETRIES: [string, NativeConvGeometry][] = [
  [
    '3×3 stride 2, pad 1, odd sizes',
    {
      batchSize: 2,
      inHeight: 7,
      inWidth: 6,
      inChannels: 3,
      outHeight: 4,
      outWidth: 3,
      outChannels: 5,
      filterHeight: 3,
      filterWidth: 3,
      strideHeight: 2,
      strideWidth: 2,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padLeft: 1,
    },
  ],
  [
    '3×2 dilation 2, asymmetric padding',
    {
      batchSize: 1,
      inHeight: 8,
      inWidth: 9,
      inChannels: 2,
      outHeight: 6,
      outWidth: 9,
      outChannels: 4,
      filterHeight: 3,
      filterWidth: 2,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 2,
      dilationWidth: 2,
      padTop: 1,
      padLeft: 1,
    },
  ],
  [
    '11×11 stride 4, unpadded (conv1’s shape: every window row one contiguous copy)',
    {
      batchSize: 2,
      inHeight: 23,
      inWidth: 27,
      inChannels: 3,
      outHeight: 4,
      outWidth: 5,
      outChannels: 4,
      filterHeight: 11,
      filterWidth: 11,
      strideHeight: 4,
      strideWidth: 4,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 0,
      padLeft: 0,
    },
  ],
  [
    '1×1 pointwise (no im2col)',
    {
      batchSize: 3,
      inHeight: 4,
      inWidth: 5,
      inChannels: 6,
      outHeight: 4,
      outWidth: 5,
      outChannels: 7,
      filterHeight: 1,
      filterWidth: 1,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 0,
      padLeft: 0,
    },
  ],
];

function sizes(g: NativeConvGeometry) {
  return {
    x: g.batchSize * g.inHeight * g.inWidth * g.inChannels,
    w: g.filterHeight * g.filterWidth * g.inChannels * g.outChannels,
    y: g.batchSize * g.outHeight * g.outWidth * g.outChannels,
  };
}

describe('loadNativeBlas', () => {
  it('is off, with the reason, when DDINIT_NATIVE_BLAS=0', () => {
    expect(loadNativeBlas({ DDINIT_NATIVE_BLAS: '0' })).toEqual({ ok: false, reason: 'turned off by DDINIT_NATIVE_BLAS=0' });
  });

  it('says how to build it when the addon is missing, and rejects a bad thread count', () => {
    expect(loadNativeBlasFrom('../build/Release/no-such-addon.node')).toEqual({
      ok: false,
      reason: 'the native kernels are not built (install libopenblas-dev, then `npm rebuild @ddinit/native-blas`)',
    });
    if (loaded.ok) {
      expect(loadNativeBlasFrom('../build/Release/ddinit_native_blas.node', { DDINIT_NATIVE_BLAS_THREADS: 'two' })).toEqual({
        ok: false,
        reason: "DDINIT_NATIVE_BLAS_THREADS must be a positive integer, got 'two'",
      });
    }
  });

  it('loads the built addon (required in CI, where .ci/run installs libopenblas-dev)', () => {
    if (required) expect(loaded).toMatchObject({ ok: true });
    if (loaded.ok) {
      expect(loaded.config).toMatch(/^OpenBLAS \d+\.\d+/);
      expect(loaded.threads).toBeGreaterThanOrEqual(1);
    } else {
      expect(loaded.reason).toMatch(/not built|failed to load/);
    }
  });
});

describe.skipIf(!loaded.ok)('the native kernels', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;

  it.each(GEOMETRIES)('conv2d matches the definition: %s', (_, g) => {
    const n = sizes(g);
    const heap = new Float32Array(n.x + n.w + n.y + 16);
    heap.set(values(n.x, 1), 3);
    heap.set(values(n.w, 2), 3 + n.x);
    heap.fill(Number.NaN, 3 + n.x + n.w); // the output is written, never read
    blas.conv2d(heap, geometryArray(g), 3, 3 + n.x, -1, NATIVE_ACTIVATIONS.linear, 3 + n.x + n.w);
    const y = heap.subarray(3 + n.x + n.w, 3 + n.x + n.w + n.y);
    const expected = referenceConv(g, values(n.x, 1), values(n.w, 2));
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    expect(heap[3 + n.x + n.w + n.y]).toBeNaN(); // nothing written past the output
  });

  it('adds the bias and applies relu / relu6', () => {
    const g = GEOMETRIES[0][1];
    const n = sizes(g);
    const x = values(n.x, 3).map((v) => v * 8);
    const w = values(n.w, 4);
    const bias = values(g.outChannels, 5);
    const linear = referenceConv(g, x, w).map((v, i) => v + bias[i % g.outChannels]);
    for (const [name, f] of [
      ['relu', (v: number) => Math.max(0, v)],
      ['relu6', (v: number) => Math.min(6, Math.max(0, v))],
    ] as const) {
      const heap = new Float32Array(n.x + n.w + g.outChannels + n.y);
      heap.set(x, 0);
      heap.set(w, n.x);
      heap.set(bias, n.x + n.w);
      blas.conv2d(heap, geometryArray(g), 0, n.x, n.x + n.w, NATIVE_ACTIVATIONS[name], n.x + n.w + g.outChannels);
      expect(maxAbsDiff(heap.subarray(n.x + n.w + g.outChannels), linear.map(f)), name).toBeLessThan(1e-4);
    }
  });

  it.each(GEOMETRIES)('the backprops are the adjoints of conv2d: %s', (_, g) => {
    // <dy, conv(x, w)> = <dw, w> = <dx, x>
    const n = sizes(g);
    const x = values(n.x, 6);
    const w = values(n.w, 7);
    const dy = values(n.y, 8);
    const heap = new Float32Array(2 * (n.x + n.w) + n.y);
    const [xo, wo, dyo, dwo, dxo] = [0, n.x, n.x + n.w, n.x + n.w + n.y, n.x + 2 * n.w + n.y];
    heap.set(x, xo);
    heap.set(w, wo);
    heap.set(dy, dyo);
    heap.fill(Number.NaN, dwo); // outputs start as garbage: the kernels must not accumulate into them
    blas.conv2dBackpropFilter(heap, geometryArray(g), xo, dyo, dwo);
    blas.conv2dBackpropInput(heap, geometryArray(g), dyo, wo, dxo);
    const y = referenceConv(g, x, w);
    const forward = dot(dy, y);
    expect(Math.abs(dot(heap.subarray(dwo, dwo + n.w), w) - forward) / Math.abs(forward)).toBeLessThan(1e-5);
    expect(Math.abs(dot(heap.subarray(dxo, dxo + n.x), x) - forward) / Math.abs(forward)).toBeLessThan(1e-5);
  });

  it('batchMatMul transposes, broadcasts a matrix over the batch and fuses bias + relu', () => {
    // c[i] = relu(a[i]ᵀ · b + bias) for a: [2, 3, 2] (transposed to [2, 2, 3]), b: [3, 2] shared.
    const a = [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6];
    const b = [1, 0, 0, 1, 1, 1];
    const heap = new Float32Array(12 + 6 + 2 + 8);
    heap.set(a, 0);
    heap.set(b, 12);
    heap.set([0.5, -100], 18);
    blas.batchMatMul(heap, Int32Array.of(2, 1, 0, 2, 2, 3, 0, 6, 12, 0, 18, NATIVE_ACTIVATIONS.relu, 20));
    // aᵀ[0] = [[1,3,5],[2,4,6]] · b = [[6, 8], [8, 10]]; + bias, relu → [[6.5, 0], [8.5, 0]]; image 1 is negated → 0, 0, 0, 0.
    expect(Array.from(heap.subarray(20))).toEqual([6.5, 0, 8.5, 0, 0, 0, 0, 0]);
  });

  it('maxPoolGrad: the first maximum of each window takes the gradient; clipped windows at the border', () => {
    // x: one 3×3 image, 1 channel, with a tie (two 5s); 2×2 windows, stride 1, pad top/left 1 → 3×3 outputs.
    const g = {
      batchSize: 1,
      inHeight: 3,
      inWidth: 3,
      inChannels: 1,
      outHeight: 3,
      outWidth: 3,
      outChannels: 1,
      filterHeight: 2,
      filterWidth: 2,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padLeft: 1,
    };
    const x = [1, 5, 2, 5, 3, 4, 0, 6, -1];
    const dy = [1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8];
    const heap = new Float32Array(9 + 9 + 9).fill(Number.NaN);
    heap.set(x, 0);
    heap.set(dy, 9);
    blas.maxPoolGrad(heap, geometryArray(g), 0, 9, 18);
    // Windows (row-major taps, out-of-image taps skipped): (0,0) {1} → x0; (0,1) {1,5} → x1; (0,2) {5,2} → x1;
    // (1,0) {1,5} → x3 (5 below 1); (1,1) {1,5,5,3} → x1 (first 5); (1,2) {5,2,3,4} → x1;
    // (2,0) {5,0} → x3; (2,1) {5,3,0,6} → x7; (2,2) {3,4,6,-1} → x7.
    expect(Array.from(heap.subarray(18))).toEqual([1, 10 + 100 + 10000 + 100000, 0, 1000 + 1e6, 0, 0, 0, 1e7 + 1e8, 0]);
    expect(() => blas.maxPoolGrad(heap, geometryArray({ ...g, outChannels: 2 }), 0, 9, 18)).toThrow(/max pooling needs outChannels = inChannels/);
  });

  it('rejects operands outside the heap, naming them, before writing anything', () => {
    const g = GEOMETRIES[0][1];
    const n = sizes(g);
    const heap = new Float32Array(n.x + n.w + n.y).fill(7);
    expect(() => blas.conv2d(heap, geometryArray(g), 0, n.x, -1, 0, n.x + n.w + 1)).toThrow(
      new RangeError(`y: floats [${n.x + n.w + 1}, ${n.x + n.w + 1 + n.y}) lie outside the heap of ${n.x + n.w + n.y} floats`),
    );
    expect(() => blas.conv2dBackpropInput(heap, geometryArray(g), -1, 0, 0)).toThrow(/dy: floats \[-1,/);
    expect(() => blas.batchMatMul(heap, Int32Array.of(1, 0, 0, 1000, 1000, 1000, 0, 0, 0, 0, -1, 0, 0))).toThrow(/^a: floats/);
    expect(heap.every((v) => v === 7)).toBe(true);
  });

  it('rejects arguments of the wrong kind', () => {
    const g = GEOMETRIES[0][1];
    expect(() => blas.conv2d(new Float64Array(4) as unknown as Float32Array, geometryArray(g), 0, 0, -1, 0, 0)).toThrow(/heap: expected a Float32Array/);
    expect(() => blas.conv2d(new Float32Array(4), new Int32Array(3), 0, 0, -1, 0, 0)).toThrow(/geometry: expected an Int32Array of 15 values/);
    expect(() => blas.conv2d(new Float32Array(4), geometryArray({ ...g, strideHeight: 0 }), 0, 0, -1, 0, 0)).toThrow(/strides\/dilations positive/);
    expect(() => blas.setThreads(0)).toThrow(/threads: expected an integer in \[1, 1024\]/);
  });

  it('sets and reports the thread count', () => {
    const before = blas.threads();
    blas.setThreads(1);
    expect(blas.threads()).toBe(1);
    blas.setThreads(before);
    expect(blas.threads()).toBe(before);
  });
});

describe('openBlasCoreType', () => {
  it('picks the best kernel set the CPU flags allow, and none without AVX2 + FMA', () => {
    const avx512 = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl', 'avx2', 'fma'];
    expect(openBlasCoreType(new Set(avx512))).toBe('SkylakeX');
    expect(openBlasCoreType(new Set(['avx2', 'fma', 'avx512f']))).toBe('Haswell'); // AVX-512 without BW/DQ/VL/CD
    expect(openBlasCoreType(new Set(['sse4_2', 'avx']))).toBeUndefined();
  });
});

describe.skipIf(!loaded.ok)('the LAPACK entry points', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;

  /** Q (row-major rows×cols) times R = QᵀA, in float64: [R, max |QR − A|, max |QᵀQ − I|]. */
  function qrCheck(q: Float32Array, a: Float32Array, rows: number, cols: number): { r: Float64Array; reconstruction: number; orthonormality: number } {
    const r = new Float64Array(cols * cols);
    for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) for (let k = 0; k < rows; k++) r[i * cols + j] += q[k * cols + i] * a[k * cols + j];
    let reconstruction = 0;
    let orthonormality = 0;
    for (let k = 0; k < rows; k++)
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < cols; i++) s += q[k * cols + i] * r[i * cols + j];
        reconstruction = Math.max(reconstruction, Math.abs(s - a[k * cols + j]));
      }
    for (let i = 0; i < cols; i++)
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let k = 0; k < rows; k++) s += q[k * cols + i] * q[k * cols + j];
        orthonormality = Math.max(orthonormality, Math.abs(s - (i === j ? 1 : 0)));
      }
    return { r, reconstruction, orthonormality };
  }

  it('orthonormalizeColumns: known answer, in place at an offset, nothing written around it', () => {
    const heap = new Float32Array([9, 1, 2, 3, 4, 5, 7, 9]);
    expect(blas.orthonormalizeColumns(heap, 3, 2, 1)).toBe(LAPACK_STATUS.ok);
    // Column 1 = (1, 3, 5)/√35; column 2 = the rest of (2, 4, 7), normalized, with r_22 > 0.
    const q1 = [1, 3, 5].map((v) => v / Math.sqrt(35));
    const d = 2 * q1[0] + 4 * q1[1] + 7 * q1[2];
    const rest = [2, 4, 7].map((v, i) => v - d * q1[i]);
    const q2 = rest.map((v) => v / Math.hypot(...rest));
    expect(maxAbsDiff(heap.subarray(1, 7), [q1[0], q2[0], q1[1], q2[1], q1[2], q2[2]])).toBeLessThan(1e-6);
    expect([heap[0], heap[7]]).toEqual([9, 9]);
  });

  it('orthonormalizeColumns: Q orthonormal, R = QᵀA upper triangular with a positive diagonal, QR = A', () => {
    const [rows, cols] = [97, 31];
    const a = values(rows * cols, 7);
    const q = a.slice();
    expect(blas.orthonormalizeColumns(q, rows, cols, 0)).toBe(LAPACK_STATUS.ok);
    const { r, reconstruction, orthonormality } = qrCheck(q, a, rows, cols);
    expect(orthonormality).toBeLessThan(2e-6);
    expect(reconstruction).toBeLessThan(2e-6);
    for (let i = 0; i < cols; i++) {
      expect(r[i * cols + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(Math.abs(r[i * cols + j])).toBeLessThan(2e-6);
    }
  });

  it('orthonormalizeColumns reports dependent or non-finite columns and leaves a unchanged', () => {
    const ones = new Float32Array(40 * 2).fill(1);
    expect(blas.orthonormalizeColumns(ones, 40, 2, 0)).toBe(LAPACK_STATUS.rankDeficient);
    expect(ones.every((v) => v === 1)).toBe(true);
    const broken = values(20 * 3, 8);
    broken[4] = Number.NaN;
    expect(blas.orthonormalizeColumns(broken, 20, 3, 0)).toBe(LAPACK_STATUS.rankDeficient);
  });

  it('orthonormalizeColumns checks its operands: a wide matrix, a out of the heap, a wrong heap type', () => {
    const heap = new Float32Array(12);
    expect(() => blas.orthonormalizeColumns(heap, 2, 3, 0)).toThrow(RangeError);
    expect(() => blas.orthonormalizeColumns(heap, 4, 3, 1)).toThrow(/^a: floats \[1, 13\) lie outside the heap of 12 floats$/);
    expect(() => blas.orthonormalizeColumns(heap, -4, 3, 0)).toThrow(/^rows: expected an integer in \[0, 2\^31\)/);
    expect(() => blas.orthonormalizeColumns(new Float64Array(12) as unknown as Float32Array, 4, 3, 0)).toThrow(/heap: expected a Float32Array/);
  });

  /** n standard normal values, seeded (the LCG above for uniforms, Box–Muller). */
  function gaussians(n: number, seed: number): Float32Array {
    const u = values(2 * n, seed);
    return Float32Array.from({ length: n }, (_, i) => {
      const [a, b] = [(u[2 * i] + 1.000001) / 2, (u[2 * i + 1] + 1) / 2];
      return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
    });
  }

  it('haarOrthonormal: orthonormal columns, the first one x₁/‖x₁‖, in place at an offset; Stewart’s route (m < 2n) reads nothing above the diagonal', () => {
    for (const [rows, cols] of [
      [97, 31],
      [50, 30],
      [40, 40],
    ]) {
      const heap = new Float32Array(rows * cols + 2).fill(5);
      heap.set(gaussians(rows * cols, rows), 1);
      const g = heap.slice(1, 1 + rows * cols);
      expect(blas.haarOrthonormal(heap, rows, cols, 1)).toBe(LAPACK_STATUS.ok);
      const q = heap.slice(1, 1 + rows * cols);
      expect([heap[0], heap[rows * cols + 1]]).toEqual([5, 5]);
      expect(qrCheck(q, q, rows, cols).orthonormality).toBeLessThan(3e-6);
      const first = Array.from({ length: rows }, (_, i) => g[i * cols]);
      const norm = Math.hypot(...first);
      expect(
        maxAbsDiff(
          Array.from({ length: rows }, (_, i) => q[i * cols]),
          first.map((v) => v / norm),
        ),
      ).toBeLessThan(1e-6);
      if (rows >= 2 * cols) continue;
      const above = g.slice();
      for (let i = 0; i < cols; i++) for (let j = i + 1; j < cols; j++) above[i * cols + j] = 1e3 * (i - j);
      expect(blas.haarOrthonormal(above, rows, cols, 0)).toBe(LAPACK_STATUS.ok);
      expect(Array.from(above)).toEqual(Array.from(q));
    }
  });

  it('haarOrthonormal’s Cholesky route (m ≥ 2n) is the Q of the QR with diag(R) > 0 of the whole Gaussian matrix', () => {
    for (const [rows, cols] of [
      [400, 200],
      [900, 120],
    ]) {
      const g = gaussians(rows * cols, cols);
      const [q, reference] = [g.slice(), g.slice()];
      expect(blas.haarOrthonormal(q, rows, cols, 0)).toBe(LAPACK_STATUS.ok);
      expect(blas.orthonormalizeColumns(reference, rows, cols, 0)).toBe(LAPACK_STATUS.ok);
      expect(maxAbsDiff(Array.from(q), Array.from(reference))).toBeLessThan(2e-5);
      expect(qrCheck(q, q, rows, cols).orthonormality).toBeLessThan(3e-6);
    }
  });

  it.each([
    [7, 3, 'Cholesky'],
    [5, 3, 'Stewart'],
  ])('haarOrthonormal is Haar (%i×%i, %s’s route): every entry has mean 0, E[q²] = 1/m and E[q⁴] = 3/(m(m+2)), for all rows alike', (rows, cols) => {
    // Moments of a column of a Haar matrix (uniform on the sphere S^{m−1}). Without the sign
    // correction q₁₁ = −sign(x₁₁)·|x₁₁|/‖x₁‖ would have mean ≈ −0.3 here; a reflector product
    // that is not Haar would tell its rows apart.
    const draws = 4000;
    const sum = new Float64Array(rows * cols);
    const square = new Float64Array(rows * cols);
    const fourth = new Float64Array(rows * cols);
    for (let t = 0; t < draws; t++) {
      const q = gaussians(rows * cols, 1000 + t);
      expect(blas.haarOrthonormal(q, rows, cols, 0)).toBe(LAPACK_STATUS.ok);
      q.forEach((v, k) => {
        sum[k] += v;
        square[k] += v * v;
        fourth[k] += v ** 4;
      });
    }
    const [m2, m4] = [1 / rows, 3 / (rows * (rows + 2))];
    for (let k = 0; k < rows * cols; k++) {
      expect(Math.abs(sum[k] / draws), `mean of entry ${k}`).toBeLessThan(5 * Math.sqrt(m2 / draws));
      expect(Math.abs(square[k] / draws - m2), `E[q²] of entry ${k}`).toBeLessThan(5 * Math.sqrt((m4 - m2 * m2) / draws));
      expect(Math.abs(fourth[k] / draws / m4 - 1), `E[q⁴] of entry ${k}`).toBeLessThan(0.15);
    }
  });

  it('haarOrthonormal checks its operands like orthonormalizeColumns', () => {
    const heap = new Float32Array(12);
    expect(() => blas.haarOrthonormal(heap, 2, 3, 0)).toThrow(RangeError);
    expect(() => blas.haarOrthonormal(heap, 4, 3, 1)).toThrow(/^a: floats \[1, 13\) lie outside the heap of 12 floats$/);
  });

  it('sumOfSquares: Σ x² at an offset in double (values whose float32 sum would round), operands checked', () => {
    const heap = Float32Array.of(9, 1, 2, 3, 4, 5, 16777216, 1, 9);
    expect(blas.sumOfSquares(heap, 5, 1)).toBe(1 + 4 + 9 + 16 + 25);
    expect(blas.sumOfSquares(heap, 2, 6)).toBe(16777216 ** 2 + 1);
    expect(blas.sumOfSquares(heap, 0, 9)).toBe(0);
    expect(() => blas.sumOfSquares(heap, 5, 6)).toThrow(/^x: floats \[6, 11\) lie outside the heap of 9 floats$/);
  });

  /** The ziggurat tables of @ddinit/core's fillGaussian (gaussian-matrix.ts), rebuilt here from their definition. */
  function zigguratTables(): Float64Array {
    const [tail, area] = [3.442619855899, 9.91256303526217e-3];
    const t = new Float64Array(257);
    let f = Math.exp(-0.5 * tail * tail);
    [t[0], t[1]] = [area / f, tail];
    for (let i = 2; i < 128; i++) {
      t[i] = Math.sqrt(-2 * Math.log(area / t[i - 1] + f));
      f = Math.exp(-0.5 * t[i] * t[i]);
    }
    for (let i = 0; i < 128; i++) t[129 + i] = t[i + 1] / t[i];
    return t;
  }

  it('fillGaussian: N(0, 1) moments, the same values for the same state at any offset, other values for another state', () => {
    const n = 200_000;
    const heap = new Float32Array(2 * n + 2).fill(7);
    const tables = zigguratTables();
    blas.fillGaussian(heap, n, 1, 12345, -6789, 1, 0x7fffffff, tables);
    blas.fillGaussian(heap, n, n + 1, 12345, -6789, 1, 0x7fffffff, tables);
    expect([heap[0], heap[2 * n + 1]]).toEqual([7, 7]);
    expect(heap.subarray(n + 1, 2 * n + 1)).toEqual(heap.subarray(1, n + 1));
    let [m1, m2] = [0, 0];
    for (const v of heap.subarray(1, n + 1)) [m1, m2] = [m1 + v / n, m2 + (v * v) / n];
    expect(Math.abs(m1)).toBeLessThan(0.012); // 5 standard errors at n = 2e5
    expect(Math.abs(m2 - 1)).toBeLessThan(0.016);
    blas.fillGaussian(heap, n, n + 1, 12346, -6789, 1, 0x7fffffff, tables);
    expect(heap.subarray(n + 1, n + 11)).not.toEqual(heap.subarray(1, 11));
  });

  it('fillGaussian checks its operands, naming the one that is wrong', () => {
    const [heap, tables] = [new Float32Array(10), zigguratTables()];
    expect(() => blas.fillGaussian(heap, 8, 4, 1, 2, 3, 4, tables)).toThrow(/^out: floats \[4, 12\) lie outside the heap of 10 floats$/);
    expect(() => blas.fillGaussian(heap, 8, 0, 0, 0, 0, 0, tables)).toThrow(/^s0 … s3: expected a nonzero generator state/);
    expect(() => blas.fillGaussian(heap, 8, 0, 2 ** 32, 0, 0, 1, tables)).toThrow(/^s0: expected a 32-bit integer, got 4294967296$/);
    expect(() => blas.fillGaussian(heap, 8, 0, 1, 2, 3, 4, tables.subarray(1))).toThrow(/^tables: expected a Float64Array of 257 values$/);
  });

  it('centredScatter: the mean and scatter of shifted rows against float64 sums, both triangles, operands checked', () => {
    const [rows, cols] = [300, 7];
    const x = values(rows * cols, 12).map((v, k) => 1000 + (k % cols) + v); // means far from 0, spread ≈ 1
    const heap = new Float32Array(rows * cols + cols + rows * cols + cols + cols * cols);
    const [shift, centred, mean, scatter] = [rows * cols, rows * cols + cols, 2 * rows * cols + cols, 2 * rows * cols + 2 * cols];
    heap.set(x);
    heap.set(x.subarray(0, cols), shift); // the first row, as the covariance's first block
    blas.centredScatter(heap, rows, cols, 0, shift, centred, mean, scatter);
    const mu = Array.from({ length: cols }, (_, j) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + j] - x[j];
      return s / rows;
    });
    mu.forEach((m, j) => expect(Math.abs(heap[mean + j] - m)).toBeLessThan(1e-6 * (1 + Math.abs(m))));
    for (let a = 0; a < cols; a++)
      for (let b = 0; b < cols; b++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += (x[r * cols + a] - x[a] - mu[a]) * (x[r * cols + b] - x[b] - mu[b]);
        expect(Math.abs(heap[scatter + a * cols + b] - s)).toBeLessThan(1e-5 * rows); // float32 products of values ≈ 1: ≈ 1e-7·√rows relative
        expect(heap[scatter + a * cols + b]).toBe(heap[scatter + b * cols + a]);
      }
    expect(() => blas.centredScatter(heap, 0, cols, 0, shift, centred, mean, scatter)).toThrow(/^rows: expected at least 1 row$/);
    expect(() => blas.centredScatter(heap, rows, cols, 0, shift, centred, mean, heap.length - 10)).toThrow(/^scatter: floats \[/);
  });

  it('gatherPatches: the rows of the sampled positions, zeros outside the image; a position out of range is refused', () => {
    // x [1, 2, 3, 1] = 1…6; a 2×2 window, stride 1, padding 1 on top and left: out 2×3 positions.
    const g = {
      batchSize: 1,
      inHeight: 2,
      inWidth: 3,
      inChannels: 1,
      outHeight: 2,
      outWidth: 3,
      outChannels: 1,
      filterHeight: 2,
      filterWidth: 2,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padLeft: 1,
    };
    const heap = Float32Array.of(1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0);
    blas.gatherPatches(heap, geometryArray(g), 1, 0, Int32Array.of(0, 4), 6);
    // position 0 (oy 0, ox 0): [pad, pad, pad, x00]; position 4 (oy 1, ox 1): [x00, x01, x10, x11].
    expect(Array.from(heap.subarray(6, 14))).toEqual([0, 0, 0, 1, 1, 2, 4, 5]);
    expect(() => blas.gatherPatches(heap, geometryArray(g), 1, 0, Int32Array.of(6), 6)).toThrow(/^positions: expected values in \[0, 6\), got 6 at 0$/);
    expect(() => blas.gatherPatches(heap, geometryArray(g), 1, 0, [0] as unknown as Int32Array, 6)).toThrow(/^positions: expected an Int32Array$/);
  });

  it('kmeansPlusPlus and nearestCentres: a known answer on two far groups, operands checked', () => {
    // Rows 0–2 near (0, 0), rows 3–5 near (100, 0); the first seed row 0, so the next is drawn from rows 3–5.
    const x = Float32Array.of(0, 0, 1, 0, 0, 1, 100, 0, 101, 0, 100, 1);
    const norms = Float64Array.from({ length: 6 }, (_, i) => x[2 * i] ** 2 + x[2 * i + 1] ** 2);
    for (const gram of [0, 1]) {
      const chosen = new Int32Array(2);
      blas.kmeansPlusPlus(x, 6, 2, 2, 3, norms, 0, Float64Array.of(0.1, 0.5, 0.9), gram, chosen);
      expect(chosen[0]).toBe(0);
      expect(chosen[1]).toBeGreaterThanOrEqual(3);
    }
    const [labels, distances] = [new Int32Array(6), new Float64Array(6)];
    blas.nearestCentres(x, 6, 2, Float32Array.of(0, 0, 100, 0), 2, norms, labels, distances);
    expect(Array.from(labels)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(distances)).toEqual([0, 1, 1, 0, 1, 1]);
    expect(() => blas.kmeansPlusPlus(x, 6, 2, 2, 3, norms, 6, new Float64Array(3), 0, new Int32Array(2))).toThrow(/0 <= first < n/);
    expect(() => blas.kmeansPlusPlus(x, 6, 2, 2, 3, norms, 0, new Float64Array(2), 0, new Int32Array(2))).toThrow(
      /^uniforms: expected a Float64Array of at least 3 values$/,
    );
    expect(() => blas.nearestCentres(x, 6, 2, new Float32Array(3), 2, norms, labels, distances)).toThrow(
      /^centres: expected a Float32Array of at least 4 values$/,
    );
    expect(() => blas.nearestCentres(x, 6, 2, Float32Array.of(0, 0, 1, 1), 2, norms, new Int32Array(5), distances)).toThrow(/^labels: expected an? Int32Array/);
  });

  it('symmetricEigen: known answer, descending, in place at offsets', () => {
    // [[2, 1], [1, 2]]: λ = 3 with (1, 1)/√2, λ = 1 with (1, −1)/√2.
    const heap = Float32Array.of(-1, 2, 1, 1, 2, 0, 0, 0, 0, 0, 0, -1);
    expect(blas.symmetricEigen(heap, 2, 2, 1, 5, 7)).toBe(LAPACK_STATUS.ok);
    expect(Array.from(heap.subarray(5, 7))).toEqual([expect.closeTo(3, 6), expect.closeTo(1, 6)]);
    const v = heap.subarray(7, 11); // row-major 2×2, columns the vectors
    expect(Math.abs(v[0] * v[1] + v[2] * v[3])).toBeLessThan(1e-6);
    expect(Math.abs(v[0] - v[2])).toBeLessThan(1e-6); // λ = 3: equal entries
    expect(Math.abs(v[1] + v[3])).toBeLessThan(1e-6); // λ = 1: opposite entries
    expect([heap[0], heap[11]]).toEqual([-1, -1]);
    // Only the row-major upper triangle is read: the entry below the diagonal may be anything.
    const lower = Float32Array.of(2, 1, 99, 2, 0, 0, 0, 0, 0, 0);
    expect(blas.symmetricEigen(lower, 2, 2, 0, 4, 6)).toBe(LAPACK_STATUS.ok);
    expect(Array.from(lower.subarray(4, 6))).toEqual([expect.closeTo(3, 6), expect.closeTo(1, 6)]);
  });

  /** A symmetric n×n matrix (float64) and its float32 copy in a heap with room for `count` pairs. */
  function symmetricHeap(n: number, count: number, seed: number, factor = 1): { a: Float64Array; heap: Float32Array } {
    const x = values(n * n, seed);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = Math.fround((x[i * n + j] + x[j * n + i]) * factor);
    const heap = new Float32Array(n * n + count + n * count);
    heap.set(a);
    return { a, heap };
  }

  it('symmetricEigen: the top pairs of a random symmetric matrix, residual ‖Av − λv‖ and ‖VᵀV − I‖ at float32 level', () => {
    const [n, count] = [200, 30];
    const { a, heap } = symmetricHeap(n, count, 9);
    expect(blas.symmetricEigen(heap, n, count, 0, n * n, n * n + count)).toBe(LAPACK_STATUS.ok);
    const w = heap.subarray(n * n, n * n + count);
    const v = heap.subarray(n * n + count);
    for (let j = 1; j < count; j++) expect(w[j]).toBeLessThanOrEqual(w[j - 1]);
    let [residual, orthogonality] = [0, 0];
    for (let j = 0; j < count; j++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * v[k * count + j];
        residual = Math.max(residual, Math.abs(s - w[j] * v[i * count + j]));
      }
      for (let l = j; l < count; l++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += v[i * count + j] * v[i * count + l];
        orthogonality = Math.max(orthogonality, Math.abs(s - (j === l ? 1 : 0)));
      }
    }
    // Backward stable in float32: errors of a few ε₃₂·‖A‖ (ε₃₂ = 6e-8), far below float32's 1e-3.
    expect(residual).toBeLessThan(2e-6 * Math.abs(w[0]));
    expect(orthogonality).toBeLessThan(2e-6);
  });

  it('symmetricEigen: all pairs keep the trace and the Frobenius norm (Σλ = tr A, Σλ² = ‖A‖²_F) to float32 rounding', () => {
    const n = 120;
    const { a, heap } = symmetricHeap(n, n, 5);
    expect(blas.symmetricEigen(heap, n, n, 0, n * n, n * n + n)).toBe(LAPACK_STATUS.ok);
    const w = heap.subarray(n * n, n * n + n);
    let [trace, frobenius, sum, squares] = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    for (const x of a) frobenius += x * x;
    for (const x of w) [sum, squares] = [sum + x, squares + x * x];
    expect(Math.abs(sum - trace)).toBeLessThan(1e-5 * Math.sqrt(frobenius) * Math.sqrt(n));
    expect(Math.abs(squares / frobenius - 1)).toBeLessThan(1e-6);
  });

  it('symmetricEigen: a matrix scaled by 1e-30 or 1e30 has the scaled pairs (ssytrd’s reflectors and dstemr rescale on their own)', () => {
    const [n, count] = [40, 5];
    const pairs = (factor: number) => {
      const { heap } = symmetricHeap(n, count, 4, factor);
      expect(blas.symmetricEigen(heap, n, count, 0, n * n, n * n + count)).toBe(LAPACK_STATUS.ok);
      return { w: Array.from(heap.subarray(n * n, n * n + count), (v) => v / factor), v: heap.slice(n * n + count) };
    };
    const reference = pairs(1);
    for (const factor of [1e-30, 1e30]) {
      const scaled = pairs(factor);
      scaled.w.forEach((w, j) => expect(Math.abs(w - reference.w[j])).toBeLessThan(1e-5 * Math.abs(reference.w[0])));
      for (let j = 0; j < count; j++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += scaled.v[i * count + j] * reference.v[i * count + j];
        expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-4);
      }
    }
  });

  it('symmetricEigen checks its operands, naming the one out of the heap', () => {
    const heap = new Float32Array(10);
    expect(() => blas.symmetricEigen(heap, 2, 3, 0, 4, 6)).toThrow(/^count: expected an integer in \[0, size\]$/);
    expect(() => blas.symmetricEigen(heap, 2, 2, 0, 4, 7)).toThrow(/^vectors: floats \[7, 11\) lie outside the heap of 10 floats$/);
    expect(() => blas.symmetricEigen(heap, 3, 1, 2, 0, 0)).toThrow(/^a: floats \[2, 11\)/);
    expect(() => blas.symmetricEigen(new Float64Array(10) as unknown as Float32Array, 2, 2, 0, 4, 6)).toThrow(/heap: expected a Float32Array/);
  });
});

/** LRN over the last axis by its definition, in float64: y and the scales s. */
function referenceLrn(x: Float32Array, channels: number, r: number, bias: number, alpha: number, beta: number): { y: Float64Array; s: Float64Array } {
  const y = new Float64Array(x.length);
  const s = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const d = i % channels;
    let sum = 0;
    for (let k = Math.max(0, d - r); k <= Math.min(channels - 1, d + r); k++) sum += x[i - d + k] ** 2;
    s[i] = bias + alpha * sum;
    y[i] = x[i] * s[i] ** -beta;
  }
  return { y, s };
}

/** ∂(Σ dy·y)/∂x of the LRN by the chain rule over every (output, input) pair of a window, in float64. */
function referenceLrnGrad(x: Float32Array, dy: Float32Array, channels: number, r: number, bias: number, alpha: number, beta: number): Float64Array {
  const { y, s } = referenceLrn(x, channels, r, bias, alpha, beta);
  const dx = new Float64Array(x.length);
  for (let o = 0; o < x.length; o++) {
    const d = o % channels;
    for (let k = Math.max(0, d - r); k <= Math.min(channels - 1, d + r); k++) {
      const i = o - d + k;
      dx[i] += dy[o] * ((i === o ? s[o] ** -beta : 0) - (2 * alpha * beta * x[i] * y[o]) / s[o]);
    }
  }
  return dx;
}

function maxRelativeError(actual: Float32Array, expected: Float64Array): number {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0) / scale;
}

describe.skipIf(!loaded.ok)('the native local response normalization', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;
  // CaffeNet's norm1/norm2 (depthRadius 2, alpha 1e-4/5, beta 0.75) on values of conv scale; tfjs's defaults; a window wider than the channels.
  const CASES: [string, { channels: number; r: number; bias: number; alpha: number; beta: number; scale: number }][] = [
    ['CaffeNet (beta 0.75)', { channels: 32, r: 2, bias: 1, alpha: 2e-5, beta: 0.75, scale: 100 }],
    ['tfjs defaults (beta 0.5)', { channels: 16, r: 5, bias: 1, alpha: 1, beta: 0.5, scale: 1 }],
    ['any beta, window wider than the channels', { channels: 3, r: 4, bias: 2, alpha: 0.3, beta: 0.6, scale: 2 }],
  ];

  it.each(CASES)('lrn and lrnGrad match the definition within 1e-5 relative: %s', (_, c) => {
    const rows = 7;
    const n = rows * c.channels;
    const x = values(n, 3).map((v) => v * c.scale);
    const dy = values(n, 4);
    const heap = new Float32Array(4 * n + 8).fill(Number.NaN);
    heap.set(x, 1);
    heap.set(dy, 1 + 2 * n);
    blas.lrn(heap, rows, c.channels, c.r, c.bias, c.alpha, c.beta, 1, 1 + n);
    expect(maxRelativeError(heap.subarray(1 + n, 1 + 2 * n), referenceLrn(x, c.channels, c.r, c.bias, c.alpha, c.beta).y)).toBeLessThan(1e-5);
    blas.lrnGrad(heap, rows, c.channels, c.r, c.bias, c.alpha, c.beta, 1, 1 + n, 1 + 2 * n, 1 + 3 * n);
    expect(maxRelativeError(heap.subarray(1 + 3 * n, 1 + 4 * n), referenceLrnGrad(x, dy, c.channels, c.r, c.bias, c.alpha, c.beta))).toBeLessThan(1e-5);
    expect(heap[1 + 4 * n]).toBeNaN(); // nothing written past dx
  });

  it('rejects operands outside the heap and coefficients that are not finite numbers', () => {
    const heap = new Float32Array(20).fill(7);
    expect(() => blas.lrn(heap, 2, 5, 2, 1, 1, 0.75, 0, 11)).toThrow(new RangeError('y: floats [11, 21) lie outside the heap of 20 floats'));
    expect(() => blas.lrnGrad(heap, 2, 5, 2, 1, 1, 0.75, 0, 0, -1, 10)).toThrow(/^dy: floats \[-1,/);
    expect(() => blas.lrn(heap, 2, 5, 2, Number.NaN, 1, 0.75, 0, 10)).toThrow(/bias: expected a finite number/);
    expect(() => blas.lrn(heap, -2, 5, 2, 1, 1, 0.75, 0, 10)).toThrow(/rows: expected an integer in \[0, 2\^31\)/);
    expect(heap.every((v) => v === 7)).toBe(true);
  });
});

describe.skipIf(!loaded.ok)('the native channel moments', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;
  const recombine = (out: Float32Array, row: number, c: number): number[] =>
    Array.from({ length: c }, (_, i) => out[2 * row * c + i] + out[(2 * row + 1) * c + i]);

  it('mean and population std per channel within 1e-13 relative of two float64 passes, on a large offset, in place at offsets', () => {
    const [rows, c] = [3001, 5];
    // Channel i: 1000·i + values in [−1, 1) (a float32 sum of n values this far from 0 loses ~1e-4 of the std).
    const x = values(rows * c, 9).map((v, k) => 1000 * (k % c) + v);
    const heap = new Float32Array(rows * c + 4 * c + 3).fill(Number.NaN);
    heap.set(x, 2);
    blas.channelMoments(heap, rows, c, 2, 2 + rows * c);
    const out = heap.subarray(2 + rows * c, 2 + rows * c + 4 * c);
    const [mean, std] = [recombine(out, 0, c), recombine(out, 1, c)];
    for (let i = 0; i < c; i++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += x[r * c + i];
      const m = sum / rows;
      let squares = 0;
      for (let r = 0; r < rows; r++) squares += (x[r * c + i] - m) ** 2;
      expect(Math.abs(mean[i] - m)).toBeLessThan(1e-13 * Math.max(1, Math.abs(m)));
      expect(Math.abs(std[i] - Math.sqrt(squares / rows))).toBeLessThan(1e-13);
    }
    expect(heap[1]).toBeNaN(); // nothing written around the operands
    expect(heap[2 + rows * c + 4 * c]).toBeNaN();
  });

  it('a constant channel has std 0 and its value as the mean; one row is its own mean', () => {
    const heap = Float32Array.of(3.25, -1, 3.25, 2, 3.25, 0.5, 0, 0, 0, 0, 0, 0, 0, 0);
    blas.channelMoments(heap, 3, 2, 0, 6);
    expect(recombine(heap.subarray(6), 0, 2)).toEqual([3.25, 0.5]);
    expect(recombine(heap.subarray(6), 1, 2)[0]).toBe(0);
    blas.channelMoments(heap, 1, 2, 0, 6);
    expect(recombine(heap.subarray(6), 0, 2)).toEqual([3.25, -1]);
    expect(recombine(heap.subarray(6), 1, 2)).toEqual([0, 0]);
  });

  it('rejects operands outside the heap and empty extents, writing nothing', () => {
    const heap = new Float32Array(12).fill(7);
    expect(() => blas.channelMoments(heap, 2, 2, 0, 5)).toThrow(new RangeError('out: floats [5, 13) lie outside the heap of 12 floats'));
    expect(() => blas.channelMoments(heap, 7, 2, 0, 0)).toThrow(/^x: floats \[0, 14\)/);
    expect(() => blas.channelMoments(heap, 0, 2, 0, 0)).toThrow(/at least one row and one channel/);
    expect(heap.every((v) => v === 7)).toBe(true);
  });
});

/** The dense filter [fH, fW, inC, outC] equal to a grouped one [fH, fW, inC/groups, outC]: zero between groups. */
function blockDiagonal(g: NativeConvGeometry, groups: number, w: Float32Array): Float32Array {
  const cin = g.inChannels / groups;
  const cout = g.outChannels / groups;
  const dense = new Float32Array(g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
  for (let tap = 0; tap < g.filterHeight * g.filterWidth; tap++)
    for (let ci = 0; ci < g.inChannels; ci++)
      for (let co = 0; co < g.outChannels; co++) {
        if (Math.floor(ci / cin) !== Math.floor(co / cout)) continue;
        dense[(tap * g.inChannels + ci) * g.outChannels + co] = w[(tap * cin + (ci % cin)) * g.outChannels + co];
      }
  return dense;
}

describe.skipIf(!loaded.ok)('the native grouped convolution', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;
  const CASES: [string, NativeConvGeometry, number][] = [
    ['3×3 stride 2, pad 1, 2 groups', { ...GEOMETRIES[0][1], inChannels: 4, outChannels: 6 }, 2],
    [
      '5×5 pad 2 (CaffeNet conv2), 2 groups',
      {
        ...GEOMETRIES[1][1],
        filterHeight: 5,
        filterWidth: 5,
        dilationHeight: 1,
        dilationWidth: 1,
        padTop: 2,
        padLeft: 2,
        outHeight: 8,
        inChannels: 4,
        outChannels: 4,
      },
      2,
    ],
    ['1×1 pointwise, 3 groups', { ...GEOMETRIES[2][1], inChannels: 6, outChannels: 9 }, 3],
  ];

  it.each(CASES)('equals the dense convolution with a block-diagonal filter, forward and both gradients: %s', (_, g, groups) => {
    const n = sizes(g);
    const wg = n.w / groups;
    const x = values(n.x, 5);
    const w = values(wg, 6);
    const dy = values(n.y, 7);
    const dense = blockDiagonal(g, groups, w);
    const geometry = geometryArray(g);
    // Layout: x, w (grouped), dy, y, dw (grouped), dx, dense filter, dense dw, dense dx, one guard value.
    const at = [0, n.x, n.x + wg, n.x + wg + n.y, n.x + wg + 2 * n.y, n.x + 2 * wg + 2 * n.y, 2 * n.x + 2 * wg + 2 * n.y];
    const heap = new Float32Array(at[6] + 2 * n.w + n.x + 1).fill(Number.NaN);
    heap.set(x, at[0]);
    heap.set(w, at[1]);
    heap.set(dy, at[2]);
    heap.set(dense, at[6]);
    blas.groupedConv2d(heap, geometry, groups, at[0], at[1], -1, NATIVE_ACTIVATIONS.linear, at[3]);
    expect(maxAbsDiff(heap.subarray(at[3], at[3] + n.y), referenceConv(g, x, dense))).toBeLessThan(1e-5);
    blas.groupedConv2dBackpropFilter(heap, geometry, groups, at[0], at[2], at[4]);
    blas.groupedConv2dBackpropInput(heap, geometry, groups, at[2], at[1], at[5]);
    const denseDw = at[6] + n.w;
    const denseDx = denseDw + n.w;
    blas.conv2dBackpropFilter(heap, geometry, at[0], at[2], denseDw);
    blas.conv2dBackpropInput(heap, geometry, at[2], at[6], denseDx);
    const expectedDw = blockDiagonal(g, groups, heap.subarray(at[4], at[4] + wg));
    expect(
      maxAbsDiff(
        expectedDw,
        heap.subarray(denseDw, denseDw + n.w).map((v, i) => (dense[i] === 0 && expectedDw[i] === 0 ? 0 : v)),
      ),
    ).toBeLessThan(1e-5);
    expect(maxAbsDiff(heap.subarray(at[5], at[5] + n.x), heap.subarray(denseDx, denseDx + n.x))).toBeLessThan(1e-5);
    expect(heap[denseDx + n.x]).toBeNaN();
  });

  it('rejects groups that do not divide the channels, and a filter of the dense size outside the heap', () => {
    const g = { ...GEOMETRIES[0][1], inChannels: 4, outChannels: 6 };
    const heap = new Float32Array(sizes(g).x + sizes(g).y + 40);
    expect(() => blas.groupedConv2d(heap, geometryArray(g), 4, 0, 0, -1, 0, 0)).toThrow(
      new RangeError('groups: expected a positive divisor of inChannels 4 and outChannels 6, got 4'),
    );
    expect(() => blas.groupedConv2dBackpropInput(heap, geometryArray(g), 0, 0, 0, 0)).toThrow(/groups: expected a positive divisor/);
    expect(() => blas.groupedConv2dBackpropFilter(heap, geometryArray(g), 2, 0, 0, heap.length - 10)).toThrow(/^dw: floats/);
  });
});

describe.skipIf(!loaded.ok)('the native bias-gradient and ReLU-mask passes', () => {
  const blas = (loaded as { blas: NativeBlas }).blas;

  it('columnSums equals a Float64Array accumulation over the rows bit for bit, in place at offsets', () => {
    const [rows, cols] = [37, 11];
    const x = values(rows * cols, 5).map((v) => v * 1e3);
    const expected = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c] += x[r * cols + c];
    const heap = new Float32Array(rows * cols + cols + 4).fill(Number.NaN);
    heap.set(x, 2);
    blas.columnSums(heap, rows, cols, 2, 2 + rows * cols);
    expect(Array.from(heap.subarray(2 + rows * cols, 2 + rows * cols + cols))).toEqual(Array.from(Float32Array.from(expected)));
    expect(heap[2 + rows * cols + cols]).toBeNaN(); // nothing written past out
    blas.columnSums(heap, 0, cols, 2, 2 + rows * cols);
    expect(heap.subarray(2 + rows * cols, 2 + rows * cols + cols).every((v) => v === 0)).toBe(true);
  });

  it('reluGrad passes dy where y > 0 and zeroes it elsewhere (y = 0 included), keeping NaN', () => {
    const heap = Float32Array.from([9, 1, 0, -2, 3, /* dy */ 5, -6, 7, 8, Number.NaN, /* dx */ 9, 9, 9, 9, 9, 9]);
    blas.reluGrad(heap, 4, 1, 6, 11);
    expect(Array.from(heap.subarray(11, 15))).toEqual([-6, 0, 0, Number.NaN]);
    expect(heap[15]).toBe(9);
  });

  it('rejects operands outside the heap, naming them, before writing anything', () => {
    const heap = new Float32Array(20).fill(7);
    expect(() => blas.columnSums(heap, 4, 5, 1, 0)).toThrow(new RangeError('x: floats [1, 21) lie outside the heap of 20 floats'));
    expect(() => blas.columnSums(heap, 2, 5, 0, 16)).toThrow(/^out: floats \[16, 21\)/);
    expect(() => blas.reluGrad(heap, 5, 0, 5, 16)).toThrow(/^dx: floats \[16, 21\)/);
    expect(() => blas.reluGrad(heap, -1, 0, 5, 10)).toThrow(/count: expected an integer in \[0, 2\^31\)/);
    expect(heap.every((v) => v === 7)).toBe(true);
  });
});
