/**
 * Spec helpers for the wasm kernels: run the same computation on the cpu
 * backend (the reference) and on wasm, moving data only as typed arrays, and
 * check that a kernel frees every wasm buffer it allocates.
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeBlas, type NativeBlas } from '@ddinit/native-blas';
import { expectNoLeakedTensors } from './index';
import { Rng } from '../rng';
import type { BackendWasm } from '../backend/wasm-kernels/wasm-backend';

/** Seeded N(0, 1) values for a tensor of `shape`. */
export function normalData(shape: number[], seed: number): Float32Array {
  return Rng.fromSeed(seed).fillNormal(new Float32Array(shape.reduce((p, d) => p * d, 1)));
}

/**
 * Runs `fn` with `backend` active (inside tidy) and returns its outputs as
 * typed arrays; the previously active backend is restored afterwards.
 */
export async function runOnBackend(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const out = fn();
      return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    await tf.setBackend(previous);
  }
}

/** Number of live buffers in the wasm backend's heap. */
export function wasmDataIds(): number {
  return (tf.findBackend('wasm') as BackendWasm).numDataIds();
}

/**
 * Runs `fn` on the active backend and asserts that it leaves neither a tensor
 * nor a wasm heap buffer behind (so a kernel's intermediates are all released).
 */
export async function expectNoLeaks(fn: () => unknown): Promise<void> {
  const before = wasmDataIds();
  await expectNoLeakedTensors(fn);
  const after = wasmDataIds();
  if (after !== before) throw new Error(`leaked ${after - before} wasm buffer(s): ${before} before, ${after} after`);
}

/** Σ a·b in float64. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The native BLAS addon for specs of the native kernels, or undefined (those
 * specs skip) when it is not built. With DDINIT_NATIVE_BLAS=require (set by
 * .ci/run, which installs libopenblas-dev) a missing addon is an error instead,
 * so CI cannot pass by skipping them.
 */
export function nativeBlasForSpecs(): NativeBlas | undefined {
  const loaded = loadNativeBlas();
  if (loaded.ok) return loaded.blas;
  if (process.env.DDINIT_NATIVE_BLAS === 'require') {
    throw new Error(`DDINIT_NATIVE_BLAS=require but the native BLAS addon is unavailable: ${loaded.reason}`);
  }
  return undefined;
}
