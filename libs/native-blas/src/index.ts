/**
 * Optional native kernels: convolutions and matrix products on OpenBLAS, local response
 * normalization in C, and QR and
 * the symmetric eigensolver on the LAPACK it ships, run on
 * float32 buffers in place (the tfjs wasm backend's heap). Built at install by
 * `scripts/build.mjs` when libopenblas-dev is present; when it is not, or when
 * `DDINIT_NATIVE_BLAS=0`, {@link loadNativeBlas} says why and callers keep
 * their portable kernels.
 *
 * This package knows nothing of tfjs: `@ddinit/core/backend` registers the
 * wasm kernels that call it.
 *
 * @example
 * const native = loadNativeBlas();
 * if (native.ok) native.blas.batchMatMul(heap, params);
 * else logger.info(`native BLAS off: ${native.reason}`);
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Activation applied after the bias by the forward kernels. */
export const NATIVE_ACTIVATIONS = { linear: 0, relu: 1, relu6: 2 } as const;
export type NativeActivation = keyof typeof NATIVE_ACTIVATIONS;

/** Indices into the 15-value geometry array the convolution kernels take. */
export const GEOMETRY_FIELDS = [
  'batchSize',
  'inHeight',
  'inWidth',
  'inChannels',
  'outHeight',
  'outWidth',
  'outChannels',
  'filterHeight',
  'filterWidth',
  'strideHeight',
  'strideWidth',
  'dilationHeight',
  'dilationWidth',
  'padTop',
  'padLeft',
] as const;

export type NativeConvGeometry = Record<(typeof GEOMETRY_FIELDS)[number], number>;

/** The geometry as the Int32Array the kernels take. */
export function geometryArray(g: NativeConvGeometry): Int32Array {
  return Int32Array.from(GEOMETRY_FIELDS, (field) => g[field]);
}

/**
 * The addon's functions. Offsets count floats from the start of `heap`; every
 * operand's extent is checked against the heap first (a RangeError names the
 * operand). Layouts are channels-last: x `[batch, inH, inW, inC]`, filter
 * `[fH, fW, inC, outC]`, y and dy `[batch, outH, outW, outC]`.
 */
export interface NativeBlas {
  /** y = act(conv2d(x, filter) + bias); `bias` −1 for none, `activation` from {@link NATIVE_ACTIVATIONS}. */
  conv2d(heap: Float32Array, geometry: Int32Array, x: number, filter: number, bias: number, activation: number, y: number): void;
  /** dw = ∂loss/∂filter from x and dy. */
  conv2dBackpropFilter(heap: Float32Array, geometry: Int32Array, x: number, dy: number, dw: number): void;
  /** dx = ∂loss/∂x from dy and the filter. */
  conv2dBackpropInput(heap: Float32Array, geometry: Int32Array, dy: number, filter: number, dx: number): void;
  /**
   * {@link NativeBlas.conv2d} with channel groups (Caffe's `group`): `groups` divides the in and out
   * channels, the filter is `[fH, fW, inC/groups, outC]`, and group k maps input channels
   * [k·inC/groups, (k+1)·inC/groups) to output channels [k·outC/groups, (k+1)·outC/groups).
   */
  groupedConv2d(heap: Float32Array, geometry: Int32Array, groups: number, x: number, filter: number, bias: number, activation: number, y: number): void;
  /** dw of {@link NativeBlas.groupedConv2d}: `[fH, fW, inC/groups, outC]`. */
  groupedConv2dBackpropFilter(heap: Float32Array, geometry: Int32Array, groups: number, x: number, dy: number, dw: number): void;
  /** dx of {@link NativeBlas.groupedConv2d}. */
  groupedConv2dBackpropInput(heap: Float32Array, geometry: Int32Array, groups: number, dy: number, filter: number, dx: number): void;
  /**
   * c[i] = act(op(a[i])·op(b[i]) + bias) for i < batch. `params`:
   * [batch, transposeA, transposeB, m, n, k, a, aStride, b, bStride, bias (−1: none), activation, c];
   * a stride of 0 broadcasts one matrix over the batch.
   */
  batchMatMul(heap: Float32Array, params: Int32Array): void;
  /**
   * dx = gradient of max pooling from x and dy; the geometry's filter is the window
   * and outChannels = inChannels. The first maximum of a window takes the gradient.
   */
  maxPoolGrad(heap: Float32Array, geometry: Int32Array, x: number, dy: number, dx: number): void;
  /**
   * y = LRN(x) across the last axis of `rows` × `channels` values, as tfjs's
   * `localResponseNormalization`: y_d = x_d · (bias + alpha · Σ_{|d'−d| ≤ depthRadius} x_{d'}²)^(−beta).
   */
  lrn(heap: Float32Array, rows: number, channels: number, depthRadius: number, bias: number, alpha: number, beta: number, x: number, y: number): void;
  /**
   * dx = ∂loss/∂x of {@link NativeBlas.lrn} from x, y and dy, with s_d the scale of channel d:
   * dx_k = dy_k · s_k^(−beta) − 2·alpha·beta · x_k · Σ_{|d−k| ≤ depthRadius} dy_d · y_d / s_d.
   */
  lrnGrad(
    heap: Float32Array,
    rows: number,
    channels: number,
    depthRadius: number,
    bias: number,
    alpha: number,
    beta: number,
    x: number,
    y: number,
    dy: number,
    dx: number,
  ): void;
  /**
   * out[c] = Σ_r x[r·cols + c] over `rows` rows (a bias gradient: dy `[batch, h, w, c]` summed to `[c]`),
   * accumulated in float64 row after row: the same sums, bit for bit, as a Float64Array loop over the rows.
   */
  columnSums(heap: Float32Array, rows: number, cols: number, x: number, out: number): void;
  /** dx = dy · (y > 0 ? 1 : 0) over `count` values: the gradient through y = relu(x), from y (tfjs's dy · step(y)). */
  reluGrad(heap: Float32Array, count: number, y: number, dy: number, dx: number): void;
  /**
   * a (row-major rows×cols at float offset `a`, rows ≥ cols) ← Q of the thin QR A = QR with
   * diag(R) > 0 (sgeqrf, then the reflectors expanded by blocks; unique, so the same Q as CholeskyQR up to rounding).
   * Returns {@link LAPACK_STATUS}.ok, or `.rankDeficient` (some |r_jj| ≤ 1e-5·‖a_j‖, column j
   * nearly in the span of the earlier ones, or a value not finite; a is left unchanged).
   */
  orthonormalizeColumns(heap: Float32Array, rows: number, cols: number, a: number): number;
  /**
   * a (row-major rows×cols at float offset `a`, rows ≥ cols; on entry independent N(0, 1)
   * values) ← a matrix with orthonormal columns distributed uniformly (Haar) on the Stiefel
   * manifold, the distribution of the Q of {@link orthonormalizeColumns} on a Gaussian matrix:
   * for rows ≥ 2·cols that Q itself by Cholesky QR (ssyrk, spotrf, strsm; no transposes),
   * otherwise Stewart's Householder method, which reads only the values on and below the
   * diagonal (only the reflectors' expansion: half the flops of a QR; lapack.h). Returns
   * {@link LAPACK_STATUS}.ok.
   */
  haarOrthonormal(heap: Float32Array, rows: number, cols: number, a: number): number;
  /**
   * The top `count` eigenpairs of the symmetric size×size float32 matrix at float offset `a`
   * (only its row-major upper triangle is read; destroyed), in mixed precision: ssytrd, dstemr (MRRR, float64) on the tridiagonal, sormtr
   * (lapack.h says why float32): eigenvalues descending into `values` (count floats), unit
   * eigenvectors as the columns of the row-major size×count `vectors` (signs as LAPACK
   * leaves them). Returns {@link LAPACK_STATUS}.ok or `.notConverged`.
   */
  symmetricEigen(heap: Float32Array, size: number, count: number, a: number, values: number, vectors: number): number;
  /**
   * Per-channel mean μ_i and population std σ_i of the `rows` × `channels` float32 values at
   * offset `x` (channels last), summed in double after shifting each channel by its first value
   * (the arithmetic of @ddinit/core's `momentsOfValues`, moments.h), written at offset `out` as
   * 4·channels floats: [μ hi; μ lo; σ hi; σ lo], each double v as hi = fround(v), lo = fround(v − hi)
   * (hi + lo is v to ≈ 2⁻⁴⁸ relative). rows, channels ≥ 1.
   */
  channelMoments(heap: Float32Array, rows: number, channels: number, x: number, out: number): void;
  /**
   * Σ x² of the `count` float32 values at offset `x`, in double with four accumulators taking
   * the index mod 4: the same number, bit for bit, as @ddinit/core's JavaScript loop (moments.h).
   */
  sumOfSquares(heap: Float32Array, count: number, x: number): number;
  /**
   * heap[out … out + count) ← the N(0, 1) values @ddinit/core's `fillGaussian` draws from the
   * xoshiro128** state s0 … s3 (32-bit integers, not all 0) with its ziggurat `tables` (X_0 … X_128,
   * then X_{i+1}/X_i: 257 doubles): the same integer steps and double arithmetic, so the same values
   * (src/gaussian.h says where the C library's exp and log could round a rare tail value differently).
   */
  /**
   * The centred scatter of the rows × cols float32 rows at `x` shifted by the cols values at `shift`:
   * mean ← (Σ_r (x_r − shift))/rows (summed in double, then float32), centred ← x − shift − mean
   * (rows × cols, float32, a scratch the caller provides), scatter ← centredᵀ·centred (cols × cols,
   * ssyrk, both triangles). rows ≥ 1. The operands must not overlap.
   */
  /**
   * y ← x·scale + shift per channel over `rows` rows of `channels` float32 values (channels last),
   * the product rounded before the sum: tfjs's add(mul(x, scale), shift), bit for bit, in one pass.
   */
  /**
   * Greedy k-means++ seeds of the rows x (n × d; norms the squared row norms) into `chosen` (k):
   * the first given, then per seed `trials` candidates drawn by the next `trials` of `uniforms`
   * ((k − 1)·trials values in [0, 1)) with probability ∝ the squared distance to the nearest seed,
   * the one lowering the potential most kept (kmeans.h; the JavaScript of @ddinit/core's
   * kmeans-plus-plus.ts, on sgemm: the Gram matrix when `gram` is 1, one product per step when 0).
   */
  kmeansPlusPlus(
    x: Float32Array,
    n: number,
    d: number,
    k: number,
    trials: number,
    norms: Float64Array,
    first: number,
    uniforms: Float64Array,
    gram: number,
    chosen: Int32Array,
  ): void;
  /**
   * The im2col rows of the sampled output positions only (`positions[r]` = (b·outH + oy)·outW + ox, each in
   * [0, batch·outH·outW)), written group after group to `out` as [groups, rows, F], F = fH·fW·inC/groups,
   * zeros outside the image (conv.h): the patch rows of @ddinit/init-within-layer's gatherPatches.
   */
  gatherPatches(heap: Float32Array, geometry: Int32Array, groups: number, x: number, positions: Int32Array, out: number): void;
  /**
   * The nearest of the k centres (k × d) of every row x_i (n × d): its index into `labels` and
   * max(0, norms[i] + ‖c‖² − 2·x_i·c) into `distances` (kmeans.h; @ddinit/core's nearest-centres.ts on sgemm).
   */
  nearestCentres(
    x: Float32Array,
    n: number,
    d: number,
    centres: Float32Array,
    k: number,
    norms: Float64Array,
    labels: Int32Array,
    distances: Float64Array,
  ): void;
  channelAffine(heap: Float32Array, rows: number, channels: number, x: number, scale: number, shift: number, y: number): void;
  centredScatter(heap: Float32Array, rows: number, cols: number, x: number, shift: number, centred: number, mean: number, scatter: number): void;
  fillGaussian(heap: Float32Array, count: number, out: number, s0: number, s1: number, s2: number, s3: number, tables: Float64Array): void;
  /** Sets OpenBLAS's thread count. */
  setThreads(threads: number): void;
  /** OpenBLAS's thread count. */
  threads(): number;
  /** OpenBLAS's build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell MAX_THREADS=64`. */
  config(): string;
}

/** What the LAPACK entry points return (lapack.h). */
export const LAPACK_STATUS = { ok: 0, rankDeficient: 1, notConverged: 2 } as const;

export type NativeBlasLoad = { ok: true; blas: NativeBlas; config: string; threads: number } | { ok: false; reason: string };

const ADDON_PATH = '../build/Release/ddinit_native_blas.node';

let cached: NativeBlasLoad | undefined;

/**
 * OpenBLAS core types (kernel sets) by the x86-64 CPU features their kernels use, best
 * first. OpenBLAS picks one at load time from the CPU model, and falls back to the
 * SSE3 `Prescott` kernels on a model it does not know: Debian 12's 0.3.21 does so on
 * this project's CI VMs (Sapphire Rapids), where its sgemm then runs ~5× slower than
 * with `SkylakeX` (docs/RESULTS.md).
 */
const CORE_TYPES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['SkylakeX', ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl', 'avx2', 'fma']],
  ['Haswell', ['avx2', 'fma']],
];

/**
 * The OpenBLAS core type to force for a CPU with these feature flags (the `flags` line of
 * /proc/cpuinfo), or undefined to leave OpenBLAS's own choice.
 * @example openBlasCoreType(new Set(['avx2', 'fma'])) // 'Haswell'
 */
export function openBlasCoreType(flags: ReadonlySet<string>): string | undefined {
  return CORE_TYPES.find(([, needs]) => needs.every((flag) => flags.has(flag)))?.[0];
}

/** The CPU feature flags of /proc/cpuinfo (empty where there is none, e.g. not Linux, or not x86-64). */
function cpuFlags(): Set<string> {
  if (process.arch !== 'x64') return new Set();
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    return new Set(line?.[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/**
 * Loads the addon once. `DDINIT_NATIVE_BLAS=0` (or `off`) turns it off;
 * `DDINIT_NATIVE_BLAS_THREADS=n` sets OpenBLAS's threads (default: OpenBLAS's
 * own, one per core). Unless `OPENBLAS_CORETYPE` is set, it is set before the load to
 * the best kernel set the CPU's flags allow ({@link openBlasCoreType}); OpenBLAS reads it
 * once, when the library loads.
 */
export function loadNativeBlas(env: Record<string, string | undefined> = process.env): NativeBlasLoad {
  const setting = env.DDINIT_NATIVE_BLAS;
  if (setting === '0' || setting === 'off') return { ok: false, reason: `turned off by DDINIT_NATIVE_BLAS=${setting}` };
  if (cached !== undefined) return cached;
  cached = loadNativeBlasFrom(ADDON_PATH, env);
  return cached;
}

/**
 * Loads the addon at `path` (relative to this module), uncached: what
 * {@link loadNativeBlas} does once. Exported for the specs of the fallback path.
 */
export function loadNativeBlasFrom(path: string, env: Record<string, string | undefined> = process.env): NativeBlasLoad {
  let blas: NativeBlas;
  const coreType = env.OPENBLAS_CORETYPE === undefined ? openBlasCoreType(cpuFlags()) : undefined;
  // OpenBLAS reads the process environment (getenv) when the addon loads it.
  if (coreType !== undefined) process.env.OPENBLAS_CORETYPE = coreType;
  try {
    blas = createRequire(import.meta.url)(path) as NativeBlas;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND') {
      return {
        ok: false,
        reason: 'the native kernels are not built (install libopenblas-dev, then `npm rebuild @ddinit/native-blas`)',
      };
    }
    return { ok: false, reason: `the native kernels failed to load: ${e.message ?? String(error)}` };
  }
  const threads = env.DDINIT_NATIVE_BLAS_THREADS;
  if (threads !== undefined) {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1) {
      return { ok: false, reason: `DDINIT_NATIVE_BLAS_THREADS must be a positive integer, got '${threads}'` };
    }
    blas.setThreads(n);
  }
  return { ok: true, blas, config: blas.config(), threads: blas.threads() };
}
