/**
 * Optional native kernels: convolutions and matrix products on OpenBLAS, run on
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
  /** Sets OpenBLAS's thread count. */
  setThreads(threads: number): void;
  /** OpenBLAS's thread count. */
  threads(): number;
  /** OpenBLAS's build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH Haswell MAX_THREADS=64`. */
  config(): string;
}

export type NativeBlasLoad = { ok: true; blas: NativeBlas; config: string; threads: number } | { ok: false; reason: string };

const ADDON_PATH = '../build/Release/ddinit_native_blas.node';

let cached: NativeBlasLoad | undefined;

/**
 * Loads the addon once. `DDINIT_NATIVE_BLAS=0` (or `off`) turns it off;
 * `DDINIT_NATIVE_BLAS_THREADS=n` sets OpenBLAS's threads (default: OpenBLAS's
 * own, one per core).
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
  try {
    blas = createRequire(import.meta.url)(path) as NativeBlas;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND') {
      return {
        ok: false,
        reason:
          'the native kernels are not built (install libopenblas-dev, then `npm rebuild @ddinit/native-blas`)',
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
